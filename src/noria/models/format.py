"""Save a model as a self-describing directory, and load it back.

>>> manifest = save_model(classifier, "out/iris", input_example=X.head())
>>> model = load_model("out/iris")
>>> model.predict(X)  # checked against the signature first

A model directory holds ``noria-model.yaml`` (see ``noria.models.manifest``), the payload in
the flavor's native format, ``requirements.txt`` with exact pins, the input example, and any
``code/`` and ``artifacts/``. It is written to a temporary sibling and renamed into place, so
a failed save leaves nothing behind; before the rename the model is loaded back and run on the
example, so a model that cannot be loaded is caught when it is saved, not when it is served.
"""

from __future__ import annotations

import shutil
import sys
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import JsonValue, TypeAdapter, ValidationError

import noria
from noria.errors import AlreadyExists, InvalidArgument, NotFound, Unsupported
from noria.models.environment import capture_environment, check_environment
from noria.models.flavors.base import (
    ModelFlavor,
    Predictor,
    SaveContext,
    detect_flavor,
    get_flavor,
)
from noria.models.input_example import (
    first_rows,
    normalize_example,
    read_example,
    write_example,
)
from noria.models.manifest import ModelManifest, read_manifest, write_manifest
from noria.models.signature import ModelSignature, enforce_schema, infer_schema

CODE_DIR = "code"


class LoadedModel:
    """A loaded model: its manifest, and predictions checked against its signature."""

    def __init__(self, manifest: ModelManifest, predictor: Predictor, path: Path) -> None:
        self.manifest = manifest
        self.path = path
        self._predictor = predictor

    @property
    def raw(self) -> Any:
        """The library's own model object (see each flavor's docs for which)."""
        return self._predictor.raw

    @property
    def flavor(self) -> str:
        return self.manifest.flavor

    @property
    def signature(self) -> ModelSignature | None:
        return self.manifest.signature

    def predict(self, data: Any, *, enforce: bool = True) -> Any:
        """Predict on ``data``, checked and cast to the signature first.

        ``enforce=False`` skips that check for data already in the signature's exact form
        (a model server validates each request once, before batching them).
        """
        return self._predictor.predict(self._fit_to_signature(data) if enforce else data)

    def predict_proba(self, data: Any, *, enforce: bool = True) -> Any:
        return self._predictor.predict_proba(self._fit_to_signature(data) if enforce else data)

    def input_example(self) -> Any:
        """The stored input example (a DataFrame, an ndarray or a dict of them), or None."""
        if self.manifest.input_example is None:
            return None
        return read_example(self.path, self.manifest.input_example)

    def _fit_to_signature(self, data: Any) -> Any:
        if self.manifest.signature is None:
            return data
        return enforce_schema(self.manifest.signature.inputs, data)

    def __repr__(self) -> str:
        return f"LoadedModel(flavor={self.flavor!r}, path={str(self.path)!r})"


def save_model(
    model: Any,
    path: str | Path,
    *,
    flavor: str | None = None,
    input_example: Any = None,
    signature: ModelSignature | None = None,
    metadata: Mapping[str, Any] | None = None,
    code_paths: Sequence[str | Path] = (),
    artifacts: Mapping[str, str | Path] | None = None,
    extra_packages: Sequence[str] = (),
) -> ModelManifest:
    """Save ``model`` as a model directory at ``path`` (which must not exist, or be empty).

    ``flavor`` is detected from the model's type when None. The signature is inferred from
    ``input_example`` when not given, its outputs from predicting on the example.
    ``artifacts`` (files or folders, python flavor only) are copied in; ``code_paths`` are
    copied under ``code/`` and importable while the model loads; ``extra_packages`` are
    distributions whose versions to record besides those the flavor needs.
    """
    target = _empty_target(Path(path))
    chosen = _resolve_flavor(model, flavor)
    stored_metadata = _json_metadata(metadata or {})
    if artifacts and chosen.name != "python":
        raise InvalidArgument(
            f"artifacts are for the python flavor (a PythonModel reads them in load_context); "
            f"the {chosen.name} flavor stores its model alone"
        )
    example = None if input_example is None else normalize_example(input_example)
    if signature is None and example is not None:
        signature = ModelSignature(inputs=infer_schema(example))  # from every row given
    example = None if example is None else first_rows(example)
    environment = capture_environment(chosen.required_modules(model), extra_packages=extra_packages)
    staging = target.parent / f".{target.name}.saving-{uuid.uuid4().hex[:12]}"
    staging.mkdir()
    try:
        copied = _copy_code(code_paths, staging)
        context = SaveContext(
            staging, example, {name: Path(p) for name, p in (artifacts or {}).items()}
        )
        payload = chosen.save(model, context)
        manifest = ModelManifest(
            flavor=chosen.name,
            payload=payload,
            signature=signature,
            input_example=None if example is None else write_example(example, staging),
            environment=environment,
            code_paths=copied,
            metadata=stored_metadata,
            created_at=datetime.now(UTC),
            noria_version=noria.__version__,
        )
        # Loaded straight from staging: the caller has imported any code_paths modules already.
        manifest = _with_outputs(manifest, chosen.load(staging, payload), example)
        write_manifest(manifest, staging)
        if target.exists():
            target.rmdir()  # empty, as checked above
        staging.rename(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return manifest


def load_model(path: str | Path, *, strict_environment: bool = False) -> LoadedModel:
    """Load the model directory at ``path``.

    A different Python or package version than recorded warns with every difference
    (``EnvironmentMismatch``); ``strict_environment=True`` raises Conflict instead.
    """
    directory = Path(path)
    manifest = read_manifest(directory)
    check_environment(
        manifest.environment, strict=strict_environment, source=f"the model at {directory}"
    )
    try:
        flavor = get_flavor(manifest.flavor)
    except InvalidArgument:
        raise Unsupported(
            f"the model at {directory} uses the flavor {manifest.flavor!r}, which this Noria "
            f"({noria.__version__}) does not know; it was saved by Noria "
            f"{manifest.noria_version}: upgrade Noria to load it"
        ) from None
    return LoadedModel(manifest, _load_predictor(flavor, directory, manifest), directory)


def _resolve_flavor(model: Any, name: str | None) -> ModelFlavor:
    if name is None:
        return detect_flavor(model)
    flavor = get_flavor(name)
    if not flavor.handles(model):
        raise InvalidArgument(
            f"the {name} flavor cannot save a {type(model).__module__}.{type(model).__name__}; "
            "leave flavor=None to pick the flavor from the model's type"
        )
    return flavor


def _json_metadata(metadata: Mapping[str, Any]) -> dict[str, JsonValue]:
    try:
        return TypeAdapter(dict[str, JsonValue]).validate_python(dict(metadata))
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(part) for part in first["loc"][:1])
        raise InvalidArgument(
            f"metadata[{key!r}] is not JSON-like ({first['msg']}): metadata holds text, "
            "numbers, booleans, lists and mappings; convert the value first"
        ) from None


def _empty_target(target: Path) -> Path:
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise AlreadyExists(
            f"{target} already exists and is not an empty directory; save to a new path or "
            "delete it first"
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    return target


def _copy_code(code_paths: Sequence[str | Path], directory: Path) -> tuple[str, ...]:
    names = []
    for item in map(Path, code_paths):
        if not item.exists():
            raise NotFound(f"code path {item} does not exist")
        destination = directory / CODE_DIR / item.name
        if destination.exists():
            raise InvalidArgument(f"two code paths are named {item.name!r}; rename one")
        destination.parent.mkdir(exist_ok=True)
        if item.is_dir():
            shutil.copytree(item, destination, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(item, destination)
        names.append(item.name)
    return tuple(names)


def _load_predictor(flavor: ModelFlavor, directory: Path, manifest: ModelManifest) -> Predictor:
    if manifest.code_paths:
        code = str((directory / CODE_DIR).resolve())
        if code not in sys.path:
            sys.path.insert(0, code)  # the model's own modules win over same-named installed ones
    return flavor.load(directory, manifest.payload)


def _with_outputs(manifest: ModelManifest, predictor: Predictor, example: Any) -> ModelManifest:
    """Record the output schema by predicting on the example (which also proves it loads)."""
    if example is None or manifest.signature is None:
        return manifest
    inputs = enforce_schema(manifest.signature.inputs, example)
    try:
        outputs = predictor.predict(inputs)
    except Exception as exc:  # any library's failure: report it, keep nothing
        raise InvalidArgument(
            f"the saved {manifest.flavor} model failed to predict on its input example "
            f"({type(exc).__name__}: {exc}); check the example matches what the model takes"
        ) from exc
    if manifest.signature.outputs is not None:
        return manifest
    try:
        output_schema = infer_schema(outputs)
    except InvalidArgument:
        return manifest  # outputs no schema describes (e.g. a scalar) are simply not recorded
    signature = manifest.signature.model_copy(update={"outputs": output_schema})
    return manifest.model_copy(update={"signature": signature})
