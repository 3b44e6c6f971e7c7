"""Module-level model API: log a model in the active run, register it, alias it, load it.

>>> with noria.start_run():
...     uri = noria.log_model(clf, name="model", input_example=X[:5])
>>> version = noria.register_model(uri, "credit-risk")
>>> noria.set_alias("credit-risk", "champion", version.version)
>>> noria.load_model("models:/credit-risk@champion").predict(X)
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from noria.client import Client, default_client
from noria.domain.logged_models import logged_model_id
from noria.domain.registry import ModelVersion
from noria.domain.uris import RunUri, parse_uri
from noria.errors import InvalidArgument, Unsupported
from noria.fluent import active_run

if TYPE_CHECKING:
    from noria.models.format import LoadedModel

MANIFEST = "noria-model.yaml"


def _client(client: Client | None) -> Client:
    return client if client is not None else default_client()


def log_model(
    model: Any,
    name: str = "model",
    *,
    input_example: Any = None,
    flavor: str | None = None,
    metadata: Mapping[str, Any] | None = None,
    registered_model_name: str | None = None,
) -> str:
    """Save ``model`` in Noria's format as the active run's ``<name>/`` folder; returns its
    ``runs:/<run-id>/<name>`` URI (and registers it when ``registered_model_name`` is given)."""
    from noria.models.format import save_model

    run = active_run()
    if run is None:
        raise InvalidArgument(
            "log_model needs an active run: call it inside `with noria.start_run():`."
        )
    name = name.strip("/")
    if not name:
        raise InvalidArgument("log_model needs a non-empty name, e.g. name='model'.")
    with tempfile.TemporaryDirectory(prefix="noria-model-") as folder:
        target = Path(folder) / "model"
        save_model(model, target, flavor=flavor, input_example=input_example, metadata=metadata)
        run.log_artifacts(target, name)
    uri = f"runs:/{run.id}/{name}"
    if registered_model_name is not None:
        register_model(uri, registered_model_name)
    return uri


def register_model(uri: str, name: str, *, client: Client | None = None) -> ModelVersion:
    """The next version of ``name`` (created on first use) from a logged model."""
    opened = _client(client)
    run_uri = _run_uri(uri)
    with tempfile.TemporaryDirectory(prefix="noria-manifest-") as folder:
        signature = _signature_json(opened, run_uri, Path(folder))
    return opened.registry.register(uri, name, signature_json=signature)


def _signature_json(client: Client, uri: RunUri, folder: Path) -> str:
    from noria.models.manifest import read_manifest

    manifest_path = f"{uri.path}/{MANIFEST}" if uri.path else MANIFEST
    if client.tracker.run_data.find_artifact(uri.run_id, manifest_path) is None:
        return ""  # not a Noria-format model (e.g. files logged by hand): no signature
    client.tracker.download_artifacts(uri.run_id, manifest_path, folder)
    manifest = read_manifest(folder)
    return "" if manifest.signature is None else manifest.signature.model_dump_json()


def set_alias(
    model_name: str, alias: str, version: int, *, client: Client | None = None
) -> int | None:
    """Point ``alias`` at ``version``; returns the version it pointed at before."""
    return _client(client).registry.set_alias(model_name, alias, version)


def load_model(
    uri: str, *, client: Client | None = None, strict_environment: bool = False
) -> LoadedModel:
    """Load ``runs:/<id>/<path>``, ``models:/<name>/<version>`` or ``models:/<name>@<alias>``."""
    from noria.models.format import load_model as load_directory

    directory = model_directory(uri, client=client)
    return load_directory(directory, strict_environment=strict_environment)


def model_directory(uri: str, *, client: Client | None = None) -> Path:
    """The model's files in the local cache (``<home>/cache/models/…``), fetched once."""
    opened = _client(client)
    source = opened.registry.resolve(uri).source if uri.startswith("models:") else uri
    run_uri = _run_uri(source)
    cache = opened.settings.home.expanduser().absolute() / "cache" / "models" / run_uri.run_id
    target = cache / (run_uri.path or "root")
    if not (target / MANIFEST).exists():
        opened.tracker.download_artifacts(run_uri.run_id, run_uri.path, target)
    return target


def _run_uri(uri: str) -> RunUri:
    if logged_model_id(uri) is not None:
        raise Unsupported(
            f"{uri!r} is a model logged by MLflow's client, in MLflow's format: load it "
            "with mlflow.pyfunc.load_model, or log it with noria.log_model to serve it "
            "with Noria."
        )
    parsed = parse_uri(uri)
    if not isinstance(parsed, RunUri):
        raise InvalidArgument(
            f"{uri!r} is not a logged model: use runs:/<run-id>/<path> (what log_model returns)."
        )
    return parsed
