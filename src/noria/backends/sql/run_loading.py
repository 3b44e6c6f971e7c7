"""Reading runs: whole Run objects for a list of ids, single rows, metric histories.

A page of runs costs five queries (runs, params, tags, latest metrics, inputs)
per chunk of ids, whatever the page size, instead of four per run.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from operator import itemgetter
from typing import Any, TypeVar

from sqlalchemy import Connection, Row, Table, select
from sqlalchemy.exc import DBAPIError

from noria.backends.sql.tables import latest_metrics, params, run_inputs, run_tags, runs
from noria.domain.tracking import (
    LifecycleStage,
    Metric,
    MetricHistory,
    Run,
    RunInfo,
    RunInput,
    RunStatus,
)
from noria.errors import InvalidArgument, NotFound

# Ids per IN list: well below SQLite's and PostgreSQL's bound-parameter limits.
ID_CHUNK = 500

T = TypeVar("T")
_r = runs.c


def chunked(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


@contextmanager
def driver_cursor(connection: Connection, sql: str) -> Iterator[Any]:
    """A DBAPI cursor in the connection's transaction, for the few hot paths where
    SQLAlchemy's row objects cost more than the query. Driver errors come out
    wrapped as SQLAlchemy's, so ``run_transaction`` still retries and describes them."""
    dbapi_error = connection.dialect.loaded_dbapi.Error
    cursor = connection.connection.cursor()
    try:
        yield cursor
    except dbapi_error as exc:
        raise DBAPIError.instance(sql, None, exc, dbapi_error, dialect=connection.dialect) from exc
    finally:
        cursor.close()


def run_not_found(run_id: str) -> NotFound:
    return NotFound(f"Run {run_id!r} not found: check the run id (search_runs lists runs).")


def run_row(connection: Connection, run_id: str) -> Row[Any]:
    """The ``runs`` row of ``run_id``; ``NotFound`` when there is none."""
    row = connection.execute(select(runs).where(_r.id == run_id)).first()
    if row is None:
        raise run_not_found(run_id)
    return row


def require_active_run(connection: Connection, run_id: str) -> Row[Any]:
    """The run's row, refusing a soft-deleted run: nothing may be logged to it."""
    row = run_row(connection, run_id)
    if row.lifecycle_stage != LifecycleStage.ACTIVE:
        raise InvalidArgument(f"Run {run_id!r} is deleted: restore it before changing it.")
    return row


def run_info(row: Row[Any]) -> RunInfo:
    return RunInfo(
        id=row.id,
        experiment_id=row.experiment_id,
        name=row.name,
        status=RunStatus(row.status),
        start_time=row.start_time,
        end_time=row.end_time,
        lifecycle_stage=LifecycleStage(row.lifecycle_stage),
        user=row.user_id,
        parent_id=row.parent_id,
    )


def load_runs(connection: Connection, run_ids: Sequence[str]) -> list[Run]:
    """Full runs in the order of ``run_ids``; ids with no run are left out."""
    loaded: dict[str, Run] = {}
    for chunk in chunked(list(dict.fromkeys(run_ids)), ID_CHUNK):
        loaded.update(_load_chunk(connection, chunk))
    return [loaded[run_id] for run_id in run_ids if run_id in loaded]


def _load_chunk(connection: Connection, run_ids: Sequence[str]) -> dict[str, Run]:
    infos = connection.execute(select(runs).where(_r.id.in_(run_ids))).all()
    if not infos:
        return {}
    found = [row.id for row in infos]
    param_values = _key_values(connection, params, found)
    tag_values = _key_values(connection, run_tags, found)
    latest = _latest(connection, found)
    inputs = _inputs(connection, found)
    return {
        row.id: Run(
            info=run_info(row),
            params=param_values[row.id],
            metrics=latest[row.id],
            tags=tag_values[row.id],
            inputs=inputs[row.id],
        )
        for row in infos
    }


def _key_values(
    connection: Connection, table: Table, run_ids: Sequence[str]
) -> defaultdict[str, dict[str, str]]:
    c = table.c
    query = select(c.run_id, c.key, c.value).where(c.run_id.in_(run_ids)).order_by(c.key)
    values: defaultdict[str, dict[str, str]] = defaultdict(dict)
    for run_id, key, value in connection.execute(query):
        values[run_id][key] = value
    return values


def _latest(connection: Connection, run_ids: Sequence[str]) -> defaultdict[str, dict[str, Metric]]:
    c = latest_metrics.c
    query = (
        select(c.run_id, c.key, c.value, c.timestamp, c.step)
        .where(c.run_id.in_(run_ids))
        .order_by(c.key)
    )
    latest: defaultdict[str, dict[str, Metric]] = defaultdict(dict)
    for run_id, key, value, timestamp, step in connection.execute(query):
        # NULL stands for NaN: SQLite cannot store NaN at all.
        latest[run_id][key] = Metric(key, math.nan if value is None else value, timestamp, step)
    return latest


def _inputs(connection: Connection, run_ids: Sequence[str]) -> defaultdict[str, list[RunInput]]:
    c = run_inputs.c
    query = select(run_inputs).where(c.run_id.in_(run_ids)).order_by(c.id)
    inputs: defaultdict[str, list[RunInput]] = defaultdict(list)
    for row in connection.execute(query):
        inputs[row.run_id].append(
            RunInput(
                name=row.name,
                digest=row.digest,
                source_type=row.source_type,
                source=row.source,
                schema=row.schema,
                profile=row.profile,
                context=row.context,
            )
        )
    return inputs


def read_history(connection: Connection, run_id: str, key: str) -> MetricHistory:
    """Every point of one series in (step, timestamp, insertion) order."""
    # The hot read path (100,000 points for one plot): straight to the DBAPI cursor,
    # since building SQLAlchemy rows measured slower than the query itself, and one
    # C-level pass per column.
    marker = "?" if connection.dialect.paramstyle == "qmark" else "%s"
    sql = (
        'SELECT step, "timestamp", value FROM metrics '
        f'WHERE run_id = {marker} AND key = {marker} ORDER BY step, "timestamp", id'
    )
    with driver_cursor(connection, sql) as cursor:
        cursor.execute(sql, (run_id, key))
        rows = cursor.fetchall()
    steps, timestamps, values = (list(map(itemgetter(i), rows)) for i in range(3))
    if None in values:  # NULL stands for NaN
        values = [math.nan if value is None else value for value in values]
    return MetricHistory(key, steps, timestamps, values)


MIN_HISTORY_POINTS = 4


def downsample(history: MetricHistory, max_points: int) -> MetricHistory:
    """At most ``max_points`` points, still in order.

    The first and last points and the lowest and highest values (NaN is neither)
    are always kept, so a plot keeps its extent and its extremes; the remaining
    budget is spread evenly over the index range.
    """
    count = len(history)
    if count <= max_points:
        return history
    real = [(value, index) for index, value in enumerate(history.values) if not math.isnan(value)]
    forced = {0, count - 1}
    if real:
        forced |= {min(real)[1], max(real)[1]}
    budget = max_points - len(forced)
    spaced = {round(j * (count - 1) / (budget + 1)) for j in range(1, budget + 1)}
    keep = sorted(forced | spaced)
    return MetricHistory(
        history.key,
        [history.steps[i] for i in keep],
        [history.timestamps[i] for i in keep],
        [history.values[i] for i in keep],
    )
