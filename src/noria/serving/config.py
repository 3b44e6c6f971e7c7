"""What a model server serves and how: typed, built at the entry point, passed to the app.

>>> config = ServingConfig(models=(ServedModelConfig(uri="models:/credit@champion"),))
>>> config.models[0].served_name
'credit'
>>> ServingConfig(deployments=(ServedDeploymentConfig(name="credit-api"),))   # by its routes

A model spec on the command line is ``URI`` or ``name=URI`` (:func:`parse_model_spec`).
The configuration is plain data (pydantic, frozen), so it travels to uvicorn's worker
processes as JSON.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import PurePath

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from noria.domain.deployments import check_deployment_name
from noria.domain.uris import ModelAliasUri, ModelVersionUri, RegisteredModelUri, RunUri, parse_uri
from noria.errors import InvalidArgument

MODEL_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
DEFAULT_MAX_BODY_BYTES = 16 << 20


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class BatchingConfig(_Frozen):
    """Micro-batching of one model's concurrent requests (see docs/serving.md)."""

    enabled: bool = True
    max_batch_size: int = Field(default=64, ge=1, le=1_000_000, description="Rows per batch.")
    max_wait_ms: float = Field(
        default=5.0, ge=0, le=60_000, description="Longest a request waits for companions."
    )
    inline_max_ms: float = Field(
        default=2.0,
        ge=0,
        le=1_000,
        description="A lone request is predicted on the event loop, without a thread hand-off, "
        "while the model's lone requests take at most this long; 0: never.",
    )


class ServedModelConfig(_Frozen):
    """One model: where it comes from, the name it is served under, how it is batched."""

    uri: str = Field(
        min_length=1, description="runs:/…, models:/name/3, models:/name@alias or a path"
    )
    name: str | None = Field(default=None, description="Defaults to a name derived from the URI.")
    batching: BatchingConfig = BatchingConfig()
    proba: bool = Field(
        default=False,
        description="Answer each row with its prediction and class probabilities "
        "({'prediction': …, 'proba': […]}), and log both.",
    )

    @model_validator(mode="after")
    def _check_name(self) -> ServedModelConfig:
        if self.name is not None and not MODEL_NAME.fullmatch(self.name):
            raise ValueError(
                f"model name {self.name!r} must start with a letter or digit and hold only "
                "letters, digits, '.', '_' or '-' (at most 128)"
            )
        return self

    @property
    def served_name(self) -> str:
        return self.name if self.name is not None else derive_name(self.uri)

    @property
    def follows_alias(self) -> bool:
        """Whether the URI names an alias (``models:/name@alias``): the server watches it."""
        return self.uri.startswith("models:") and isinstance(parse_uri(self.uri), ModelAliasUri)


class ServedDeploymentConfig(_Frozen):
    """A deployment (``noria deploy create``) served under its name: each of its routes is a
    model version with a batcher of its own, all batched alike."""

    name: str = Field(min_length=1, description="The deployment's name in the store.")
    batching: BatchingConfig = BatchingConfig()
    proba: bool = Field(
        default=False, description="Every route answers with class probabilities too."
    )
    shadow_queue: int = Field(
        default=1_000,
        ge=1,
        le=1_000_000,
        description="Copies one shadow route may have waiting; past that, copies are dropped.",
    )

    @model_validator(mode="after")
    def _check_name(self) -> ServedDeploymentConfig:
        try:
            check_deployment_name(self.name)
        except InvalidArgument as exc:
            raise ValueError(exc.message) from None
        return self


class PredictionLogConfig(_Frozen):
    """The Parquet prediction log and the feedback route (docs/prediction-log.md)."""

    enabled: bool = Field(default=True, description="Log answers and take POST /v1/feedback.")
    max_rows: int = Field(default=100_000, ge=1, description="Rows per segment, at most.")
    max_age_s: float = Field(
        default=60.0, gt=0, description="Seconds a segment stays open before it is written."
    )
    queue_size: int = Field(
        default=10_000, ge=1, description="Answers waiting for the writer; past that, dropped."
    )


class ServingConfig(_Frozen):
    """The whole server: its models and deployments, the request size limit, the watch of
    aliases and deployments, and the log."""

    models: tuple[ServedModelConfig, ...] = ()
    deployments: tuple[ServedDeploymentConfig, ...] = ()
    max_body_bytes: int = Field(default=DEFAULT_MAX_BODY_BYTES, ge=1)
    warm_up: bool = Field(default=True, description="Predict on each input example at startup.")
    watch_interval_s: float = Field(
        default=2.0,
        ge=0,
        le=86_400,
        description=(
            "Seconds between looks at the aliases and deployments served (0: never look again)."
        ),
    )
    prediction_log: PredictionLogConfig = PredictionLogConfig()

    @model_validator(mode="after")
    def _unique_names(self) -> ServingConfig:
        if not self.models and not self.deployments:
            raise ValueError(
                "nothing to serve: give at least one model URI or one deployment "
                "(noria serve models:/<name>@<alias>, or noria serve --deployment <name>)"
            )
        names = [model.served_name for model in self.models]
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise ValueError(
                f"two served models are named {repeated[0]!r}; name them apart with "
                f"name=URI, e.g. {repeated[0]}-a=<uri>"
            )
        deployments = [deployment.name for deployment in self.deployments]
        twice = sorted({name for name in deployments if deployments.count(name) > 1})
        if twice:
            raise ValueError(f"deployment {twice[0]!r} is given twice; serve it once")
        clash = sorted(set(names) & set(deployments))
        if clash:
            raise ValueError(
                f"{clash[0]!r} names both a model and a deployment; both are served under "
                f"their names, so name the model apart with name=URI, e.g. {clash[0]}-model=<uri>"
            )
        return self


def parse_model_spec(
    spec: str, batching: BatchingConfig | None = None, *, proba: bool = False
) -> ServedModelConfig:
    """``URI`` or ``name=URI`` as a :class:`ServedModelConfig`.

    >>> parse_model_spec("fraud=models:/fraud-detector/4").name
    'fraud'
    """
    name, separator, uri = spec.partition("=")
    if not separator or ":" in name or "/" in name:
        name, uri = "", spec  # a URI or path that merely contains '='
    elif not MODEL_NAME.fullmatch(name):
        raise InvalidArgument(
            f"model spec {spec!r}: the name {name!r} must start with a letter or digit and "
            "hold only letters, digits, '.', '_' or '-'"
        )
    if not uri.strip():
        raise InvalidArgument(f"model spec {spec!r} names no model: give URI or name=URI")
    return ServedModelConfig(
        uri=uri.strip(), name=name or None, batching=batching or BatchingConfig(), proba=proba
    )


def derive_name(uri: str) -> str:
    """The name a model is served under when none is given.

    ``models:/credit@champion`` and ``models:/credit/3`` → ``credit``; ``runs:/<id>/model``
    and a local folder ``out/churn`` → their last path part.
    """
    if uri.startswith(("models:", "runs:")):
        parsed = parse_uri(uri)
        if isinstance(parsed, ModelAliasUri | ModelVersionUri | RegisteredModelUri):
            return parsed.name
        run_path = parsed.path if isinstance(parsed, RunUri) else ""
        candidate = PurePath(run_path).name if run_path else ""
    else:
        candidate = PurePath(uri).name
    if not MODEL_NAME.fullmatch(candidate):
        raise InvalidArgument(
            f"cannot derive a model name from {uri!r}; serve it as name=URI, e.g. model={uri}"
        )
    return candidate


def serving_config(
    specs: Sequence[str],
    *,
    batching: BatchingConfig,
    max_body_bytes: int,
    deployments: Sequence[str] = (),
    watch_interval_s: float = 2.0,
    prediction_log: PredictionLogConfig | None = None,
    proba: bool = False,
) -> ServingConfig:
    """The configuration for model specs and deployment names given on a command line, or
    one InvalidArgument."""
    try:
        models = tuple(parse_model_spec(spec, batching, proba=proba) for spec in specs)
        served = tuple(
            ServedDeploymentConfig(name=name, batching=batching, proba=proba)
            for name in deployments
        )
        return ServingConfig(
            models=models,
            deployments=served,
            max_body_bytes=max_body_bytes,
            watch_interval_s=watch_interval_s,
            prediction_log=prediction_log or PredictionLogConfig(),
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise InvalidArgument(
            f"invalid serving configuration{' at ' + where if where else ''}: {first['msg']}"
        ) from None
