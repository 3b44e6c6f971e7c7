"""The model server: models by URI over HTTP, validated, micro-batched, measured.

>>> from noria.serving import ServedModelConfig, ServingConfig, create_serving_app
>>> config = ServingConfig(models=(ServedModelConfig(uri="models:/credit@champion"),))
>>> app = create_serving_app(config)

See docs/serving.md for the endpoints, payloads, batching rules and metrics. The names below
load on first use, so that importing one module of this package (batch scoring, say) does
not import the web stack. ``PredictionRecord`` and ``PredictionSink`` live in
:mod:`noria.predictions` (the prediction log) and are re-exported here for sinks.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from noria.predictions.records import PredictionRecord, PredictionSink
    from noria.serving.app import create_serving_app
    from noria.serving.config import (
        BatchingConfig,
        PredictionLogConfig,
        ServedDeploymentConfig,
        ServedModelConfig,
        ServingConfig,
        parse_model_spec,
    )

_LAZY = {
    "create_serving_app": "noria.serving.app",
    "BatchingConfig": "noria.serving.config",
    "PredictionLogConfig": "noria.serving.config",
    "ServedDeploymentConfig": "noria.serving.config",
    "ServedModelConfig": "noria.serving.config",
    "ServingConfig": "noria.serving.config",
    "parse_model_spec": "noria.serving.config",
    "PredictionRecord": "noria.predictions.records",
    "PredictionSink": "noria.predictions.records",
}

__all__ = [
    "BatchingConfig",
    "PredictionLogConfig",
    "PredictionRecord",
    "PredictionSink",
    "ServedDeploymentConfig",
    "ServedModelConfig",
    "ServingConfig",
    "create_serving_app",
    "parse_model_spec",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'noria.serving' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
