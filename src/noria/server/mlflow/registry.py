"""MLflow's model-registry endpoints (``registered-models/*``, ``model-versions/*``) over
Noria's registry service, so every change is audited and the approval policy applies.

Versions whose source is a run path (``runs:/…`` or the run's ``mlflow-artifacts:/…``
folder) download through the proxied artifact routes. MLflow 3's logged-model sources
(``models:/m-…``) need the logged-model routes, which Noria does not serve yet.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Query

from noria.client import Client
from noria.domain.logged_models import logged_model_id
from noria.domain.registry import ModelVersion, RegisteredModel
from noria.domain.uris import RunUri, parse_uri
from noria.errors import InvalidArgument
from noria.server.deps import ClientDep
from noria.server.mlflow import protocol
from noria.server.mlflow.logged_models import model_artifact_uri
from noria.server.mlflow.messages import Message

router = APIRouter(tags=["mlflow"])
_NAME_FILTER = re.compile(r"""^\s*name\s*(=|LIKE|ILIKE)\s*'((?:[^']|'')*)'\s*$""", re.IGNORECASE)
_VERSION_FILTER = re.compile(r"""^\s*(name|run_id)\s*=\s*'((?:[^']|'')*)'\s*$""", re.IGNORECASE)


class KeyValueIn(Message):
    key: str
    value: str = ""


class CreateRegisteredModel(Message):
    name: str
    tags: list[KeyValueIn] = []
    description: str = ""


class ModelName(Message):
    name: str


class UpdateRegisteredModel(Message):
    name: str
    description: str = ""


class ModelTag(Message):
    name: str
    key: str
    value: str = ""


class SearchModels(Message):
    filter: str = ""
    max_results: int | None = None
    page_token: str | None = None


class AliasIn(Message):
    name: str
    alias: str
    version: int = 0


class CreateModelVersion(Message):
    name: str
    source: str
    run_id: str | None = None
    tags: list[KeyValueIn] = []
    description: str = ""


class VersionRef(Message):
    name: str
    version: int


class UpdateModelVersion(VersionRef):
    description: str = ""


class VersionTag(VersionRef):
    key: str
    value: str = ""


def _aliases(aliases: dict[str, int]) -> list[dict[str, str]]:
    return [{"alias": alias, "version": str(version)} for alias, version in aliases.items()]


def version_json(version: ModelVersion) -> dict[str, Any]:
    return {
        "name": version.name,
        "version": str(version.version),
        "creation_timestamp": version.created_at,
        "last_updated_timestamp": version.updated_at,
        "description": version.description,
        "user_id": version.created_by,
        "current_stage": "None",
        "source": version.source,
        "run_id": version.run_id or "",
        "status": version.status.value,
        "tags": protocol.key_values(version.tags),
        "aliases": list(version.aliases),
    }


def model_json(model: RegisteredModel, latest: ModelVersion | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": model.name,
        "creation_timestamp": model.created_at,
        "last_updated_timestamp": model.updated_at,
        "description": model.description,
        "tags": protocol.key_values(model.tags),
        "aliases": _aliases(model.aliases),
    }
    if latest is not None:
        body["latest_versions"] = [version_json(latest)]
    return body


def _model_body(client: Client, name: str) -> dict[str, Any]:
    model = client.registry.get_model(name)
    latest = None
    if model.latest_version is not None:
        latest = client.registry.get_version(name, model.latest_version)
    return {"registered_model": model_json(model, latest)}


# -- registered models -------------------------------------------------------------------


@router.post("/registered-models/create")
def create_registered_model(body: CreateRegisteredModel, client: ClientDep) -> dict[str, Any]:
    tags = {tag.key: tag.value for tag in body.tags}
    client.registry.create_model(body.name, description=body.description, tags=tags)
    return _model_body(client, body.name)


@router.get("/registered-models/get")
def get_registered_model(client: ClientDep, name: Annotated[str, Query()]) -> dict[str, Any]:
    return _model_body(client, name)


@router.patch("/registered-models/update")
def update_registered_model(body: UpdateRegisteredModel, client: ClientDep) -> dict[str, Any]:
    client.metadata.models.update_model(body.name, description=body.description)
    return _model_body(client, body.name)


@router.delete("/registered-models/delete")
def delete_registered_model(body: ModelName, client: ClientDep) -> dict[str, Any]:
    client.registry.delete_model(body.name, force=True)  # MLflow deletes with its aliases
    return {}


@router.post("/registered-models/set-tag")
def set_registered_model_tag(body: ModelTag, client: ClientDep) -> dict[str, Any]:
    client.metadata.models.set_model_tag(body.name, body.key, body.value)
    return {}


@router.delete("/registered-models/delete-tag")
def delete_registered_model_tag(body: ModelTag, client: ClientDep) -> dict[str, Any]:
    client.metadata.models.delete_model_tag(body.name, body.key)
    return {}


@router.get("/registered-models/search")
def search_registered_models_get(
    client: ClientDep,
    filter: str = "",
    max_results: int | None = None,
    page_token: str | None = None,
) -> dict[str, Any]:
    return _search_models(client, SearchModels(filter=filter, max_results=max_results,
                                               page_token=page_token))  # fmt: skip


@router.post("/registered-models/search")
def search_registered_models(body: SearchModels, client: ClientDep) -> dict[str, Any]:
    return _search_models(client, body)


def _search_models(client: Client, body: SearchModels) -> dict[str, Any]:
    name_like = None
    for part in protocol.filter_conditions(body.filter):
        match = _NAME_FILTER.fullmatch(part)
        if match is None or name_like is not None:
            raise InvalidArgument(
                f"Unsupported registered-model filter {body.filter!r}: use one condition, "
                "name = 'x' or name LIKE '%x%'."
            )
        name_like = protocol.unquote(match.group(2))
    page = client.registry.search_models(
        name_like=name_like, limit=protocol.page_size(body.max_results, 100),
        page_token=body.page_token,
    )  # fmt: skip
    models = [_model_body(client, model.name)["registered_model"] for model in page.items]
    return protocol.page_json("registered_models", models, page.next_page_token)


@router.post("/registered-models/alias")
def set_registered_model_alias(body: AliasIn, client: ClientDep) -> dict[str, Any]:
    client.registry.set_alias(body.name, body.alias, body.version)
    return {}


@router.delete("/registered-models/alias")
def delete_registered_model_alias(body: AliasIn, client: ClientDep) -> dict[str, Any]:
    client.registry.delete_alias(body.name, body.alias)
    return {}


@router.get("/registered-models/alias")
def get_model_version_by_alias(
    client: ClientDep, name: Annotated[str, Query()], alias: Annotated[str, Query()]
) -> dict[str, Any]:
    return {"model_version": version_json(client.registry.resolve(f"models:/{name}@{alias}"))}


# -- model versions ----------------------------------------------------------------------


@router.post("/model-versions/create")
def create_model_version(body: CreateModelVersion, client: ClientDep) -> dict[str, Any]:
    tags = {tag.key: tag.value for tag in body.tags}
    version = client.registry.register(
        _noria_source(body.source, body.run_id), body.name, description=body.description,
        tags=tags,
    )  # fmt: skip
    return {"model_version": version_json(version)}


def _noria_source(source: str, run_id: str | None) -> str:
    """A run's ``mlflow-artifacts:/<exp>/<run>/artifacts/<path>`` as ``runs:/<run>/<path>``."""
    prefix = f"{protocol.ARTIFACT_SCHEME}/"
    if source.startswith(prefix):
        parts = source[len(prefix) :].split("/", 3)
        if len(parts) >= 3 and parts[2] == "artifacts" and (run_id in (None, "", parts[1])):
            path = parts[3] if len(parts) == 4 else ""
            return f"runs:/{parts[1]}/{path}".rstrip("/")
    return source


@router.get("/model-versions/get")
def get_model_version(
    client: ClientDep, name: Annotated[str, Query()], version: Annotated[int, Query()]
) -> dict[str, Any]:
    return {"model_version": version_json(client.registry.get_version(name, version))}


@router.patch("/model-versions/update")
def update_model_version(body: UpdateModelVersion, client: ClientDep) -> dict[str, Any]:
    updated = client.metadata.model_versions.update_version(
        body.name, body.version, description=body.description
    )
    return {"model_version": version_json(updated)}


@router.delete("/model-versions/delete")
def delete_model_version(body: VersionRef, client: ClientDep) -> dict[str, Any]:
    client.registry.delete_version(body.name, body.version, force=True)
    return {}


@router.post("/model-versions/set-tag")
def set_model_version_tag(body: VersionTag, client: ClientDep) -> dict[str, Any]:
    client.metadata.model_versions.set_version_tag(body.name, body.version, body.key, body.value)
    return {}


@router.delete("/model-versions/delete-tag")
def delete_model_version_tag(body: VersionTag, client: ClientDep) -> dict[str, Any]:
    client.metadata.model_versions.delete_version_tag(body.name, body.version, body.key)
    return {}


@router.get("/model-versions/search")
def search_model_versions_get(
    client: ClientDep,
    filter: str = "",
    max_results: int | None = None,
    page_token: str | None = None,
) -> dict[str, Any]:
    return _search_versions(client, SearchModels(filter=filter, max_results=max_results,
                                                 page_token=page_token))  # fmt: skip


@router.post("/model-versions/search")
def search_model_versions(body: SearchModels, client: ClientDep) -> dict[str, Any]:
    return _search_versions(client, body)


def _search_versions(client: Client, body: SearchModels) -> dict[str, Any]:
    conditions: dict[str, str] = {}
    for part in protocol.filter_conditions(body.filter):
        match = _VERSION_FILTER.fullmatch(part)
        if match is None:
            raise InvalidArgument(
                f"Unsupported model-version filter {body.filter!r}: use name = 'x' and/or "
                "run_id = '…'."
            )
        conditions[match.group(1).lower()] = protocol.unquote(match.group(2))
    page = client.metadata.model_versions.search_versions(
        name=conditions.get("name"), run_id=conditions.get("run_id"),
        limit=protocol.page_size(body.max_results, 100), page_token=body.page_token,
    )  # fmt: skip
    versions = [version_json(version) for version in page.items]
    return protocol.page_json("model_versions", versions, page.next_page_token)


@router.get("/model-versions/get-download-uri")
def get_model_version_download_uri(
    client: ClientDep, name: Annotated[str, Query()], version: Annotated[int, Query()]
) -> dict[str, Any]:
    return {"artifact_uri": _storage_location(client, client.registry.get_version(name, version))}


def _storage_location(client: Client, version: ModelVersion) -> str:
    """Where MLflow's client downloads the version's files from."""
    if (model_id := logged_model_id(version.source)) is not None:
        return model_artifact_uri(client.metadata.logged_models.get(model_id, allow_deleted=True))
    parsed = parse_uri(version.source) if version.source.startswith("runs:") else None
    if isinstance(parsed, RunUri):
        run = client.metadata.runs.get_run(parsed.run_id)
        base = protocol.run_artifact_uri(run.info.experiment_id, run.info.id)
        return f"{base}/{parsed.path}".rstrip("/")
    return version.source
