"""Step values in the artifact store: pick a codec, store, and load back.

A value no typed codec accepts (or one whose typed codec fails on it, such as a
DataFrame with integer column names) is pickled, with a warning saying so. A value
pickle cannot store either fails the step with a message naming the output and type.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from noria.artifacts import ArtifactStore
from noria.domain.artifacts import Digest
from noria.domain.pipelines import OutputRef
from noria.errors import InvalidArgument, NoriaError
from noria.pipelines.codecs import CODECS, CODECS_BY_NAME, FALLBACK, Codec, DecodeContext
from noria.pipelines.codecs import unpack_folder as _unpack_folder


class PickledOutputWarning(UserWarning):
    """A step output had no typed serialiser and was stored with pickle."""


def python_type(value: Any) -> str:
    kind = type(value)
    return f"{kind.__module__}.{kind.__qualname__}"


def _store_payload(
    codec: Codec, value: Any, artifacts: ArtifactStore, scratch: Path
) -> tuple[str, int]:
    payload = codec.encode(value, scratch)
    if isinstance(payload, Path):
        ref = artifacts.put_dir(payload)
    else:
        ref = artifacts.put_bytes(payload, media_type=codec.media_type)
    return str(ref.digest), ref.size


def store_value(
    value: Any, name: str, artifacts: ArtifactStore, *, step: str
) -> tuple[OutputRef, list[str]]:
    """Store ``value`` as output ``name``; returns its reference and any warnings."""
    chosen = next(codec for codec in CODECS if codec.accepts(value))
    warnings: list[str] = []
    with tempfile.TemporaryDirectory(prefix="noria-output-") as folder:
        try:
            digest, size = _store_payload(chosen, value, artifacts, Path(folder))
        except NoriaError:
            raise
        except Exception as exc:  # noqa: BLE001 - a typed codec refused it: fall back to pickle
            if chosen is FALLBACK:
                raise _unstorable(value, name, step, exc) from None
            fallback_reason = f"the {chosen.name} serialiser failed ({_short(exc)})"
            chosen = FALLBACK
            try:
                digest, size = _store_payload(chosen, value, artifacts, Path(folder))
            except Exception as second:  # noqa: BLE001 - reported with both reasons
                raise _unstorable(value, name, step, second) from None
        else:
            fallback_reason = "no typed serialiser fits it" if chosen is FALLBACK else ""
    if fallback_reason:
        warnings.append(
            f"Step {step!r} output {name!r} ({python_type(value)}) was stored with pickle: "
            f"{fallback_reason}. Loading it runs code, so only load it from a store you trust; "
            "return a DataFrame, an array, a model or JSON-able values to avoid pickle."
        )
    refers_to = value.uri if chosen.name == "dataset" else None
    ref = OutputRef(
        name=name,
        digest=digest,
        size=size,
        serializer=chosen.name,
        media_type=chosen.media_type,
        python_type=python_type(value),
        refers_to=refers_to,
    )
    return ref, warnings


def _short(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {lines[0]}" if lines else type(exc).__name__


def _unstorable(value: Any, name: str, step: str, exc: BaseException) -> InvalidArgument:
    return InvalidArgument(
        f"Step {step!r} output {name!r} of type {python_type(value)} cannot be stored: no "
        f"typed serialiser fits it and pickle failed ({_short(exc)}). Return data instead "
        "(a DataFrame, an array, a model, JSON-able values)."
    )


def load_value(ref: OutputRef, artifacts: ArtifactStore, context: DecodeContext) -> Any:
    """The value an output reference stands for, read (and verified) from the store."""
    codec = CODECS_BY_NAME.get(ref.serializer)
    if codec is None:
        raise InvalidArgument(
            f"Output {ref.name!r} was stored by a serialiser this Noria does not know "
            f"({ref.serializer!r}): upgrade Noria to read it."
        )
    digest = Digest.parse(ref.digest)
    if codec.media_type == FOLDER_MEDIA_TYPE:
        folder = _unpack_folder(
            lambda dest: artifacts.get_dir(digest, dest), digest.hex, context.cache_dir
        )
        return codec.decode(folder, ref, context)
    return codec.decode(artifacts.get_bytes(digest), ref, context)


FOLDER_MEDIA_TYPE = CODECS_BY_NAME["model"].media_type
