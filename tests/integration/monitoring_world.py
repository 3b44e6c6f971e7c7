"""Planted monitoring scenarios on real stores: a registered model behind a deployment, a
reference dataset version, and prediction-log and feedback segments written through the real
logs with controlled timestamps (one window = one hour from 2025-01-01T00:00Z).

The model's rule is ``prediction = income < 45,000``; labels agree with it except for a
planted error rate, so accuracy is about ``1 - error``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from noria.client import Client
from noria.predictions.feedback import FeedbackLog
from noria.predictions.log import ParquetPredictionLog
from noria.predictions.records import PredictionRecord

HOUR = 3_600_000
T0 = 1_735_689_600_000  # 2025-01-01T00:00:00Z
ROWS_PER_REQUEST = 4
THRESHOLD = 45_000.0


def at(hour: float) -> int:
    """ms of ``hour`` hours after T0."""
    return T0 + int(hour * HOUR)


def population(rng: np.random.Generator, rows: int, *, income_shift: float = 0.0) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "age": rng.normal(40, 10, rows).round().astype("int64"),
            "income": rng.normal(50_000 + income_shift, 12_000, rows),
            "region": rng.choice(["north", "south", "east"], rows, p=[0.5, 0.3, 0.2]),
        }
    )


def reference_frame(seed: int = 7, rows: int = 2000) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = population(rng, rows)
    frame["default"] = (frame["income"] < THRESHOLD).astype("int64")
    return frame


@dataclass
class Traffic:
    """Logged requests of one deployment, and their true labels (sent later, on purpose)."""

    client: Client
    deployment: str | None = "credit-api"
    version: int = 1
    truth: dict[str, list[int]] = field(default_factory=dict)  # request id → label per row

    def window(
        self,
        hour: int,
        *,
        rows: int = 400,
        income_shift: float = 0.0,
        error: float = 0.05,
        seed: int | None = None,
        failures: int = 0,
    ) -> list[str]:
        """Log ``rows`` rows inside window ``hour``, and ``failures`` failed requests (the
        model erred: status 500, no rows); returns the answered requests' ids."""
        rng = np.random.default_rng(1000 + hour if seed is None else seed)
        frame = population(rng, rows, income_shift=income_shift)
        predicted = (frame["income"] < THRESHOLD).astype("int64").to_numpy()
        wrong = rng.random(rows) < error
        labels = np.where(wrong, 1 - predicted, predicted)
        log = ParquetPredictionLog(self.client.artifacts)
        ids = []
        for first in range(0, rows, ROWS_PER_REQUEST):
            part = slice(first, first + ROWS_PER_REQUEST)
            request_id = f"h{hour}-r{first // ROWS_PER_REQUEST}"
            ids.append(request_id)
            self.truth[request_id] = [int(v) for v in labels[part]]
            log.offer(
                PredictionRecord(
                    request_id=request_id,
                    model="credit",
                    version=self.version,
                    deployment=self.deployment,
                    inputs=frame.iloc[part].to_dict("records"),
                    outputs=[int(v) for v in predicted[part]],
                    latency_ms=float(5 + first % 20),
                    time_ms=at(hour) + int(first / rows * (HOUR - 1000)),
                )
            )
        for index in range(failures):
            log.offer(
                PredictionRecord(
                    request_id=f"h{hour}-failed{index}",
                    model="credit",
                    version=self.version,
                    deployment=self.deployment,
                    inputs=[],
                    outputs=[],
                    latency_ms=2.0,
                    time_ms=at(hour) + 1000 * index,
                    status=500,
                    error="MODEL_ERROR",
                )
            )
        log.close()
        return ids

    def send_labels(self, request_ids: list[str]) -> None:
        """Labels for every row of these requests, through the real feedback log."""
        feedback = FeedbackLog(self.client.artifacts)
        feedback.append(
            [
                {"request_id": rid, "row": row, "label": label}
                for rid in request_ids
                for row, label in enumerate(self.truth[rid])
            ]
        )
        feedback.close()


def register_model(client: Client, tmp_path: Path, name: str = "credit") -> None:
    """Versions 1 and 2 of ``name`` (files without a signature), @champion on 1."""
    model_dir = tmp_path / "model"
    model_dir.mkdir(exist_ok=True)
    (model_dir / "noria-model.yaml").write_text("flavor: test\n")
    with client.tracker.start_run() as run:
        run.log_artifacts(model_dir, "model")
    for _ in range(2):
        client.registry.register(f"runs:/{run.id}/model", name)
    client.registry.set_alias(name, "champion", 1)


def build_world(client: Client, tmp_path: Path) -> str:
    """Model, reference dataset ``credit`` v1 and deployment ``credit-api``; returns the
    reference URI."""
    register_model(client, tmp_path)
    version, _ = client.datasets.ingest(reference_frame(), name="credit")
    client.deployments.create("credit-api", model="models:/credit@champion")
    return version.uri
