"""The model registry over REST (``/api/v1/models``, ``/api/v1/model-versions``)."""

from __future__ import annotations

from typing import Any

from noria.backends.http.paging import page_params
from noria.backends.http.tracking import segment
from noria.backends.http.transport import HttpTransport
from noria.domain.paging import Page
from noria.domain.registry import (
    ApprovalPolicy,
    GateRecord,
    ModelVersion,
    NewModelVersion,
    RegisteredModel,
)
from noria.wire.registry import (
    AliasMoved,
    CreateModelRequest,
    CreateVersionRequest,
    GateBody,
    ModelBody,
    ModelPage,
    ModelVersionBody,
    ModelVersionPage,
    PolicyBody,
)


def _model(name: str) -> str:
    return f"/api/v1/models/{segment(name)}"


def _version(name: str, version: int) -> str:
    return f"{_model(name)}/versions/{int(version)}"


class HttpRegisteredModelRepo:
    def __init__(self, transport: HttpTransport) -> None:
        self._http = transport

    def _body(self, answer: Any) -> RegisteredModel:
        return ModelBody.model_validate(answer).to_domain()

    def create_model(
        self, name: str, *, description: str = "", tags: dict[str, str] | None = None
    ) -> RegisteredModel:
        body = CreateModelRequest(name=name, description=description, tags=tags or {})
        return self._body(self._http.json("POST", "/api/v1/models", json=body.model_dump()))

    def get_model(self, name: str) -> RegisteredModel:
        return self._body(self._http.json("GET", _model(name)))

    def search_models(
        self, *, name_like: str | None = None, limit: int = 100, page_token: str | None = None
    ) -> Page[RegisteredModel]:
        params = page_params(limit, page_token, name_like=name_like)
        page = ModelPage.model_validate(self._http.json("GET", "/api/v1/models", params=params))
        return Page([body.to_domain() for body in page.models], page.next_page_token)

    def update_model(self, name: str, *, description: str) -> RegisteredModel:
        return self._body(self._http.json("PATCH", _model(name), json={"description": description}))

    def delete_model(self, name: str, *, force: bool = False) -> RegisteredModel:
        return self._body(
            self._http.json("DELETE", _model(name), params={"force": str(force).lower()})
        )

    def set_model_tag(self, name: str, key: str, value: str) -> None:
        self._http.request("PUT", f"{_model(name)}/tags/{segment(key)}", json={"value": value})

    def delete_model_tag(self, name: str, key: str) -> None:
        self._http.request("DELETE", f"{_model(name)}/tags/{segment(key)}")

    def set_policy(self, name: str, policy: ApprovalPolicy) -> RegisteredModel:
        body = PolicyBody.from_domain(policy).model_dump()
        return self._body(self._http.json("PUT", f"{_model(name)}/policy", json=body))


class HttpModelVersionRepo:
    def __init__(self, transport: HttpTransport) -> None:
        self._http = transport

    def _body(self, answer: Any) -> ModelVersion:
        return ModelVersionBody.model_validate(answer).to_domain()

    def create_version(self, new: NewModelVersion) -> ModelVersion:
        body = CreateVersionRequest.from_domain(new).model_dump_json()  # NaN/inf as strings
        answer = self._http.json(
            "POST",
            f"{_model(new.name)}/versions",
            content=body,
            headers={"content-type": "application/json"},
        )
        return self._body(answer)

    def get_version(self, name: str, version: int) -> ModelVersion:
        return self._body(self._http.json("GET", _version(name, version)))

    def search_versions(
        self,
        *,
        name: str | None = None,
        run_id: str | None = None,
        limit: int = 100,
        page_token: str | None = None,
    ) -> Page[ModelVersion]:
        params = page_params(limit, page_token, name=name, run_id=run_id)
        answer = self._http.json("GET", "/api/v1/model-versions", params=params)
        page = ModelVersionPage.model_validate(answer)
        return Page([body.to_domain() for body in page.versions], page.next_page_token)

    def update_version(self, name: str, version: int, *, description: str) -> ModelVersion:
        return self._body(
            self._http.json("PATCH", _version(name, version), json={"description": description})
        )

    def set_version_tag(self, name: str, version: int, key: str, value: str) -> None:
        path = f"{_version(name, version)}/tags/{segment(key)}"
        self._http.request("PUT", path, json={"value": value})

    def delete_version_tag(self, name: str, version: int, key: str) -> None:
        self._http.request("DELETE", f"{_version(name, version)}/tags/{segment(key)}")

    def delete_version(self, name: str, version: int, *, force: bool = False) -> ModelVersion:
        params = {"force": str(force).lower()}
        return self._body(self._http.json("DELETE", _version(name, version), params=params))

    def record_gate(self, name: str, version: int, gate: GateRecord) -> ModelVersion:
        body = GateBody.model_validate(gate, from_attributes=True).model_dump()
        return self._body(self._http.json("PUT", f"{_version(name, version)}/gate", json=body))


class HttpPromotionRepo:
    def __init__(self, transport: HttpTransport) -> None:
        self._http = transport

    def approve(self, name: str, version: int, *, approver: str) -> ModelVersion:
        answer = self._http.json(
            "POST", f"{_version(name, version)}/approve", json={"approver": approver}
        )
        return ModelVersionBody.model_validate(answer).to_domain()

    def set_alias(self, name: str, alias: str, version: int) -> int | None:
        path = f"{_model(name)}/aliases/{segment(alias)}"
        answer = self._http.json("PUT", path, json={"version": int(version)})
        return AliasMoved.model_validate(answer).previous_version

    def delete_alias(self, name: str, alias: str) -> int:
        answer = self._http.json("DELETE", f"{_model(name)}/aliases/{segment(alias)}")
        previous = AliasMoved.model_validate(answer).previous_version
        return int(previous or 0)

    def version_by_alias(self, name: str, alias: str) -> ModelVersion:
        answer = self._http.json("GET", f"{_model(name)}/aliases/{segment(alias)}")
        return ModelVersionBody.model_validate(answer).to_domain()
