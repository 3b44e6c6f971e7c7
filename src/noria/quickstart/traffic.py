"""Customers sent to the model server over HTTP, their outcomes sent back as labels.

Requests go to ``POST /v1/models/<deployment>/predict`` (Noria's JSON, several customers per
request), labels to ``POST /v1/feedback`` by request id and row, as a lender's systems would
send them once loans are repaid or not. Both logs are written by the server in the
background: :func:`wait_for_logs` waits until what was sent is readable.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from noria.errors import BackendError
from noria.quickstart.scenario import FEATURES, LABEL

if TYPE_CHECKING:
    import httpx
    import pandas as pd

    from noria.client import Client

LOG_WAIT_S = 60.0


@dataclass
class Traffic:
    """What one burst of traffic did: ids, answers and the labels sent for them."""

    started_ms: int
    rows_per_request: int
    request_ids: list[str] = field(default_factory=list)
    predictions: list[Any] = field(default_factory=list)
    labels: list[int] = field(default_factory=list)
    routes: dict[str, int] = field(default_factory=dict)

    @property
    def requests(self) -> int:
        return len(self.request_ids)

    @property
    def rows(self) -> int:
        return len(self.predictions)

    def keys(self) -> list[tuple[str, int]]:
        """(request id, row) of each label, in the order of ``labels``."""
        per = self.rows_per_request
        return [(self.request_ids[i // per], i % per) for i in range(len(self.labels))]

    @property
    def accuracy(self) -> float:
        right = sum(int(p) == y for p, y in zip(self.predictions, self.labels, strict=True))
        return right / len(self.labels) if self.labels else 0.0

    @property
    def default_rate(self) -> float:
        return sum(self.labels) / len(self.labels) if self.labels else 0.0


def send(
    http: httpx.Client,
    deployment: str,
    frame: pd.DataFrame,
    *,
    rows_per_request: int,
    on_request: Callable[[int], None] = lambda _n: None,
) -> Traffic:
    """Score ``frame``'s customers, ``rows_per_request`` per request, then send every label."""
    traffic = Traffic(started_ms=time.time_ns() // 1_000_000, rows_per_request=rows_per_request)
    features = frame[list(FEATURES)]
    for start in range(0, len(frame), rows_per_request):
        chunk = features.iloc[start : start + rows_per_request]
        answer = _post(
            http, f"/v1/models/{deployment}/predict", {"records": chunk.to_dict("records")}
        )
        traffic.request_ids.append(answer["request_id"])
        traffic.predictions.extend(answer["predictions"])
        route = str(answer.get("route") or "primary")
        traffic.routes[route] = traffic.routes.get(route, 0) + 1
        on_request(1)
    traffic.labels = [int(value) for value in frame[LABEL]]
    labels = [
        {"request_id": request_id, "row": row, "label": label}
        for (request_id, row), label in zip(traffic.keys(), traffic.labels, strict=True)
    ]
    _post(http, "/v1/feedback", {"labels": labels})
    return traffic


def _post(http: httpx.Client, path: str, body: dict[str, Any]) -> Any:
    response = http.post(path, json=body)
    if response.status_code >= 400:
        raise BackendError(
            f"The model server answered {path} with HTTP {response.status_code}: "
            f"{response.text[:300]}"
        )
    return response.json()


def wait_for_logs(client: Client, *, model: str, traffic: Traffic, shadowed: bool = False) -> None:
    """Wait until the prediction log holds ``traffic``'s rows (and as many shadow rows when
    ``shadowed``) and the feedback log its labels: the server writes both a second later."""
    from noria.predictions import read_feedback, read_predictions

    ours = set(traffic.request_ids)
    since = traffic.started_ms - 1000
    deadline = time.monotonic() + LOG_WAIT_S
    while True:
        logged = read_predictions(client, model=model, start=since)
        ids = logged["request_id"].to_pylist() if logged.num_rows else []
        roles = logged["role"].to_pylist() if logged.num_rows else []
        mine = [role for rid, role in zip(ids, roles, strict=True) if rid in ours]
        shadows = sum(role == "shadow" for role in mine)
        answered = len(mine) - shadows
        labels = read_feedback(client, start=since)
        labelled = sum(rid in ours for rid in labels["request_id"].to_pylist())
        wanted_shadows = traffic.rows if shadowed else 0
        if answered >= traffic.rows and shadows >= wanted_shadows and labelled >= traffic.rows:
            return
        if time.monotonic() > deadline:
            raise BackendError(
                f"After {LOG_WAIT_S:g} s the logs hold {answered} of {traffic.rows} answered "
                f"rows, {shadows} of {wanted_shadows} shadow rows and {labelled} of "
                f"{traffic.rows} labels; the model server's log may say why."
            )
        time.sleep(0.25)
