"""The prediction log: answered requests and their late ground-truth labels, in Parquet.

The model server writes it; monitoring, ``noria deploy show`` and your own analyses read it.

>>> log = ParquetPredictionLog(client.artifacts)      # a PredictionSink
>>> table = read_predictions(client, model="credit", start=an_hour_ago)
>>> labelled = join_feedback(table, read_feedback(client, start=an_hour_ago))

Modules: ``records`` (what is logged), ``log`` (the prediction log and its reader),
``feedback`` (labels by request id), ``join`` (labels onto predictions), and the storage
underneath both logs: ``segments`` (the index by time), ``writer`` (the background queue)
and ``tables`` (rows to Arrow). See docs/prediction-log.md.
"""

from __future__ import annotations

from noria.predictions.feedback import FeedbackLog, Label, labels_from_body, read_feedback
from noria.predictions.join import join_feedback
from noria.predictions.log import ParquetPredictionLog, predictions_to_dataset, read_predictions
from noria.predictions.records import PredictionRecord, PredictionSink

__all__ = [
    "FeedbackLog",
    "Label",
    "ParquetPredictionLog",
    "PredictionRecord",
    "PredictionSink",
    "join_feedback",
    "labels_from_body",
    "predictions_to_dataset",
    "read_feedback",
    "read_predictions",
]
