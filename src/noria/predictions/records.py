"""What the model server hands the prediction log: one record per answered request.

The server builds one :class:`PredictionRecord` per answered request (and one per shadow
answer), after the answer is sent, and one per failed request (its status, no rows), and
hands it to the configured :class:`PredictionSink`.
``offer`` must never block the request path: a sink that cannot keep up drops the record and
returns False, and the server counts the drop in its metrics
(``noria_serving_predictions_dropped_total``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class PredictionRecord:
    """One answered request: what came in, what went out, and when."""

    request_id: str
    model: str  # the served model's name; the registered model's, behind a deployment
    version: int | None  # the registered version; None for a run or a local model
    deployment: str | None  # the deployment the request came through, if any
    inputs: list[dict[str, Any]]  # the request's rows, as validated
    outputs: list[Any]  # one prediction per row
    latency_ms: float
    time_ms: int  # when the request arrived, ms since the epoch
    role: str | None = None  # the deployment route that answered: primary, canary or shadow
    # A request that failed (4xx: refused as invalid, 5xx: the model or server failed) is
    # logged too, with no outputs, so monitors can report error rates.
    status: int = 200
    error: str | None = None  # the error code (``INVALID_ARGUMENT``, ``MODEL_FAILED``, …)

    @property
    def failed(self) -> bool:
        return self.status >= FAILED_STATUS


FAILED_STATUS = 400  # answers from here on are errors; their log rows carry no prediction


class PredictionSink(Protocol):
    """Where answered requests go; implementations queue and write in the background."""

    def offer(self, record: PredictionRecord) -> bool:
        """Queue ``record`` without blocking; False when it was dropped (queue full)."""
        ...

    def close(self) -> None:
        """Write what is queued, then stop; called once when the server shuts down."""
        ...
