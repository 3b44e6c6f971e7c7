"""Run search in SQL: the filter DSL compiled to SQLAlchemy Core, and offset page tokens.

Every value and every key is a bound parameter; only column and table names are SQL.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import operator
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import Enum
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
    bindparam,
    func,
    literal,
    not_,
    or_,
    select,
)
from sqlalchemy.engine import Result

from noria.backends.sql.tables import metric_series, params, run_tags, runs
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
from noria.domain.tracking import RunSearch, ViewType
from noria.errors import InvalidArgument

_r = runs.c
_TABLES: dict[Entity, Table] = {
    Entity.METRIC: metric_series,
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


class _Part(Enum):
    """Which runs a statement reads, for a page ordered first by a metric."""

    EVERY = "every"  # all matching runs, sorted
    VALUED = "valued"  # those with a value of the metric, read off the (key, value) index
    UNVALUED = "unvalued"  # the others (NaN, then no such metric), which sort after them


@dataclass(frozen=True, slots=True)
class _Shape:
    """What decides a search's SQL: all of it but the page and the pinned time."""

    experiment_ids: tuple[str, ...]  # distinct, sorted
    filter: str
    order_by: tuple[str, ...]
    view: ViewType
    dialect: str

    @classmethod
    def of(cls, search: RunSearch, dialect: str) -> _Shape:
        experiments = tuple(sorted(set(search.experiment_ids)))
        return cls(experiments, search.filter, tuple(search.order_by), search.view, dialect)


@dataclass(frozen=True, slots=True)
class _Plan:
    shape: _Shape
    conjuncts: tuple[FilterExpr, ...]
    order: tuple[OrderKey, ...]
    walk: Comparison | None  # a required value comparison on the first order metric

    @property
    def context(self) -> _Context:
        return _Context(self.shape.dialect)


# "now" is bound at execution: the duration of unfinished runs, pinned for all pages.
_NOW = bindparam("now", type_=BigInteger)


def search_run_ids(
    connection: Connection, search: RunSearch, *, index_walk_from: int = INDEX_WALK_FROM
) -> tuple[list[str], str | None]:
    """One page of the ids of the runs ``search`` matches, in order, and the next page token.

    ``index_walk_from``: how many runs the searched experiments must hold before a page
    ordered by a metric is read off the metric index (see ``_page_by_index``).
    """
    shape = _Shape.of(search, connection.dialect.name)
    plan = _plan(shape)
    fingerprint = _fingerprint(search)
    offset, now = _read_token(search.page_token, fingerprint)
    page = _Page(connection, shape, now)
    # One extra row tells whether another page exists without a COUNT.
    wanted = search.limit + 1
    by_metric = bool(plan.order) and plan.order[0].entity is Entity.METRIC
    if by_metric and _holds_many_runs(connection, shape, index_walk_from):
        ids = _page_by_index(page, plan, offset, wanted)
    else:
        ids = page.rows(_Part.EVERY, offset, wanted)
    if len(ids) <= search.limit:
        return ids, None
    return ids[: search.limit], _write_token(offset + search.limit, fingerprint, now)


@dataclass(frozen=True, slots=True)
class _Page:
    """Reads the runs of one part of a search, at one pinned time."""

    connection: Connection
    shape: _Shape
    now: int

    def rows(self, part: _Part, offset: int, count: int) -> list[str]:
        statement = _statement(self.shape, part).limit(count).offset(offset)
        return [str(run_id) for run_id in self._execute(statement).scalars()]

    def count(self, part: _Part) -> int:
        counted = select(func.count()).select_from(_statement(self.shape, part).subquery())
        return int(self._execute(counted).scalar_one())

    def _execute(self, statement: Select[Any]) -> Result[Any]:
        return self.connection.execute(statement, {"now": self.now})


def _page_by_index(page: _Page, plan: _Plan, offset: int, wanted: int) -> list[str]:
    """A page ordered first by a metric, for experiments holding many runs.

    The runs with a value of that metric come first in its order, so they are read off
    the (key, value) index, stopping as soon as the page is full, instead of sorting
    every run that matches. Only when they run out does the page go on with the runs
    without a value (NaN, then none), in the order every other search uses. For small
    experiments among many, walking the index would visit other experiments' runs, so
    the caller only walks for experiments holding many runs.
    """
    ids = page.rows(_Part.VALUED, offset, wanted)
    if len(ids) == wanted or plan.walk is not None:  # a comparison rules out the others
        return ids
    # This page holds the last valued runs, or there were none: the others start here.
    skip = 0 if ids or offset == 0 else offset - page.count(_Part.VALUED)
    return ids + page.rows(_Part.UNVALUED, skip, wanted - len(ids))


def _scope(shape: _Shape) -> list[ColumnElement[bool]]:
    return [
        _r.experiment_id.in_(shape.experiment_ids),
        _r.lifecycle_stage.in_([stage.value for stage in shape.view.stages()]),
    ]


def _holds_many_runs(connection: Connection, shape: _Shape, threshold: int) -> bool:
    """Whether the searched experiments hold over ``threshold`` runs; counts no further."""
    # experiment_id, not id: the (experiment_id, lifecycle_stage, …) index alone answers.
    some = select(_r.experiment_id).where(*_scope(shape)).limit(threshold + 1).subquery()
    return int(connection.execute(select(func.count()).select_from(some)).scalar_one()) > threshold


# Parsing and building a statement cost about a millisecond, a tenth of a whole search
# of 2,000 runs; a notebook or a UI asks the same search again and again.
@functools.lru_cache(maxsize=256)
def _plan(shape: _Shape) -> _Plan:
    conjuncts = tuple(_conjuncts(parse_filter(shape.filter)))
    order = tuple(parse_order_by(shape.order_by))
    return _Plan(shape, conjuncts, order, _walkable(conjuncts, order))


def _walkable(conjuncts: Sequence[FilterExpr], order: Sequence[OrderKey]) -> Comparison | None:
    """A required value comparison on the metric the page is first ordered by, if any:
    it rules out NaN and missing values, so the index walk is the whole answer."""
    if not order or order[0].entity is not Entity.METRIC:
        return None
    for part in conjuncts:
        if (
            isinstance(part, Comparison)
            and (part.entity, part.key) == (Entity.METRIC, order[0].key)
            and part.op in _COMPARE
        ):
            return part
    return None


@functools.lru_cache(maxsize=256)
def _statement(shape: _Shape, part: _Part) -> Select[tuple[str]]:
    plan = _plan(shape)
    context = plan.context
    source: FromClause = runs
    terms: list[ColumnElement[Any]] = []
    # The VALUED part's join applies the walked comparison itself.
    folded = plan.walk if part is _Part.VALUED else None
    conditions = [_condition(node, context) for node in plan.conjuncts if node is not folded]
    for index, key in enumerate(plan.order):
        if key.entity is Entity.ATTRIBUTE:
            terms += _attribute_order(key, context)
            continue
        table = _TABLES[key.entity].alias(f"order_{index}")
        joined = and_(table.c.run_id == _r.id, table.c.key == key.key)
        if index == 0 and part is _Part.VALUED:
            valued: ColumnElement[bool] = table.c.value.is_not(None)
            if plan.walk is not None:
                valued = _compare(table.c.value, plan.walk, context)
            source = source.join(table, and_(joined, valued))
        else:
            source = source.outerjoin(table, joined)
            terms.append(table.c.run_id.is_(None))  # runs without the key come last
            if key.entity is Entity.METRIC:
                terms.append(table.c.value.is_(None))  # then NaN, stored as NULL
            if index == 0 and part is _Part.UNVALUED:
                conditions.append(table.c.value.is_(None))
        terms.append(_direction(table.c.value, key, context))
    return (
        select(_r.id)
        .select_from(source)
        .where(*_scope(shape), *conditions)
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
        return func.coalesce(_r.end_time, _NOW) - _r.start_time
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
