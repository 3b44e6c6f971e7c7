"""Deployments: which model versions answer behind an endpoint, canary and shadow traffic.

The model server calls :func:`choose_route` and :func:`shadows` per request; ``noria deploy``
and ``client.deployments`` (:class:`~noria.deployments.service.DeploymentService`) keep the
records, promote and roll back; :func:`compare_predictions` reads the prediction log.
"""

from __future__ import annotations

from noria.deployments.comparison import Comparison, VersionComparison, compare_predictions
from noria.deployments.routing import choose_route, shadows, sticky_bucket

__all__ = [
    "Comparison",
    "VersionComparison",
    "choose_route",
    "compare_predictions",
    "shadows",
    "sticky_bucket",
]
