"""MLflow 3's logged-model endpoints (``/api/2.0/mlflow/logged-models``).

MLflow 3's ``log_model`` creates a logged model, uploads its files under the model's
``artifact_uri`` (``mlflow-artifacts:/<experiment>/models/<id>/artifacts``), marks it
READY and registers versions from ``models:/<id>``. Loading ``runs:/<run>/<name>``
finds the model by searching the run's experiment for that name.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Query

from noria.client import Client
from noria.domain.logged_models import LoggedModel, LoggedModelStatus, NewLoggedModel
from noria.errors import InvalidArgument
from noria.ports.logged_models import LoggedModelSearch
from noria.server.deps import ClientDep
from noria.server.mlflow import messages, protocol

router = APIRouter(prefix="/logged-models", tags=["mlflow"])

_STATUS_NAMES = {
    LoggedModelStatus.PENDING: "LOGGED_MODEL_PENDING",
    LoggedModelStatus.READY: "LOGGED_MODEL_READY",
    LoggedModelStatus.FAILED: "LOGGED_MODEL_UPLOAD_FAILED",
}
_STATUS_BY_WIRE = {
    **{name: status for status, name in _STATUS_NAMES.items()},
    **{str(number): status for number, status in enumerate(_STATUS_NAMES, start=1)},
    **{status.value: status for status in LoggedModelStatus},
}
_CONDITION = re.compile(
    r"""^\s*(?:attributes\.)?(name|source_run_id|status)\s*=\s*'((?:[^']|'')*)'\s*$""",
    re.IGNORECASE,
)


def model_artifact_uri(model: LoggedModel) -> str:
    return f"{protocol.ARTIFACT_SCHEME}/{model.experiment_id}/models/{model.id}/artifacts"


def model_json(model: LoggedModel) -> dict[str, Any]:
    info: dict[str, Any] = {
        "model_id": model.id,
        "experiment_id": model.experiment_id,
        "name": model.name,
        "creation_timestamp_ms": model.created_at,
        "last_updated_timestamp_ms": model.updated_at,
        "artifact_uri": model_artifact_uri(model),
        "status": _STATUS_NAMES[model.status],
        "status_message": model.status_message,
        "model_type": model.model_type,
        "tags": protocol.key_values(model.tags),
    }
    if model.source_run_id:
        info["source_run_id"] = model.source_run_id
    return {"info": info, "data": {"params": protocol.key_values(model.params), "metrics": []}}


def _status(value: str | int) -> LoggedModelStatus:
    found = _STATUS_BY_WIRE.get(str(value).upper())
    if found is None:
        known = ", ".join(_STATUS_NAMES.values())
        raise InvalidArgument(f"Unknown logged model status {value!r}: use one of {known}.")
    return found


def _entries(items: list[messages.KeyValue]) -> dict[str, str]:
    return {item.key: item.value for item in items}


@router.post("")
def create_logged_model(body: messages.CreateLoggedModel, client: ClientDep) -> dict[str, Any]:
    new = NewLoggedModel(
        experiment_id=body.experiment_id,
        name=body.name or protocol.new_run_name(),
        source_run_id=body.source_run_id or None,
        model_type=body.model_type,
        tags=_entries(body.tags),
        params=_entries(body.params),
    )
    return {"model": model_json(client.metadata.logged_models.create(new))}


@router.post("/search")
def search_logged_models(body: messages.SearchLoggedModels, client: ClientDep) -> dict[str, Any]:
    """Filters: ``name``, ``source_run_id`` and ``status`` equalities joined by AND."""
    if body.order_by:
        raise InvalidArgument(
            "Ordering logged models is not supported: they are listed newest first; drop order_by."
        )
    query = _search(body)
    page = client.metadata.logged_models.search(
        query, limit=protocol.page_size(body.max_results, 100), page_token=body.page_token
    )
    models = [model_json(model) for model in page.items]
    return protocol.page_json("models", models, page.next_page_token)


def _search(body: messages.SearchLoggedModels) -> LoggedModelSearch:
    if not body.experiment_ids:
        raise InvalidArgument("Searching logged models needs experiment_ids: name at least one.")
    found: dict[str, str] = {}
    for part in protocol.filter_conditions(body.filter or ""):
        match = _CONDITION.fullmatch(part)
        if match is None:
            raise InvalidArgument(
                f"Unsupported logged-model filter {part!r}: use name = '…', "
                "source_run_id = '…' or status = '…', joined by AND."
            )
        found[match.group(1).lower()] = protocol.unquote(match.group(2))
    status = found.get("status")
    return LoggedModelSearch(
        tuple(body.experiment_ids),
        name=found.get("name"),
        source_run_id=found.get("source_run_id"),
        status=None if status is None else _status(status),
    )


@router.get("/{model_id}")
def get_logged_model(
    model_id: str, client: ClientDep, allow_deleted: Annotated[bool, Query()] = False
) -> dict[str, Any]:
    found = client.metadata.logged_models.get(model_id, allow_deleted=allow_deleted)
    return {"model": model_json(found)}


@router.patch("/{model_id}")
def finalize_logged_model(
    model_id: str, body: messages.FinalizeLoggedModel, client: ClientDep
) -> dict[str, Any]:
    updated = client.metadata.logged_models.update(model_id, status=_status(body.status))
    return {"model": model_json(updated)}


@router.delete("/{model_id}")
def delete_logged_model(model_id: str, client: ClientDep) -> dict[str, Any]:
    client.metadata.logged_models.delete(model_id)
    return {}


@router.patch("/{model_id}/tags")
def set_logged_model_tags(
    model_id: str, body: messages.LoggedModelEntries, client: ClientDep
) -> dict[str, Any]:
    updated = client.metadata.logged_models.update(model_id, set_tags=_entries(body.tags))
    return {"model": model_json(updated)}


@router.delete("/{model_id}/tags/{tag_key:path}")
def delete_logged_model_tag(model_id: str, tag_key: str, client: ClientDep) -> dict[str, Any]:
    client.metadata.logged_models.update(model_id, delete_tags=[tag_key])
    return {}


@router.post("/{model_id}/params")
def log_logged_model_params(
    model_id: str, body: messages.LoggedModelEntries, client: ClientDep
) -> dict[str, Any]:
    client.metadata.logged_models.update(model_id, params=_entries(body.params))
    return {}


def check_outputs(client: Client, body: messages.LogOutputs) -> None:
    """A run's model outputs must exist; the link itself is the model's source run."""
    client.metadata.runs.get_run(body.id)
    for output in body.models:
        client.metadata.logged_models.get(output.model_id)
