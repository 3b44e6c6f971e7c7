"""The inside of ``log_batch``: validate everything, then write it in one transaction.

Metric points are the hot path (a training loop may send 100,000 at once), so they
are checked and shaped a column at a time, with C-level passes (``map``, ``set``,
``min``, ``max``) for the common case and the per-point domain rules only for what is
unusual (NumPy scalars, bools, text). Each key of a batch is one series: one upsert of
its row in ``metric_series`` (count and latest point, reduced in Python) hands back its
id and the number its points start at, and its points go to ``metric_points`` in
multi-row INSERTs on SQLite, COPY on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import chain, repeat
from math import isnan
from operator import attrgetter
from typing import Any, NamedTuple

from noria.backends.sql.driver import Driver, driver_cursor, placeholders
from noria.backends.sql.run_loading import ID_CHUNK, chunked
from noria.domain.tracking import (
    MAX_PARAM_VALUE_LENGTH,
    MAX_STEP,
    MAX_TAG_VALUE_LENGTH,
    MIN_STEP,
    Metric,
    MetricBatch,
    Param,
    RunTag,
    check_key,
    check_metric_value,
    check_step,
    check_value,
)
from noria.errors import Conflict, InvalidArgument

_KEY, _VALUE = attrgetter("key"), attrgetter("value")
# A row of metric_points: series_id, step, timestamp, seq, value (None for NaN).
PointRow = tuple[int, int, int, int, float | None]
_STEP, _TIMESTAMP = attrgetter("step"), attrgetter("timestamp")


class Latest(NamedTuple):
    """A series' greatest point: by (step, timestamp, value), NaN (None) lowest."""

    step: int
    timestamp: int
    value: float | None


@dataclass(slots=True)
class SeriesPoints:
    """One key's points of a batch, as columns, and its greatest point."""

    steps: list[int]
    timestamps: list[int]
    values: list[float | None]  # None stands for NaN
    latest: Latest


@dataclass(slots=True)
class CheckedBatch:
    """A batch that passed every check, shaped for the database."""

    run_id: str
    series: dict[str, SeriesPoints] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)


def check_batch(
    run_id: str,
    *,
    metrics: Sequence[Metric],
    params: Sequence[Param],
    tags: Sequence[RunTag],
) -> CheckedBatch:
    """Every domain check on every item, before anything is written."""
    return CheckedBatch(run_id, check_metrics(metrics), check_params(params), check_tags(tags))


def check_params(items: Sequence[Param]) -> dict[str, str]:
    checked: dict[str, str] = {}
    for param in items:
        key = check_key(param.key, "param")
        value = check_value(param.value, "param", key, MAX_PARAM_VALUE_LENGTH)
        if checked.get(key, value) != value:
            raise InvalidArgument(
                f"Param {key!r} appears twice in one batch with different values "
                f"({checked[key]!r} and {value!r}): log each param once."
            )
        checked[key] = value
    return checked


def check_tags(items: Sequence[RunTag]) -> dict[str, str]:
    """Checked tags; a key given twice keeps its last value."""
    checked: dict[str, str] = {}
    for tag in items:
        key = check_key(tag.key, "tag")
        checked[key] = check_value(tag.value, "tag", key, MAX_TAG_VALUE_LENGTH)
    return checked


def check_metrics(items: Sequence[Metric]) -> dict[str, SeriesPoints]:
    """The points of each key, checked; NaN becomes None, NumPy scalars Python numbers."""
    if not items:
        return {}
    keys, raw_values, raw_timestamps, raw_steps = _columns(items)
    _check_keys(keys)
    values, has_nan = _check_values(keys, raw_values)
    steps = _check_whole(keys, raw_steps, lambda _, step: check_step(step))
    timestamps = _check_whole(keys, raw_timestamps, _check_timestamp)
    first = keys[0]
    if keys.count(first) == len(keys):  # one series: the columns are its columns
        return {first: _series(steps, timestamps, values, has_nan)}
    rows: dict[str, list[int]] = {}
    for index, key in enumerate(keys):
        rows.setdefault(key, []).append(index)
    return {
        key: _series(
            [steps[i] for i in indexes],
            [timestamps[i] for i in indexes],
            (part := [values[i] for i in indexes]),
            has_nan and None in part,
        )
        for key, indexes in rows.items()
    }


def _columns(items: Sequence[Metric]) -> tuple[list[Any], list[Any], list[Any], list[Any]]:
    """Keys, values, timestamps and steps, unchecked; a MetricBatch already has them."""
    if isinstance(items, MetricBatch):
        return items.keys, items.values, items.timestamps, items.steps
    return (
        list(map(_KEY, items)),
        list(map(_VALUE, items)),
        list(map(_TIMESTAMP, items)),
        list(map(_STEP, items)),
    )


def _check_keys(keys: list[Any]) -> None:
    try:
        distinct: Sequence[Any] = list(dict.fromkeys(keys))
    except TypeError:  # an unhashable key, which the check refuses in its turn
        distinct = keys
    for key in distinct:
        check_key(key, "metric")


def _check_values(keys: list[str], values: list[Any]) -> tuple[list[float | None], bool]:
    """Checked values with NaN as None, and whether there was a NaN."""
    if set(map(type, values)) != {float}:
        values = [
            v if v.__class__ is float else check_metric_value(k, v)
            for k, v in zip(keys, values, strict=True)
        ]
    if not any(map(isnan, values)):
        return values, False
    return [None if isnan(value) else value for value in values], True


def _check_whole(
    keys: list[str], numbers: list[Any], check: Callable[[str, Any], int]
) -> list[int]:
    """Steps or timestamps: whole numbers in the 64-bit range."""
    if set(map(type, numbers)) == {int} and min(numbers) >= MIN_STEP and max(numbers) <= MAX_STEP:
        return numbers
    return [
        n if n.__class__ is int and MIN_STEP <= n <= MAX_STEP else check(k, n)
        for k, n in zip(keys, numbers, strict=True)
    ]


def _check_timestamp(key: str, timestamp: Any) -> int:
    try:
        return check_step(timestamp)
    except InvalidArgument:
        raise InvalidArgument(
            f"Metric {key!r} has timestamp {timestamp!r}: use whole milliseconds since "
            "the Unix epoch (an integer)."
        ) from None


def _series(
    steps: list[int], timestamps: list[int], values: list[float | None], has_nan: bool
) -> SeriesPoints:
    """The columns with their greatest point: by (step, timestamp, value), NaN lowest."""
    if not has_nan:
        top = max(steps)
        if steps.count(top) == 1:  # the usual case, found without comparing tuples
            at = steps.index(top)
            return SeriesPoints(steps, timestamps, values, Latest(top, timestamps[at], values[at]))
        step, timestamp, value = max(zip(steps, timestamps, values, strict=True))
        return SeriesPoints(steps, timestamps, values, Latest(step, timestamp, value))
    numbers = [value is not None for value in values]
    plain = [0.0 if value is None else value for value in values]
    step, timestamp, is_number, number = max(zip(steps, timestamps, numbers, plain, strict=True))
    latest = Latest(step, timestamp, number if is_number else None)
    return SeriesPoints(steps, timestamps, values, latest)


# -- writing -----------------------------------------------------------------------------

_NEWER = (
    '(excluded.step, excluded."timestamp", excluded.value IS NOT NULL, '
    'COALESCE(excluded.value, 0.0)) > (metric_series.step, metric_series."timestamp", '
    "metric_series.value IS NOT NULL, COALESCE(metric_series.value, 0.0))"
)
# The latest point is replaced only by a greater one; the count always grows. Every
# right-hand side reads the row as it was, on SQLite and PostgreSQL alike. A series
# keeps its id: the one offered for a new series is used only if it is new.
_UPSERT_SERIES = (
    'INSERT INTO metric_series ({columns}run_id, key, points, value, step, "timestamp") '
    "VALUES {rows} "
    "ON CONFLICT (run_id, key) DO UPDATE SET points = metric_series.points + excluded.points, "
    + ", ".join(
        f"{column} = CASE WHEN {_NEWER} THEN excluded.{column} ELSE metric_series.{column} END"
        for column in ("value", "step", '"timestamp"')
    )
    + " RETURNING id, key, points"
)
_INSERT_POINTS = 'INSERT INTO metric_points (series_id, step, "timestamp", seq, value) VALUES'
_LAST_SERIES_ID = "SELECT coalesce(max(id), 0) FROM metric_series"
_COPY_POINTS = 'COPY metric_points (series_id, step, "timestamp", seq, value) FROM STDIN'
_INSERT_PARAMS = (
    "INSERT INTO params (run_id, key, value) VALUES (?, ?, ?) ON CONFLICT (run_id, key) DO NOTHING"
)
_SELECT_PARAMS = "SELECT key, value FROM params WHERE run_id = ? AND key IN ({keys})"
_UPSERT_TAGS = (
    "INSERT INTO run_tags (run_id, key, value) VALUES (?, ?, ?) "
    "ON CONFLICT (run_id, key) DO UPDATE SET value = excluded.value"
)


def write_batch(driver: Driver, batch: CheckedBatch) -> None:
    """Write a checked batch in the caller's transaction, to a run it found active;
    raises before committing."""
    if batch.params:
        _write_params(driver, batch.run_id, batch.params)
    if batch.tags:
        upsert_tags(driver, batch.run_id, batch.tags)
    if batch.series:
        _write_series(driver, batch.run_id, batch.series)


def _write_params(driver: Driver, run_id: str, values: Mapping[str, str]) -> None:
    """Insert new params, then compare: the stored value wins, a different one is refused.

    Inserting first (ignoring duplicates) and reading back afterwards is what makes
    this safe against a concurrent writer on PostgreSQL, where both could otherwise
    see no row and each believe its value was stored.
    """
    for chunk in chunked(sorted(values), ID_CHUNK):
        driver.run_many(_INSERT_PARAMS, [(run_id, key, values[key]) for key in chunk])
        query = _SELECT_PARAMS.format(keys=placeholders(len(chunk)))
        for key, value in sorted(driver.rows(query, (run_id, *chunk))):
            if value != values[key]:
                raise Conflict(
                    "Changing param values is not allowed. "
                    f"Param {key!r} was already logged with value {value!r} for run "
                    f"{run_id!r}; attempted {values[key]!r}."
                )


def upsert_tags(driver: Driver, run_id: str, values: Mapping[str, str]) -> None:
    """Set tags, replacing the values of keys already there."""
    driver.run_many(_UPSERT_TAGS, [(run_id, key, values[key]) for key in sorted(values)])


def _write_series(driver: Driver, run_id: str, series: Mapping[str, SeriesPoints]) -> None:
    """Upsert each key's series row, which hands back its id and count, then store every
    point of the batch in multi-row INSERTs (or one COPY)."""
    points: list[Iterable[PointRow]] = []
    # SQLite numbers new series here (PostgreSQL's identity does it there); this
    # transaction holds SQLite's only write lock, so the numbers cannot collide.
    next_id = None if driver.postgres else int(driver.rows(_LAST_SERIES_ID)[0][0]) + 1
    # Sorted by key so that concurrent PostgreSQL writers lock rows in one order.
    for chunk in chunked(sorted(series), ID_CHUNK):
        rows: list[tuple[Any, ...]] = []
        for key in chunk:
            count, (step, timestamp, value) = len(series[key].steps), series[key].latest
            rows.append((run_id, key, count, value, step, timestamp))
        if next_id is not None:
            rows = [(next_id + offset, *row) for offset, row in enumerate(rows)]
            next_id += len(rows)
        sql = _UPSERT_SERIES.format(
            columns="" if next_id is None else "id, ",
            rows=", ".join([f"({placeholders(len(rows[0]))})"] * len(rows)),
        )
        for series_id, key, count in driver.rows(sql, [value for row in rows for value in row]):
            points.append(_point_rows(series_id, count, series[key]))
    rows_of_batch = chain.from_iterable(points)
    if not driver.postgres:
        driver.insert_values(_INSERT_POINTS, rows_of_batch, width=5)
        return
    # COPY measured about twice as fast as executemany on PostgreSQL.
    with (
        driver_cursor(driver.connection, _COPY_POINTS) as cursor,
        cursor.copy(_COPY_POINTS) as copy,
    ):
        for row in rows_of_batch:
            copy.write_row(row)


def _point_rows(series_id: int, count_after: int, part: SeriesPoints) -> Iterator[PointRow]:
    """The batch's points of one series, numbered on from the points stored before them."""
    count = len(part.steps)
    first = count_after - count
    return zip(
        repeat(series_id, count),
        part.steps,
        part.timestamps,
        range(first, count_after),
        part.values,
        strict=True,
    )
