"""Port of the deployment records: named routes to model versions, with their traffic."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from noria.domain.deployments import Deployment
from noria.domain.paging import Page


@runtime_checkable
class DeploymentRepo(Protocol):
    def create(self, deployment: Deployment) -> Deployment:
        """Store a new deployment; the store sets ``created_at``, ``updated_at`` and
        ``revision`` (1). Raises ``AlreadyExists`` for a taken name."""
        ...

    def get(self, name: str) -> Deployment:
        """Raises ``NotFound`` naming the deployment."""
        ...

    def list_deployments(
        self, *, model: str | None = None, limit: int = 100, page_token: str | None = None
    ) -> Page[Deployment]:
        """By name; with ``model``, only deployments with a route to that registered model."""
        ...

    def update(self, deployment: Deployment) -> Deployment:
        """Replace routes, description, sticky key and status of the stored deployment.

        ``deployment.revision`` must be the stored one (``Conflict`` otherwise: someone
        changed it since it was read); the stored revision then goes up by one.
        """
        ...

    def delete(self, name: str) -> Deployment:
        """Remove it; returns what was stored. Raises ``NotFound``."""
        ...
