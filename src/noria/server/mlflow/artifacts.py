"""MLflow's proxied artifact endpoints (``/api/2.0/mlflow-artifacts/artifacts``).

A run's ``artifact_uri`` is ``mlflow-artifacts:/<experiment>/<run>/artifacts`` and an
MLflow 3 logged model's is ``mlflow-artifacts:/<experiment>/models/<model>/artifacts``.
The bytes go to Noria's content-addressed store and the path to the run's (or model's)
file list, where Noria's SDK sees them too; reads are streamed and verified against
the digest.
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

_ACCEPTED = (
    "<experiment_id>/<run_id>/artifacts[/<path>] or "
    "<experiment_id>/models/<model_id>/artifacts[/<path>]"
)


@dataclass(frozen=True, slots=True)
class ArtifactPath:
    """A path under a run's or a logged model's artifact root."""

    experiment_id: str
    owner_id: str  # a run id, or a logged model id when ``model`` is set
    relative: str  # '' for the root
    model: bool = False

    def describe(self) -> str:
        return f"{'Logged model' if self.model else 'Run'} {self.owner_id!r}"

    def list_files(self, client: Client) -> list[RunArtifact]:
        if self.model:
            return client.metadata.logged_models.list_files(self.owner_id, self.relative)
        return client.metadata.run_data.list_artifacts(self.owner_id, self.relative)

    def find_file(self, client: Client) -> RunArtifact | None:
        if self.model:
            return client.metadata.logged_models.find_file(self.owner_id, self.relative)
        return client.metadata.run_data.find_artifact(self.owner_id, self.relative)

    def record_file(self, client: Client, entry: RunArtifact) -> None:
        if self.model:
            client.metadata.logged_models.record_files(self.owner_id, [entry])
        else:
            client.metadata.run_data.record_artifacts(self.owner_id, [entry])


def locate(path: str, client: Client) -> ArtifactPath:
    """Parse ``path`` and check that its run (or model) exists in that experiment."""
    parts = path.strip("/").split("/")
    model = len(parts) >= 4 and parts[1] == "models" and parts[3] == "artifacts"
    root = 4 if model else 3
    if len(parts) < root or parts[root - 1] != "artifacts" or not all(parts[: root - 1]):
        raise InvalidArgument(
            f"Artifact path {path!r} is not under a run or a logged model: Noria serves "
            f"MLflow artifacts at {_ACCEPTED}, as in their artifact_uri."
        )
    rest = "/".join(parts[root:])
    relative = check_tree_path(rest) if rest else ""
    owner_id = parts[root - 2]
    if model:
        experiment_id = client.metadata.logged_models.get(owner_id).experiment_id
    else:
        experiment_id = client.metadata.runs.get_run(owner_id).info.experiment_id
    where = ArtifactPath(parts[0], owner_id, relative, model)
    if experiment_id != parts[0]:
        raise NotFound(
            f"{where.describe()} is not in experiment {parts[0]!r} (it is in "
            f"{experiment_id!r}); use its artifact_uri."
        )
    return where


@router.get("")
def list_artifacts(client: ClientDep, path: str = "") -> dict[str, Any]:
    """The files and folders directly inside ``path``; names are relative to it."""
    where = locate(path, client)
    prefix = f"{where.relative}/" if where.relative else ""
    files: list[dict[str, Any]] = []
    folders: set[str] = set()
    for artifact in where.list_files(client):
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
    found = where.find_file(client)
    if found is None:
        raise NotFound(
            f"{where.describe()} has no artifact {where.relative!r}; list its artifacts to "
            "see what it has."
        )
    source = client.artifacts.open(Digest.parse(found.digest))
    return StreamingResponse(iter_file(source), media_type=found.media_type)


def _store(client: Client, where: ArtifactPath, body: BinaryIO, media_type: str) -> None:
    ref = client.artifacts.put_stream(body, media_type=media_type)
    where.record_file(client, RunArtifact(where.relative, str(ref.digest), ref.size, media_type))
