"""The deployments a server is asked to serve, checked before it starts.

``noria serve --deployment NAME`` calls :func:`resolve_deployments` in the parent process:
a deployment that does not exist, or a route that resolves to no version, is one clear line
instead of a traceback in every worker, and the model files are fetched into the cache once,
before the workers look for them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from noria.client import connect
from noria.domain.deployments import Deployment
from noria.errors import NotFound
from noria.fluent_models import model_directory
from noria.settings import Settings

Versions = Mapping[str, int | None]  # route model URI -> the version it resolves to


def check_resolved(deployment: Deployment, versions: Versions) -> None:
    """NotFound naming the first route of ``deployment`` that resolves to no version."""
    for route in deployment.routes:
        if versions.get(route.model_uri) is None:
            raise NotFound(
                f"deployment {deployment.name!r}: route {route.model_uri} ({route.role.value}) "
                "resolves to no version (was its alias deleted?); set the alias or change the "
                f"route (`noria deploy show {deployment.name}` lists them)"
            )


def resolve_deployments(
    names: Sequence[str], settings: Settings | None
) -> list[tuple[Deployment, Versions]]:
    """Each deployment with the version each route serves now, its files in the cache."""
    found: list[tuple[Deployment, Versions]] = []
    with connect(settings) as client:
        for name in names:
            deployment = client.deployments.get(name)
            versions = client.deployments.resolve(deployment)
            check_resolved(deployment, versions)
            for route in deployment.routes:
                model_directory(
                    f"models:/{route.model_name}/{versions[route.model_uri]}", client=client
                )
            found.append((deployment, versions))
    return found
