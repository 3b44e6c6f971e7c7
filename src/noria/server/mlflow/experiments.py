"""MLflow's experiment endpoints (``/api/2.0/mlflow/experiments/*``) over Noria's repo."""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Query

from noria.domain.tracking import Experiment, LifecycleStage, ViewType
from noria.errors import InvalidArgument, NotFound
from noria.server.deps import ClientDep
from noria.server.mlflow import messages, protocol

router = APIRouter(prefix="/experiments", tags=["mlflow"])

# MLflow's experiment filter as far as Noria's repo can answer it: one condition on the name.
# The repo matches LIKE patterns case-insensitively, so LIKE behaves as ILIKE here.
_NAME_FILTER = re.compile(
    r"""^\s*(?:(?:attributes?|attr)\.)?name\s+(=|LIKE|ILIKE)\s*(?:'((?:[^']|'')*)'|"((?:[^"]|"")*)")\s*$""",
    re.IGNORECASE,
)
_FILTER_HELP = "name = 'x', name LIKE '%x%' or name ILIKE '%x%'"


@router.post("/create")
def create_experiment(body: messages.CreateExperiment, client: ClientDep) -> dict[str, Any]:
    if body.artifact_location:
        raise InvalidArgument(
            f"artifact_location {body.artifact_location!r} is not supported: a Noria server "
            "stores every run's artifacts itself; leave artifact_location unset."
        )
    tags = {tag.key: tag.value for tag in body.tags}
    experiment = client.metadata.experiments.create_experiment(body.name, tags=tags)
    return {"experiment_id": experiment.id}


@router.get("/get")
def get_experiment(
    client: ClientDep, experiment_id: Annotated[str, Query(min_length=1)]
) -> dict[str, Any]:
    experiment = client.metadata.experiments.get_experiment(experiment_id)
    return {"experiment": protocol.experiment_json(experiment)}


@router.get("/get-by-name")
def get_experiment_by_name(
    client: ClientDep, experiment_name: Annotated[str, Query(min_length=1)]
) -> dict[str, Any]:
    experiment = client.metadata.experiments.find_experiment_by_name(experiment_name)
    if experiment is None:
        # RESOURCE_DOES_NOT_EXIST is what tells mlflow.set_experiment to create it.
        raise NotFound(
            f"Experiment {experiment_name!r} not found; create it with "
            "mlflow.create_experiment or mlflow.set_experiment."
        )
    return {"experiment": protocol.experiment_json(experiment)}


@router.post("/search")
def search_experiments(body: messages.SearchExperiments, client: ClientDep) -> dict[str, Any]:
    if body.order_by:
        raise InvalidArgument(
            f"order_by {body.order_by!r} is not supported for experiments: Noria lists them "
            "in its own fixed order; sort the results on the client."
        )
    view = protocol.view_type(body.view_type)
    operator, pattern = _parse_filter(body.filter)
    if operator == "=":
        return protocol.page_json("experiments", _exact(client, pattern, view), None)
    page = client.metadata.experiments.list_experiments(
        view=view,
        name_like=pattern,
        limit=protocol.page_size(body.max_results),
        page_token=body.page_token or None,
    )
    experiments = [protocol.experiment_json(experiment) for experiment in page.items]
    return protocol.page_json("experiments", experiments, page.next_page_token)


@router.post("/update")
def rename_experiment(body: messages.UpdateExperiment, client: ClientDep) -> dict[str, Any]:
    client.metadata.experiments.rename_experiment(body.experiment_id, body.new_name)
    return {}


@router.post("/delete")
def delete_experiment(body: messages.ExperimentRef, client: ClientDep) -> dict[str, Any]:
    client.metadata.experiments.set_experiment_stage(body.experiment_id, LifecycleStage.DELETED)
    return {}


@router.post("/restore")
def restore_experiment(body: messages.ExperimentRef, client: ClientDep) -> dict[str, Any]:
    client.metadata.experiments.set_experiment_stage(body.experiment_id, LifecycleStage.ACTIVE)
    return {}


@router.post("/set-experiment-tag")
def set_experiment_tag(body: messages.SetExperimentTag, client: ClientDep) -> dict[str, Any]:
    client.metadata.experiments.set_experiment_tag(body.experiment_id, body.key, body.value)
    return {}


def _parse_filter(text: str) -> tuple[str, str | None]:
    """(operator, pattern) of a name condition; ("", None) for no filter."""
    if not text.strip():
        return "", None
    match = _NAME_FILTER.match(text)
    if match is None:
        raise InvalidArgument(
            f"Unsupported experiment filter {text!r}: Noria answers one condition on the "
            f"name, e.g. {_FILTER_HELP}."
        )
    operator, single, double = match.groups()
    pattern = single.replace("''", "'") if single is not None else double.replace('""', '"')
    return operator.upper(), pattern


def _exact(client: ClientDep, name: str | None, view: ViewType) -> list[dict[str, Any]]:
    found: Experiment | None = None
    if name:
        found = client.metadata.experiments.find_experiment_by_name(name)
    if found is None or found.lifecycle_stage not in view.stages():
        return []
    return [protocol.experiment_json(found)]
