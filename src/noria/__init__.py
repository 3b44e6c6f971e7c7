"""Noria: one self-hosted platform for the whole machine-learning lifecycle.

Importing ``noria`` is cheap: the SDK's heavier pieces load on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from noria import data
    from noria.client import Client, connect, set_default_client
    from noria.domain.entities import EntityKind, EntityRef
    from noria.domain.lineage import LineageEdge, Relation
    from noria.domain.uris import parse_uri
    from noria.fluent import (
        active_run,
        end_run,
        get_run,
        log_artifact,
        log_artifacts,
        log_dict,
        log_figure,
        log_input,
        log_metric,
        log_metrics,
        log_param,
        log_params,
        log_text,
        search_runs,
        set_tag,
        set_tags,
        start_run,
    )
    from noria.fluent_evaluation import evaluate, evaluate_with_gate
    from noria.fluent_models import load_model, log_model, register_model, set_alias
    from noria.pipelines import pipeline, step
    from noria.pipelines.tuning import Choice, FloatRange, IntRange, report_trial, tune
    from noria.settings import Settings

_LAZY = {
    "Client": "noria.client",
    "connect": "noria.client",
    "EntityKind": "noria.domain.entities",
    "EntityRef": "noria.domain.entities",
    "LineageEdge": "noria.domain.lineage",
    "Relation": "noria.domain.lineage",
    "parse_uri": "noria.domain.uris",
    "Settings": "noria.settings",
    "set_default_client": "noria.client",
    "start_run": "noria.fluent",
    "end_run": "noria.fluent",
    "active_run": "noria.fluent",
    "log_param": "noria.fluent",
    "log_params": "noria.fluent",
    "log_metric": "noria.fluent",
    "log_metrics": "noria.fluent",
    "set_tag": "noria.fluent",
    "set_tags": "noria.fluent",
    "log_artifact": "noria.fluent",
    "log_artifacts": "noria.fluent",
    "log_text": "noria.fluent",
    "log_dict": "noria.fluent",
    "log_figure": "noria.fluent",
    "log_input": "noria.fluent",
    "get_run": "noria.fluent",
    "search_runs": "noria.fluent",
    "log_model": "noria.fluent_models",
    "load_model": "noria.fluent_models",
    "register_model": "noria.fluent_models",
    "set_alias": "noria.fluent_models",
    "evaluate": "noria.fluent_evaluation",
    "evaluate_with_gate": "noria.fluent_evaluation",
    "step": "noria.pipelines",
    "pipeline": "noria.pipelines",
    "tune": "noria.pipelines.tuning",
    "report_trial": "noria.pipelines.tuning",
    "FloatRange": "noria.pipelines.tuning",
    "IntRange": "noria.pipelines.tuning",
    "Choice": "noria.pipelines.tuning",
}

__all__ = [
    "Choice",
    "Client",
    "EntityKind",
    "EntityRef",
    "FloatRange",
    "IntRange",
    "LineageEdge",
    "Relation",
    "Settings",
    "__version__",
    "active_run",
    "connect",
    "data",
    "end_run",
    "evaluate",
    "evaluate_with_gate",
    "get_run",
    "load_model",
    "log_artifact",
    "log_artifacts",
    "log_dict",
    "log_figure",
    "log_input",
    "log_metric",
    "log_metrics",
    "log_model",
    "log_param",
    "log_params",
    "log_text",
    "parse_uri",
    "pipeline",
    "register_model",
    "report_trial",
    "search_runs",
    "set_alias",
    "set_default_client",
    "set_tag",
    "set_tags",
    "start_run",
    "step",
    "tune",
]


_SUBMODULES = frozenset({"data"})  # `noria.data.ingest(...)` works after a bare `import noria`


def __getattr__(name: str) -> Any:
    import importlib

    if name in _SUBMODULES:
        return importlib.import_module(f"noria.{name}")
    module_name = _LAZY.get(name)
    if module_name is None:
        raise AttributeError(f"module 'noria' has no attribute {name!r}")
    value = getattr(importlib.import_module(module_name), name)
    globals()[name] = value
    return value
