"""Step cache keys, and whether a cached result may be reused.

A key is the sha256 of: the step's reference and code digest (its source, same-module
helpers and local modules), its parameters, its inputs' digests, its output names, the
user's extra key, and the version of Noria and of this key format. A cached result is
reused only if it is younger than ``max_age`` and every output is still stored.
"""

from __future__ import annotations

import hashlib
import inspect
from collections.abc import Mapping
from typing import Any

import noria
from noria.artifacts import ArtifactStore
from noria.domain.artifacts import Digest
from noria.domain.pipelines import CacheEntry
from noria.errors import InvalidArgument
from noria.pipelines.authoring import StepOptions
from noria.pipelines.literals import canonical_json, literal_form

KEY_FORMAT = 1


def extra_key(options: StepOptions, params: Mapping[str, Any], step: str) -> str | None:
    """The user's own key: given as a string, or computed from the step's parameters."""
    chosen = options.cache_key
    if chosen is None or isinstance(chosen, str):
        return chosen
    accepted = inspect.signature(chosen).parameters
    takes_any = any(p.kind is p.VAR_KEYWORD for p in accepted.values())
    arguments = {k: v for k, v in params.items() if takes_any or k in accepted}
    value = chosen(**arguments)
    if not isinstance(value, str):
        raise InvalidArgument(
            f"The cache_key function of step {step!r} returned a {type(value).__name__}; "
            "it must return a string (e.g. a file's digest or a date)."
        )
    return value


def cache_key(
    *,
    step_ref: str,
    code: str,
    params: Mapping[str, Any],
    inputs: Mapping[str, str],
    output_names: tuple[str, ...],
    extra: str | None,
) -> str:
    body = {
        "format": KEY_FORMAT,
        "noria": noria.__version__,
        "step": step_ref,
        "code": code,
        "params": {name: literal_form(value) for name, value in params.items()},
        "inputs": dict(inputs),
        "outputs": list(output_names),
        "extra": extra,
    }
    return hashlib.sha256(canonical_json(body).encode()).hexdigest()


def reusable(
    entry: CacheEntry | None, *, max_age_s: float | None, now_ms: int, artifacts: ArtifactStore
) -> bool:
    """Whether a cached result is fresh enough and all its outputs are still stored."""
    if entry is None:
        return False
    if max_age_s is not None and now_ms - entry.created_at > max_age_s * 1000:
        return False
    return all(artifacts.exists(Digest.parse(ref.digest)) for ref in entry.outputs)
