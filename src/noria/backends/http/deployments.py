"""Deployment records over REST (``/api/v1/deployments``)."""

from __future__ import annotations

from typing import Any

from noria.backends.http.tracking import segment
from noria.backends.http.transport import HttpTransport
from noria.domain.deployments import Deployment
from noria.domain.paging import Page, check_page_size
from noria.wire.deployments import DeploymentBody, DeploymentPage

DEPLOYMENTS = "/api/v1/deployments"


def _path(name: str) -> str:
    return f"{DEPLOYMENTS}/{segment(name)}"


def _deployment(answer: Any) -> Deployment:
    return DeploymentBody.model_validate(answer).to_domain()


class HttpDeploymentRepo:
    def __init__(self, transport: HttpTransport) -> None:
        self._http = transport

    def create(self, deployment: Deployment) -> Deployment:
        body = DeploymentBody.from_domain(deployment).model_dump(mode="json")
        return _deployment(self._http.json("POST", DEPLOYMENTS, json=body))

    def get(self, name: str) -> Deployment:
        return _deployment(self._http.json("GET", _path(name)))

    def list_deployments(
        self, *, model: str | None = None, limit: int = 100, page_token: str | None = None
    ) -> Page[Deployment]:
        params: dict[str, Any] = {"limit": check_page_size(limit)}
        if model is not None:
            params["model"] = model
        if page_token is not None:
            params["page_token"] = page_token
        page = DeploymentPage.model_validate(self._http.json("GET", DEPLOYMENTS, params=params))
        return Page([body.to_domain() for body in page.deployments], page.next_page_token)

    def update(self, deployment: Deployment) -> Deployment:
        body = DeploymentBody.from_domain(deployment).model_dump(mode="json")
        return _deployment(self._http.json("PUT", _path(deployment.name), json=body))

    def delete(self, name: str) -> Deployment:
        return _deployment(self._http.json("DELETE", _path(name)))
