"""Labels joined back to the predictions they judge, by request id and row.

>>> labelled = join_feedback(read_predictions(client, model="m"), read_feedback(client))

A label for ``(request_id, row)`` wins over one for the whole request (``row`` null); among
several for the same target, the latest. Labels for requests outside the predictions are
ignored.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from noria.errors import InvalidArgument

if TYPE_CHECKING:
    import pyarrow as pa

JoinHow = Literal["inner", "left"]


def join_feedback(predictions: pa.Table, feedback: pa.Table, *, how: JoinHow = "inner") -> pa.Table:
    """``predictions`` with ``label`` and ``label_time`` columns from ``feedback``.

    A label for (request, row) wins over one for the whole request; among several for the same
    target, the latest. ``how="inner"`` keeps labelled rows only, ``"left"`` keeps every row.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    if how not in ("inner", "left"):
        raise InvalidArgument(f"how={how!r} is not a join kind: use 'inner' or 'left'.")
    missing = [name for name in ("request_id", "row") if name not in predictions.column_names]
    missing += [f"feedback.{n}" for n in ("request_id", "row", "label", "time")
                if n not in feedback.column_names]  # fmt: skip
    if missing:
        raise InvalidArgument(
            f"join_feedback needs tables from read_predictions and read_feedback; missing "
            f"column(s) {missing}."
        )
    keys = pa.table({
        "request_id": predictions["request_id"],
        "row": pc.cast(predictions["row"], pa.int32()),
        "__index": pa.array(range(predictions.num_rows), pa.int64()),
    })  # fmt: skip
    if feedback.num_rows == 0:
        label_type = feedback.schema.field("label").type
        nulls = predictions.append_column("label", pa.nulls(predictions.num_rows, label_type))
        joined = nulls.append_column(
            "label_time", pa.nulls(predictions.num_rows, pa.timestamp("ms", tz="UTC"))
        )
        return joined.slice(0, 0) if how == "inner" else joined
    latest = _latest_labels(feedback)
    per_row = latest.filter(pc.is_valid(latest["row"]))
    per_request = latest.filter(pc.is_null(latest["row"])).drop_columns(["row"])
    by_row = _aligned(keys, per_row, ["request_id", "row"])
    by_request = _aligned(keys, per_request, ["request_id"])
    label = pc.coalesce(by_row["label"], by_request["label"])
    label_time = pc.coalesce(by_row["label_time"], by_request["label_time"])
    joined = predictions.append_column("label", label).append_column("label_time", label_time)
    return joined.filter(pc.is_valid(joined["label"])) if how == "inner" else joined


def _latest_labels(feedback: pa.Table) -> pa.Table:
    """One label per (request_id, row), the latest; columns request_id, row, label, label_time."""
    import pyarrow as pa
    import pyarrow.compute as pc

    narrow = pa.table({
        "request_id": feedback["request_id"],
        "row": pc.cast(feedback["row"], pa.int32()),
        "label": feedback["label"],
        "time": feedback["time"],
    })  # fmt: skip
    grouped = narrow.sort_by([("time", "ascending")]).group_by(
        ["request_id", "row"], use_threads=False
    )
    latest = grouped.aggregate([("label", "last"), ("time", "last")])
    return latest.rename_columns({"label_last": "label", "time_last": "label_time"}).select(
        ["request_id", "row", "label", "label_time"]
    )


def _aligned(keys: pa.Table, labels: pa.Table, on: list[str]) -> pa.Table:
    """``labels`` looked up for each row of ``keys``, in ``keys``' order (nulls where none)."""
    joined = keys.join(labels, keys=on, join_type="left outer", use_threads=False)
    return joined.sort_by([("__index", "ascending")])
