"""MLflow's proxied artifact endpoints (``/api/2.0/mlflow-artifacts/artifacts``).

A run's ``artifact_uri`` is ``mlflow-artifacts:/<experiment>/<run>/artifacts``, so the
client uploads to ``<experiment>/<run>/artifacts/<path>``. The bytes go to Noria's
content-addressed store and the path to the run's artifact list, where Noria's SDK
sees them too; reads are streamed and verified against the digest.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, BinaryIO

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from noria.artifacts.trees import check_tree_path
from noria.client import Client
from noria.domain.artifacts import DEFAULT_MEDIA_TYPE, Digest
from noria.domain.tracking import RunArtifact
from noria.errors import InvalidArgument, NotFound
from noria.server.deps import ClientDep
from noria.server.streams import iter_file, spool_body

router = APIRouter(prefix="/api/2.0/mlflow-artifacts/artifacts", tags=["mlflow"])

_ACCEPTED = "<experiment_id>/<run_id>/artifacts[/<path>]"


@dataclass(frozen=True, slots=True)
class RunPath:
    """A path under a run's artifact root: ``<experiment>/<run>/artifacts/<relative>``."""

    experiment_id: str
    run_id: str
    relative: str  # '' for the root


def locate(path: str, client: Client) -> RunPath:
    """Parse ``path`` and check that the run exists in that experiment."""
    parts = path.strip("/").split("/", 3)
    if len(parts) < 3 or parts[2] != "artifacts" or not parts[0] or not parts[1]:
        raise InvalidArgument(
            f"Artifact path {path!r} is not under a run: Noria serves MLflow artifacts at "
            f"{_ACCEPTED}, as in a run's artifact_uri."
        )
    relative = check_tree_path(parts[3]) if len(parts) == 4 and parts[3] else ""
    run = client.metadata.runs.get_run(parts[1])
    if run.info.experiment_id != parts[0]:
        raise NotFound(
            f"Run {parts[1]!r} is not in experiment {parts[0]!r} (it is in "
            f"{run.info.experiment_id!r}); use the run's artifact_uri."
        )
    return RunPath(parts[0], parts[1], relative)


@router.get("")
def list_artifacts(client: ClientDep, path: str = "") -> dict[str, Any]:
    """The files and folders directly inside ``path``; names are relative to it."""
    where = locate(path, client)
    prefix = f"{where.relative}/" if where.relative else ""
    files: list[dict[str, Any]] = []
    folders: set[str] = set()
    for artifact in client.metadata.run_data.list_artifacts(where.run_id, where.relative):
        if not artifact.path.startswith(prefix):
            continue  # the port promises files under the folder; a file path lists empty
        name, slash, _ = artifact.path[len(prefix) :].partition("/")
        if slash:
            folders.add(name)
        else:
            files.append({"path": name, "is_dir": False, "file_size": artifact.size})
    files += [{"path": name, "is_dir": True} for name in sorted(folders)]
    return {"files": files}


@router.put("/{path:path}")
async def upload_artifact(path: str, request: Request, client: ClientDep) -> dict[str, Any]:
    media_type = request.headers.get("content-type") or DEFAULT_MEDIA_TYPE
    where = await run_in_threadpool(locate, path, client)
    if not where.relative:
        raise InvalidArgument(f"Artifact path {path!r} names no file: upload to {_ACCEPTED}.")
    body = await spool_body(request)
    try:
        await run_in_threadpool(_store, client, where, body, media_type)
    finally:
        body.close()
    return {}


@router.get("/{path:path}")
def download_artifact(path: str, client: ClientDep) -> StreamingResponse:
    where = locate(path, client)
    found = client.metadata.run_data.find_artifact(where.run_id, where.relative)
    if found is None:
        raise NotFound(
            f"Run {where.run_id!r} has no artifact {where.relative!r}; list the run's "
            "artifacts to see what it has."
        )
    source = client.artifacts.open(Digest.parse(found.digest))
    return StreamingResponse(iter_file(source), media_type=found.media_type)


def _store(client: Client, where: RunPath, body: BinaryIO, media_type: str) -> None:
    ref = client.artifacts.put_stream(body, media_type=media_type)
    entry = RunArtifact(where.relative, str(ref.digest), ref.size, media_type)
    client.metadata.run_data.record_artifacts(where.run_id, [entry])
