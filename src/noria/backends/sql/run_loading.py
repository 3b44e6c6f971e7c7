"""Reading runs: whole Run objects for a list of ids, single runs, metric histories.

A page of runs costs five queries (runs, params, tags, latest metrics, inputs)
per chunk of ids, whatever the page size, instead of four per run. They run on the
driver's cursor (see :mod:`noria.backends.sql.driver`): building SQLAlchemy rows for
the two thousand values of a page of runs cost more than the queries themselves.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterator, Sequence
from operator import itemgetter
from typing import Any, TypeVar

from noria.backends.sql.driver import Driver, placeholders
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
RunRow = tuple[Any, ...]

# The columns of ``runs`` that make a RunInfo, in its field order.
_RUN_COLUMNS = (
    "id, experiment_id, name, status, start_time, end_time, lifecycle_stage, user_id, parent_id"
)
_RUN = f"SELECT {_RUN_COLUMNS} FROM runs WHERE id = ?"
_RUNS = f"SELECT {_RUN_COLUMNS} FROM runs WHERE id IN ({{ids}})"
# Keys in order within each run; (run_id, key) is the order of the index read anyway.
_PARAMS = "SELECT run_id, key, value FROM params WHERE run_id IN ({ids}) ORDER BY run_id, key"
_TAGS = "SELECT run_id, key, value FROM run_tags WHERE run_id IN ({ids}) ORDER BY run_id, key"
_LATEST = (
    'SELECT run_id, key, value, "timestamp", step FROM metric_series '
    "WHERE run_id IN ({ids}) ORDER BY run_id, key"
)
_INPUTS = (
    'SELECT run_id, name, digest, source_type, source, "schema", profile, context '
    "FROM run_inputs WHERE run_id IN ({ids}) ORDER BY id"
)
_HISTORY = (
    'SELECT p.step, p."timestamp", p.value FROM metric_points p '
    "JOIN metric_series s ON s.id = p.series_id WHERE s.run_id = ? AND s.key = ? "
    'ORDER BY p.step, p."timestamp", p.seq'
)


def chunked(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def run_not_found(run_id: str) -> NotFound:
    return NotFound(f"Run {run_id!r} not found: check the run id (search_runs lists runs).")


def run_info(row: RunRow) -> RunInfo:
    """A RunInfo from a row of ``_RUN_COLUMNS``."""
    run_id, experiment_id, name, status, start_time, end_time, stage, user, parent_id = row
    return RunInfo(
        id=run_id,
        experiment_id=experiment_id,
        name=name,
        status=RunStatus(status),
        start_time=start_time,
        end_time=end_time,
        lifecycle_stage=LifecycleStage(stage),
        user=user,
        parent_id=parent_id,
    )


def find_run(driver: Driver, run_id: str) -> RunInfo:
    """The run ``run_id``; ``NotFound`` when there is none."""
    row = driver.first(_RUN, (run_id,))
    if row is None:
        raise run_not_found(run_id)
    return run_info(row)


def require_active_run(driver: Driver, run_id: str) -> RunInfo:
    """The run, refusing a soft-deleted one: nothing may be logged to it."""
    info = find_run(driver, run_id)
    if info.lifecycle_stage is not LifecycleStage.ACTIVE:
        raise InvalidArgument(f"Run {run_id!r} is deleted: restore it before changing it.")
    return info


def load_runs(driver: Driver, run_ids: Sequence[str]) -> list[Run]:
    """Full runs in the order of ``run_ids``; ids with no run are left out."""
    loaded: dict[str, Run] = {}
    for chunk in chunked(list(dict.fromkeys(run_ids)), ID_CHUNK):
        loaded.update(_load_chunk(driver, chunk))
    return [loaded[run_id] for run_id in run_ids if run_id in loaded]


def _load_chunk(driver: Driver, run_ids: Sequence[str]) -> dict[str, Run]:
    marks = placeholders(len(run_ids))
    infos = driver.rows(_RUNS.format(ids=marks), run_ids)
    if not infos:
        return {}
    found = [row[0] for row in infos]
    marks = placeholders(len(found))
    param_values = _key_values(driver.rows(_PARAMS.format(ids=marks), found))
    tag_values = _key_values(driver.rows(_TAGS.format(ids=marks), found))
    latest = _latest(driver.rows(_LATEST.format(ids=marks), found))
    inputs = _inputs(driver.rows(_INPUTS.format(ids=marks), found))
    return {
        row[0]: Run(
            info=run_info(row),
            params=param_values[row[0]],
            metrics=latest[row[0]],
            tags=tag_values[row[0]],
            inputs=inputs[row[0]],
        )
        for row in infos
    }


def _key_values(rows: list[tuple[Any, ...]]) -> defaultdict[str, dict[str, str]]:
    values: defaultdict[str, dict[str, str]] = defaultdict(dict)
    for run_id, key, value in rows:
        values[run_id][key] = value
    return values


def _latest(rows: list[tuple[Any, ...]]) -> defaultdict[str, dict[str, Metric]]:
    latest: defaultdict[str, dict[str, Metric]] = defaultdict(dict)
    for run_id, key, value, timestamp, step in rows:
        # NULL stands for NaN: SQLite cannot store NaN at all.
        latest[run_id][key] = Metric(key, math.nan if value is None else value, timestamp, step)
    return latest


def _inputs(rows: list[tuple[Any, ...]]) -> defaultdict[str, list[RunInput]]:
    inputs: defaultdict[str, list[RunInput]] = defaultdict(list)
    for run_id, *fields in rows:
        inputs[run_id].append(RunInput(*fields))
    return inputs


def read_history(driver: Driver, run_id: str, key: str) -> MetricHistory:
    """Every point of one series in (step, timestamp, logging) order."""
    # The hot read path (100,000 points for one plot): one C-level pass per column.
    rows = driver.rows(_HISTORY, (run_id, key))
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
