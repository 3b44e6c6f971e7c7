"""Served models: resolved from their URIs, loaded, warmed with their input example.

``runs:/…`` and ``models:/…`` URIs are resolved through the metadata store (an alias to the
version it points at now; :mod:`noria.serving.hot_swap` looks again later) and their files
fetched into the local cache; a plain path is a model directory on disk.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from noria.client import Client, connect
from noria.domain.registry import ModelVersion
from noria.domain.uris import ModelAliasUri, ModelVersionUri, parse_uri
from noria.errors import NoriaError, NotFound, Unsupported
from noria.fluent_models import model_directory
from noria.models.casting import NUMERIC_TYPES
from noria.models.signature import TableSchema
from noria.serving.config import ServedModelConfig
from noria.serving.errors import ModelFailed
from noria.serving.model_input import UNNAMED, ModelInput
from noria.serving.predictions import Predictions
from noria.settings import Settings

if TYPE_CHECKING:
    from noria.models.format import LoadedModel
    from noria.models.signature import ModelSignature

logger = logging.getLogger("noria.serving")
_STORE_SCHEMES = ("runs:", "models:")
# Table column types whose validated arrays are already what the signature's cast would give:
# the model may skip its own check. Categories, datetimes and binary are cast again.
_VALIDATED_EXACTLY = NUMERIC_TYPES | {"bool", "string"}


@dataclass(frozen=True, slots=True)
class ModelSource:
    """Where one served model's files are, and which registered version they are."""

    config: ServedModelConfig
    directory: Path
    version: int | None  # the registered version; None for a run or a path
    registered_name: str | None


@dataclass(frozen=True, slots=True)
class ServedModel:
    """A loaded model under its served name.

    ``enforce`` says whether ``predict`` must still cast validated rows to the signature
    (see :func:`needs_cast_after_validation`)."""

    name: str
    source: ModelSource
    model: LoadedModel
    enforce: bool = True

    @property
    def version(self) -> int | None:
        return self.source.version

    @property
    def flavor(self) -> str:
        return self.model.flavor

    @property
    def signature(self) -> ModelSignature | None:
        return self.model.signature

    def predict_batch(self, inputs: ModelInput) -> Predictions:
        """Predictions for validated rows (blocking: the server calls it in a worker thread).

        Anything the model raises becomes ModelFailed (HTTP 500), naming the model."""
        try:
            data = inputs.model_data()
            output = self.model.predict(data, enforce=self.enforce)
            if self.source.config.proba:
                output = self._with_probabilities(output, data)
        except NoriaError as exc:
            raise ModelFailed(f"model {self.name!r} could not predict: {exc.message}") from exc
        except Exception as exc:  # any library's failure is the model's, reported as such
            raise ModelFailed(
                f"model {self.name!r} failed on a batch of {inputs.rows} rows: "
                f"{type(exc).__name__}: {exc}"
            ) from exc
        return Predictions.from_model(output, inputs.rows)

    def _with_probabilities(self, output: Any, data: Any) -> dict[str, Any]:
        """``{"prediction": output, "proba": …}``: the model's class probabilities beside its
        prediction (a second call, so ``prediction`` stays exactly what ``predict`` says)."""
        if isinstance(output, dict) or hasattr(output, "columns"):
            raise Unsupported(
                f"model {self.name!r} answers with named outputs; --proba adds probabilities "
                "to a model that answers one prediction per row"
            )
        try:
            probabilities = self.model.predict_proba(data, enforce=self.enforce)
        except Unsupported as exc:
            raise Unsupported(f"{exc.message}; serve model {self.name!r} without --proba") from exc
        return {"prediction": output, "proba": probabilities}


def needs_store(models: Sequence[ServedModelConfig]) -> bool:
    """Whether any model is named by a ``runs:/`` or ``models:/`` URI (a store resolves it)."""
    return any(model.uri.startswith(_STORE_SCHEMES) for model in models)


def resolve_sources(
    models: Sequence[ServedModelConfig], settings: Settings | None
) -> list[ModelSource]:
    """Each model's directory (fetched into the cache) and registered version."""
    if not needs_store(models):
        return [_local_source(model) for model in models]
    with connect(settings) as client:
        return resolve_with(models, client)


def resolve_with(models: Sequence[ServedModelConfig], client: Client | None) -> list[ModelSource]:
    """:func:`resolve_sources` through an open client (None when no model needs a store)."""
    sources = []
    for model in models:
        if not model.uri.startswith(_STORE_SCHEMES):
            sources.append(_local_source(model))
        elif client is None:
            raise NotFound(f"model {model.served_name!r} ({model.uri}) needs a store to resolve")
        else:
            sources.append(_store_source(model, client))
    return sources


def version_source(model: ServedModelConfig, client: Client, version: ModelVersion) -> ModelSource:
    """The files of one registered ``version`` for ``model`` (fetched into the cache)."""
    pinned = f"models:/{version.name}/{version.version}"  # the alias may move meanwhile
    directory = model_directory(pinned, client=client)
    return ModelSource(model, directory, version.version, version.name)


def load_served_model(
    source: ModelSource, *, warm_up: bool = True, name: str | None = None
) -> ServedModel:
    """Load one model; with ``warm_up``, predict once on its input example (so the first
    request does not pay for lazy initialisation, and a broken model fails at startup).

    ``name`` overrides the served name (a deployment's route: ``credit-api/credit``)."""
    from noria.models.format import load_model

    model = load_model(source.directory)
    served = ServedModel(
        name or source.config.served_name,
        source,
        model,
        needs_cast_after_validation(model.signature),
    )
    if warm_up:
        example = served.model.input_example()
        if example is not None:
            started = time.perf_counter()
            try:
                served.predict_batch(example_input(example))
            except ModelFailed as exc:
                raise ModelFailed(
                    f"{exc.message} (while warming up on its input example, from "
                    f"{source.config.uri}); the model cannot serve"
                ) from exc
            elapsed_ms = (time.perf_counter() - started) * 1000
            logger.info(
                "model %r warmed up on its input example in %.1f ms", served.name, elapsed_ms
            )
    return served


def needs_cast_after_validation(signature: ModelSignature | None) -> bool:
    """Whether rows that passed :func:`noria.serving.validation.validate` must still be cast
    by the model's signature check before ``predict``.

    Validation already casts numbers, booleans, text and tensors exactly as the signature
    would, so checking them again on every batch only costs time; other column types (a
    category becomes pandas' categorical, say) still go through the model's own cast."""
    if signature is None:
        return False
    inputs = signature.inputs
    if not isinstance(inputs, TableSchema):
        return False
    return any(column.type not in _VALIDATED_EXACTLY for column in inputs.columns)


def example_input(example: Any) -> ModelInput:
    """A stored input example (DataFrame, array or dict of arrays) as a :class:`ModelInput`."""
    import numpy as np
    import pandas as pd

    if isinstance(example, pd.DataFrame):
        arrays = {str(name): example[name].to_numpy() for name in example.columns}
        return ModelInput("table", arrays, len(example))
    if isinstance(example, Mapping):
        arrays = {str(name): np.asarray(value) for name, value in example.items()}
        return ModelInput("tensors", arrays, len(next(iter(arrays.values()))))
    array = np.asarray(example)
    return ModelInput("tensor", {UNNAMED: array}, len(array))


def _store_source(model: ServedModelConfig, client: Client) -> ModelSource:
    parsed = parse_uri(model.uri)
    if isinstance(parsed, ModelAliasUri | ModelVersionUri):
        return version_source(model, client, client.registry.resolve(model.uri))
    return ModelSource(model, model_directory(model.uri, client=client), None, None)


def _local_source(model: ServedModelConfig) -> ModelSource:
    directory = Path(model.uri).expanduser()
    if not directory.is_dir():
        raise NotFound(
            f"no model directory at {directory} (model {model.served_name!r}); give a "
            "runs:/<run-id>/<path>, models:/<name>/<version>, models:/<name>@<alias> URI "
            "or the path of a saved model"
        )
    return ModelSource(model, directory.absolute(), None, None)
