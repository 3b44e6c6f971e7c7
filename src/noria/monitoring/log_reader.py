"""A deployment's traffic in the prediction log, and the labels that arrived for it.

The log is kept per registered model, so a deployment's rows are those of every model it
routes to whose ``deployment`` column is its name (``noria serve --deployment NAME`` writes
it) — or empty, for a model served directly with ``noria serve models:/…``. Shadow answers
are left out (``role`` = shadow, or, in rows logged without a role, the shadow routes'
versions): they copy requests the live routes answered, and would count each request twice.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING

from noria.artifacts import ArtifactStore
from noria.domain.deployments import Deployment, RouteRole
from noria.errors import NotFound
from noria.predictions.feedback import read_feedback
from noria.predictions.join import join_feedback
from noria.predictions.log import (
    INPUT_PREFIX,
    PREDICTIONS_PREFIX,
    model_stream,
    read_predictions,
)
from noria.predictions.tables import concat_segments

if TYPE_CHECKING:
    import pyarrow as pa

    from noria.monitoring.windows import Window

__all__ = [
    "INPUT_PREFIX",
    "DeploymentLog",
    "labels_since",
    "split_windows",
    "with_labels",
]


class DeploymentLog:
    """Reads one deployment's rows; ``served`` maps each route's model URI to the version it
    serves now (what tells a shadow's rows from the live ones when the log has no role)."""

    def __init__(
        self,
        artifacts: ArtifactStore,
        deployment: Deployment,
        served: Mapping[str, int | None],
        *,
        prefix: str = PREDICTIONS_PREFIX,
    ) -> None:
        self._artifacts = artifacts
        self.deployment = deployment
        self._prefix = prefix
        self.models = sorted({route.model_name for route in deployment.routes})
        live = {
            (route.model_name, served.get(route.model_uri))
            for route in deployment.routes
            if route.role is not RouteRole.SHADOW
        }
        self._shadows = {
            (route.model_name, version)
            for route in deployment.shadows
            if (version := served.get(route.model_uri)) is not None
        } - live

    def check_logged(self) -> list[str]:
        """The logged input columns (without ``input.``) of one segment; NotFound when none
        of the deployment's models has a prediction log."""
        for model in self.models:
            for key in self._artifacts.blobs.list(f"{model_stream(self._prefix, model)}/"):
                if key.endswith(".json"):
                    with self._artifacts.blobs.open(key) as stream:
                        columns = json.loads(stream.read()).get("columns", [])
                    return [c[len(INPUT_PREFIX) :] for c in columns if c.startswith(INPUT_PREFIX)]
        served = ", ".join(self.models)
        raise NotFound(
            f"Deployment {self.deployment.name!r} has no prediction log: nothing was logged for "
            f"model(s) {served}. Serve it with the prediction log on (`noria serve "
            f"--deployment {self.deployment.name}`), send traffic, then create the monitor."
        )

    def rows(self, start_ms: int, end_ms: int) -> pa.Table:
        """The deployment's live rows with ``start_ms <= time < end_ms``, oldest first."""
        import pyarrow as pa
        import pyarrow.compute as pc

        tables = [
            read_predictions(
                self._artifacts,
                model=model,
                start=start_ms,
                end=end_ms,
                prefix=self._prefix,
                include_errors=True,  # for the error rates; evaluate_window sets them apart
            )
            for model in self.models
        ]
        table = concat_segments(tables, tables[0].schema) if len(tables) > 1 else tables[0]
        if table.num_rows == 0:
            return table
        ours = pc.or_kleene(
            pc.is_null(table["deployment"]), pc.equal(table["deployment"], self.deployment.name)
        )
        table = table.filter(pc.fill_null(ours, False))
        if "role" in table.column_names:
            keep = pc.fill_null(pc.not_equal(table["role"], RouteRole.SHADOW.value), True)
            table = table.filter(keep)
        elif self._shadows and table.num_rows:
            pairs = zip(table["model"].to_pylist(), table["version"].to_pylist(), strict=True)
            table = table.filter(pa.array([pair not in self._shadows for pair in pairs]))
        return table.sort_by([("time", "ascending"), ("request_id", "ascending")])


def labels_since(artifacts: ArtifactStore, start_ms: int) -> pa.Table:
    """Labels that arrived from ``start_ms`` on (a label never precedes its prediction)."""
    return read_feedback(artifacts, start=start_ms)


def with_labels(rows: pa.Table, labels: pa.Table) -> pa.Table:
    """``rows`` with ``label`` and ``label_time`` columns (null where no label arrived)."""
    return join_feedback(rows, labels, how="left")


def split_windows(table: pa.Table, windows: list[Window]) -> dict[Window, pa.Table]:
    """The rows of each of ``windows`` (adjacent, oldest first) from a table sorted by time."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    times = pc.cast(table["time"], pa.int64()).to_numpy(zero_copy_only=False)
    cuts = np.searchsorted(times, [w.start_ms for w in windows] + [windows[-1].end_ms])
    return {
        window: table.slice(int(cuts[i]), int(cuts[i + 1]) - int(cuts[i]))
        for i, window in enumerate(windows)
    }
