"""Run search in SQL: the filter DSL compiled to SQLAlchemy Core, and offset page tokens.

Every value and every key is a bound parameter; only column and table names are SQL.
"""

from __future__ import annotations

import base64
import hashlib
import json
import operator
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Connection,
    Double,
    FromClause,
    Select,
    Table,
    and_,
    func,
    literal,
    not_,
    or_,
    select,
)

from noria.backends.sql.tables import latest_metrics, params, run_tags, runs
from noria.domain.run_filter import (
    AllOf,
    AnyOf,
    Comparison,
    Entity,
    FilterExpr,
    Op,
    OrderKey,
    Scalar,
    parse_filter,
    parse_order_by,
)
from noria.domain.tracking import RunSearch
from noria.errors import InvalidArgument

_r = runs.c
_TABLES: dict[Entity, Table] = {
    Entity.METRIC: latest_metrics,
    Entity.PARAM: params,
    Entity.TAG: run_tags,
}
_COLUMNS: dict[str, ColumnElement[Any]] = {
    "run_id": _r.id,
    "run_name": _r.name,
    "status": _r.status,
    "user_id": _r.user_id,
    "start_time": _r.start_time,
    "end_time": _r.end_time,
    "experiment_id": _r.experiment_id,
    "lifecycle_stage": _r.lifecycle_stage,
    "parent_id": _r.parent_id,
}
_TEXT_ATTRIBUTES = frozenset(
    {"run_id", "run_name", "status", "user_id", "experiment_id", "lifecycle_stage", "parent_id"}
)
_COMPARE: dict[Op, Callable[[Any, Any], ColumnElement[bool]]] = {
    Op.EQ: operator.eq,
    Op.NE: operator.ne,
    Op.LT: operator.lt,
    Op.LE: operator.le,
    Op.GT: operator.gt,
    Op.GE: operator.ge,
}
INDEX_WALK_FROM = 10_000
_INT64 = 2**63
_MAX_OFFSET = 2**53


@dataclass(frozen=True, slots=True)
class _Context:
    dialect: str  # "sqlite" or "postgresql": LIKE and text ordering differ
    now: int  # ms; the duration of unfinished runs, pinned for all pages of a search


def search_run_ids(
    connection: Connection, search: RunSearch, *, index_walk_from: int = INDEX_WALK_FROM
) -> tuple[list[str], str | None]:
    """One page of the ids of the runs ``search`` matches, in order, and the next page token.

    ``index_walk_from``: how many runs the searched experiments must hold before a page
    ordered by a filtered metric is read off the metric index (see ``_walkable``).
    """
    conjuncts = _conjuncts(parse_filter(search.filter))
    order = parse_order_by(search.order_by)
    fingerprint = _fingerprint(search)
    offset, now = _read_token(search.page_token, fingerprint)
    context = _Context(connection.dialect.name, now)
    walk = _walkable(conjuncts, order)
    if walk is not None and not _holds_many_runs(connection, search, index_walk_from):
        walk = None
    statement = _statement(search, conjuncts, order=order, context=context, walk=walk)
    # One extra row tells whether another page exists without a COUNT.
    rows = connection.execute(statement.limit(search.limit + 1).offset(offset)).scalars()
    ids = [str(run_id) for run_id in rows]
    if len(ids) <= search.limit:
        return ids, None
    return ids[: search.limit], _write_token(offset + search.limit, fingerprint, now)


def _scope(search: RunSearch) -> list[ColumnElement[bool]]:
    return [
        _r.experiment_id.in_(sorted(set(search.experiment_ids))),
        _r.lifecycle_stage.in_([stage.value for stage in search.view.stages()]),
    ]


def _holds_many_runs(connection: Connection, search: RunSearch, threshold: int) -> bool:
    """Whether the searched experiments hold over ``threshold`` runs; counts no further."""
    # experiment_id, not id: the (experiment_id, lifecycle_stage, …) index alone answers.
    some = select(_r.experiment_id).where(*_scope(search)).limit(threshold + 1).subquery()
    return int(connection.execute(select(func.count()).select_from(some)).scalar_one()) > threshold


def _walkable(conjuncts: list[FilterExpr], order: Sequence[OrderKey]) -> Comparison | None:
    """A required comparison on the metric the page is first ordered by, if any.

    The page can then be read in order off the (key, value) index, stopping at its
    end, instead of sorting every run that matches. That wins for big experiments;
    for small ones, among many, walking the index would visit other experiments'
    runs, so the caller only walks for experiments holding many runs.
    """
    if not order or order[0].entity is not Entity.METRIC:
        return None
    for part in conjuncts:
        if (
            isinstance(part, Comparison)
            and (part.entity, part.key) == (Entity.METRIC, order[0].key)
            and part.op in _COMPARE  # a value comparison, which rules out NaN and missing
        ):
            return part
    return None


def _statement(
    search: RunSearch,
    conjuncts: list[FilterExpr],
    *,
    order: Sequence[OrderKey],
    context: _Context,
    walk: Comparison | None,
) -> Select[tuple[str]]:
    source: FromClause = runs
    terms: list[ColumnElement[Any]] = []
    for index, key in enumerate(order):
        if key.entity is Entity.ATTRIBUTE:
            terms += _attribute_order(key, context)
            continue
        table = _TABLES[key.entity].alias(f"order_{index}")
        joined = and_(table.c.run_id == _r.id, table.c.key == key.key)
        if index == 0 and walk is not None:
            source = source.join(table, and_(joined, _compare(table.c.value, walk, context)))
        else:
            source = source.outerjoin(table, joined)
            terms.append(table.c.run_id.is_(None))  # runs without the key come last
            if key.entity is Entity.METRIC:
                terms.append(table.c.value.is_(None))  # then NaN, stored as NULL
        terms.append(_direction(table.c.value, key, context))
    conditions = [_condition(part, context) for part in conjuncts if part is not walk]
    return (
        select(_r.id)
        .select_from(source)
        .where(*_scope(search), *conditions)
        .order_by(*terms, _r.start_time.desc(), _r.id.asc())
    )


def _conjuncts(expression: FilterExpr | None) -> list[FilterExpr]:
    """The parts that must all hold: ``a AND (b AND c)`` gives [a, b, c]."""
    if expression is None:
        return []
    if isinstance(expression, AllOf):
        return [leaf for part in expression.parts for leaf in _conjuncts(part)]
    return [expression]


def _attribute_order(key: OrderKey, context: _Context) -> list[ColumnElement[Any]]:
    column = _attribute(key.key, context)
    terms = [column.is_(None)] if key.key == "end_time" else []  # unfinished runs last
    return [*terms, _direction(column, key, context)]


def _direction(column: ColumnElement[Any], key: OrderKey, context: _Context) -> ColumnElement[Any]:
    attribute = key.entity is Entity.ATTRIBUTE
    text = key.key in _TEXT_ATTRIBUTES if attribute else key.entity is not Entity.METRIC
    if text and context.dialect == "postgresql":
        column = column.collate("C")  # byte order, as SQLite sorts, not the locale's
    return column.desc() if key.descending else column.asc()


def _condition(node: FilterExpr, context: _Context) -> ColumnElement[bool]:
    if isinstance(node, AllOf):
        return and_(*(_condition(part, context) for part in node.parts))
    if isinstance(node, AnyOf):
        return or_(*(_condition(part, context) for part in node.parts))
    if node.entity is Entity.ATTRIBUTE:
        return _compare(_attribute(node.key, context), node, context)
    table = _TABLES[node.entity].alias()
    found = select(table.c.run_id).where(table.c.run_id == _r.id, table.c.key == node.key)
    if node.op is Op.IS_NULL:
        return not_(found.correlate(runs).exists())
    if node.op is Op.IS_NOT_NULL:
        return found.correlate(runs).exists()
    # A NaN metric is a NULL value, which no comparison matches.
    return found.where(_compare(table.c.value, node, context)).correlate(runs).exists()


def _attribute(name: str, context: _Context) -> ColumnElement[Any]:
    if name == "duration":
        now = literal(context.now, BigInteger)
        return func.coalesce(_r.end_time, now) - _r.start_time
    return _COLUMNS[name]


def _compare(
    column: ColumnElement[Any], node: Comparison, context: _Context
) -> ColumnElement[bool]:
    op, value = node.op, node.value
    if op in _COMPARE:
        return _COMPARE[op](column, _bind(value))
    if op is Op.IN or op is Op.NOT_IN:
        values = list(value) if isinstance(value, tuple) else [value]
        return column.in_(values) if op is Op.IN else column.not_in(values)
    if op is Op.IS_NULL:
        return column.is_(None)
    if op is Op.IS_NOT_NULL:
        return column.is_not(None)
    return _like(column, op, str(value), context)


def _like(
    column: ColumnElement[Any], op: Op, pattern: str, context: _Context
) -> ColumnElement[bool]:
    like, glob = like_patterns(pattern)
    if op is Op.ILIKE:
        return column.ilike(like, escape="\\")
    if op is Op.NOT_ILIKE:
        return column.not_ilike(like, escape="\\")
    # SQLite's LIKE ignores case; its GLOB does not. Statement-local, unlike a PRAGMA.
    if context.dialect == "sqlite":
        matched = column.op("GLOB", is_comparison=True)(glob)
    else:
        matched = column.like(like, escape="\\")
    return matched if op is Op.LIKE else not_(matched)


def _bind(value: Scalar | tuple[Scalar, ...] | None) -> Any:
    """Numbers bound with an explicit type, so that no driver casts 1.5 to a BIGINT."""
    if isinstance(value, float):
        return literal(value, Double)
    if isinstance(value, int):
        if -_INT64 <= value < _INT64:
            return literal(value, BigInteger)
        return literal(float(value), Double)
    return value


def like_patterns(pattern: str) -> tuple[str, str]:
    """A LIKE pattern (``%``, ``_``, ``\\`` escapes) as LIKE with ESCAPE '\\', and as GLOB."""
    like: list[str] = []
    glob: list[str] = []
    chars = iter(pattern)
    for char in chars:
        if char in "%_":
            like.append(char)
            glob.append("*" if char == "%" else "?")
            continue
        literal_char = next(chars, "\\") if char == "\\" else char  # a trailing \ is itself
        like.append("\\" + literal_char if literal_char in "%_\\" else literal_char)
        glob.append(f"[{literal_char}]" if literal_char in "*?[" else literal_char)
    return "".join(like), "".join(glob)


def _fingerprint(search: RunSearch) -> str:
    """What a page token is bound to: the search without its limit and page."""
    material = [
        sorted(set(search.experiment_ids)),
        search.filter,
        list(search.order_by),
        search.view.value,
    ]
    return hashlib.sha256(json.dumps(material).encode()).hexdigest()[:16]


def _write_token(offset: int, fingerprint: str, now: int) -> str:
    raw = json.dumps({"o": offset, "q": fingerprint, "t": now}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _read_token(token: str | None, fingerprint: str) -> tuple[int, int]:
    """The offset and pinned time a token carries; a fresh start for no token."""
    if not token:
        return 0, time.time_ns() // 1_000_000
    shown = token if len(token) <= 100 else token[:100] + "…"
    fields = _token_fields(token)
    if fields is None:
        raise InvalidArgument(
            f"Invalid page token {shown!r}: pass the next_page_token of the previous page "
            "unchanged, or start again without page_token."
        )
    offset, query, now = fields
    if query != fingerprint:
        raise InvalidArgument(
            f"Page token {shown!r} was issued for a different search (other experiments, "
            "filter, order_by or view); start again without page_token."
        )
    return offset, now


def _token_fields(token: str) -> tuple[int, str, int] | None:
    try:
        data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except ValueError:  # bad base64, bad UTF-8 and bad JSON are all ValueErrors
        return None
    if not isinstance(data, dict):
        return None
    offset, query, now = data.get("o"), data.get("q"), data.get("t")
    if type(offset) is not int or type(now) is not int or not isinstance(query, str):
        return None  # type() rather than isinstance(): JSON true is no offset
    return (offset, query, now) if 0 <= offset <= _MAX_OFFSET else None
