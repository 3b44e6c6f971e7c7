"""Lineage edges in SQL: idempotent inserts and a level-by-level graph walk."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Connection, Insert, Row, and_, func, or_, select
from sqlalchemy.dialects import postgresql, sqlite

from noria.backends.sql.database import SqlDatabase
from noria.backends.sql.tables import from_epoch_us, lineage_edges, to_epoch_us
from noria.domain.entities import EntityKind, EntityRef
from noria.domain.lineage import Direction, LineageEdge, LineageStep, Relation, check_depth

# Rows per INSERT and nodes per IN list: well below SQLite's and PostgreSQL's
# bound-parameter limits, large enough that typical calls take one statement.
INSERT_CHUNK = 1000
FRONTIER_CHUNK = 500

_t = lineage_edges.c
T = TypeVar("T")


def _chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _edge_row(edge: LineageEdge, recorded_at: int) -> dict[str, Any]:
    return {
        "upstream_kind": edge.upstream.kind.value,
        "upstream_key": edge.upstream.key,
        "relation": edge.relation.value,
        "downstream_kind": edge.downstream.kind.value,
        "downstream_key": edge.downstream.key,
        "recorded_at": recorded_at,
    }


def _insert_ignoring_duplicates(connection: Connection) -> Insert:
    if connection.dialect.name == "postgresql":
        return postgresql.insert(lineage_edges).on_conflict_do_nothing()
    return sqlite.insert(lineage_edges).on_conflict_do_nothing()


def _step(row: Row[Any], depth: int) -> LineageStep:
    edge = LineageEdge(
        upstream=EntityRef(EntityKind(row.upstream_kind), row.upstream_key),
        relation=Relation(row.relation),
        downstream=EntityRef(EntityKind(row.downstream_kind), row.downstream_key),
    )
    return LineageStep(edge=edge, depth=depth, recorded_at=from_epoch_us(row.recorded_at))


class SqlLineageRepo:
    def __init__(self, database: SqlDatabase) -> None:
        self._db = database

    def add_edges(self, edges: Sequence[LineageEdge]) -> int:
        """Record edges in one transaction; returns how many were not recorded before."""
        self._db.ensure_ready()
        # Sorted so that concurrent PostgreSQL writers lock rows in the same order.
        unique = sorted(set(edges), key=_sort_key)
        if not unique:
            return 0

        def work(connection: Connection) -> int:
            now = to_epoch_us(datetime.now(UTC), "recorded_at")
            rows = [_edge_row(edge, now) for edge in unique]
            inserted = 0
            for chunk in _chunks(rows, INSERT_CHUNK):
                # RETURNING lists only the rows inserted; rowcount is not portable here.
                statement = _insert_ignoring_duplicates(connection).values(chunk)
                inserted += len(connection.execute(statement.returning(_t.id)).all())
            return inserted

        return self._db.write(work)

    def walk(self, start: EntityRef, direction: Direction, *, depth: int) -> list[LineageStep]:
        """Breadth-first from ``start``, one query per level; each node is expanded once."""
        check_depth(depth)
        self._db.ensure_ready()
        return self._db.read(lambda connection: _walk(connection, start, direction, depth))

    def count(self) -> int:
        self._db.ensure_ready()
        statement = select(func.count()).select_from(lineage_edges)
        return self._db.read(lambda c: int(c.execute(statement).scalar_one()))


def _sort_key(edge: LineageEdge) -> tuple[str, ...]:
    up, down = edge.upstream, edge.downstream
    return (up.kind.value, up.key, edge.relation.value, down.kind.value, down.key)


def _walk(
    connection: Connection, start: EntityRef, direction: Direction, depth: int
) -> list[LineageStep]:
    visited = {start}
    frontier = [start]
    steps: list[LineageStep] = []
    for level in range(1, depth + 1):
        if not frontier:
            break
        rows = _edges_touching(connection, frontier, direction)
        level_steps = [_step(row, level) for row in rows]
        steps.extend(level_steps)
        frontier = []
        for step in level_steps:
            far = step.edge.end(direction)
            if far not in visited:
                visited.add(far)
                frontier.append(far)
    return steps


def _edges_touching(
    connection: Connection, nodes: Sequence[EntityRef], direction: Direction
) -> list[Row[Any]]:
    """Edges whose near end (downstream when walking upstream) is one of ``nodes``."""
    kind_col, key_col = (
        (_t.downstream_kind, _t.downstream_key)
        if direction is Direction.UPSTREAM
        else (_t.upstream_kind, _t.upstream_key)
    )
    rows: list[Row[Any]] = []
    for chunk in _chunks(nodes, FRONTIER_CHUNK):
        query = select(lineage_edges).where(_matches(chunk, kind_col, key_col))
        rows.extend(connection.execute(query))
    # Recording order within a level keeps results stable across chunks and databases.
    rows.sort(key=lambda row: row.id)
    return rows


def _matches(
    nodes: Iterable[EntityRef], kind_col: ColumnElement[str], key_col: ColumnElement[str]
) -> ColumnElement[bool]:
    # kind = ? AND key IN (...) per kind: plain IN lists that both databases index well.
    keys_by_kind: defaultdict[EntityKind, list[str]] = defaultdict(list)
    for node in nodes:
        keys_by_kind[node.kind].append(node.key)
    return or_(
        *(
            and_(kind_col == kind.value, key_col.in_(keys))
            for kind, keys in sorted(keys_by_kind.items())
        )
    )
