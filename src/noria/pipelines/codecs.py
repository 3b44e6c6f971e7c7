"""Type-aware codecs for step outputs: value ⇄ bytes (or a folder, for models).

Tried in order, the first that accepts a value stores it: dataset versions by reference,
DataFrames and Series as Parquet, NumPy arrays as ``.npy``, JSON-able values as JSON,
models in Noria's model format, and pickle last (see :mod:`noria.pipelines.values`).
Libraries are imported only when a value of theirs is met, never to find out.
"""

from __future__ import annotations

import io
import json
import pickle
import shutil
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from noria.domain.artifacts import TREE_MEDIA_TYPE
from noria.domain.datasets import DatasetVersion
from noria.domain.pipelines import OutputRef
from noria.errors import CorruptedArtifact, InvalidArgument
from noria.ports.datasets import DatasetRepo

Payload = bytes | Path  # a folder for codecs that store directories


@dataclass(frozen=True)
class DecodeContext:
    datasets: DatasetRepo
    cache_dir: Path  # where folders (models) are unpacked, by digest


class Codec(Protocol):
    name: str
    media_type: str

    def accepts(self, value: Any) -> bool: ...

    def encode(self, value: Any, scratch: Path) -> Payload:
        """Bytes, or a folder written under ``scratch`` (an empty folder this call owns)."""
        ...

    def decode(self, payload: Payload, ref: OutputRef, context: DecodeContext) -> Any: ...


def _loaded_instance(value: Any, module: str, attribute: str) -> bool:
    """``isinstance(value, module.attribute)`` if ``module`` is already imported."""
    loaded = sys.modules.get(module)
    kind = getattr(loaded, attribute, None) if loaded is not None else None
    return isinstance(kind, type) and isinstance(value, kind)


class DatasetCodec:
    name = "dataset"
    media_type = "application/vnd.noria.dataset-ref+json"

    def accepts(self, value: Any) -> bool:
        return isinstance(value, DatasetVersion)

    def encode(self, value: DatasetVersion, scratch: Path) -> Payload:
        reference = {"name": value.name, "version": value.version, "digest": value.digest}
        return json.dumps(reference, sort_keys=True).encode()

    def decode(self, payload: Payload, ref: OutputRef, context: DecodeContext) -> Any:
        reference = json.loads(_bytes(payload))
        version = context.datasets.get_version(reference["name"], reference["version"])
        if version.digest != reference["digest"]:
            raise CorruptedArtifact(
                f"Dataset version {version.uri} no longer holds the content step output "
                f"{ref.name!r} referred to (digest {reference['digest']})."
            )
        return version


class DataFrameCodec:
    name = "parquet"
    media_type = "application/vnd.apache.parquet"

    def accepts(self, value: Any) -> bool:
        return _loaded_instance(value, "pandas", "DataFrame")

    def encode(self, value: Any, scratch: Path) -> Payload:
        buffer = io.BytesIO()
        value.to_parquet(buffer, engine="pyarrow")
        return buffer.getvalue()

    def decode(self, payload: Payload, ref: OutputRef, context: DecodeContext) -> Any:
        import pandas as pd

        return pd.read_parquet(io.BytesIO(_bytes(payload)), engine="pyarrow")


class SeriesCodec:
    name = "parquet-series"
    media_type = "application/vnd.apache.parquet"
    _COLUMN = "__noria_series__"

    def accepts(self, value: Any) -> bool:
        return _loaded_instance(value, "pandas", "Series")

    def encode(self, value: Any, scratch: Path) -> Payload:
        frame = value.to_frame(name=self._COLUMN)
        frame.attrs["noria_series_name"] = value.name
        buffer = io.BytesIO()
        frame.to_parquet(buffer, engine="pyarrow")
        return buffer.getvalue()

    def decode(self, payload: Payload, ref: OutputRef, context: DecodeContext) -> Any:
        import pandas as pd

        frame = pd.read_parquet(io.BytesIO(_bytes(payload)), engine="pyarrow")
        return frame[self._COLUMN].rename(frame.attrs.get("noria_series_name"))


class NumpyCodec:
    name = "npy"
    media_type = "application/x-npy"

    def accepts(self, value: Any) -> bool:
        return _loaded_instance(value, "numpy", "ndarray") and not value.dtype.hasobject

    def encode(self, value: Any, scratch: Path) -> Payload:
        import numpy as np

        buffer = io.BytesIO()
        np.save(buffer, value, allow_pickle=False)
        return buffer.getvalue()

    def decode(self, payload: Payload, ref: OutputRef, context: DecodeContext) -> Any:
        import numpy as np

        return np.load(io.BytesIO(_bytes(payload)), allow_pickle=False)


def is_json_value(value: Any) -> bool:
    """Exactly JSON's types (not tuples or subclasses), so that decoding gives back equals."""
    kind = type(value)
    if kind in (str, int, bool) or value is None:
        return True
    if kind is float:
        return True  # NaN and infinities round-trip through Python's json
    if kind is list:
        return all(is_json_value(item) for item in value)
    if kind is dict:
        return all(type(key) is str and is_json_value(item) for key, item in value.items())
    return False


class JsonCodec:
    name = "json"
    media_type = "application/json"

    def accepts(self, value: Any) -> bool:
        return is_json_value(value)

    def encode(self, value: Any, scratch: Path) -> Payload:
        return json.dumps(value, ensure_ascii=False).encode()

    def decode(self, payload: Payload, ref: OutputRef, context: DecodeContext) -> Any:
        return json.loads(_bytes(payload))


class ModelCodec:
    """A model any Noria flavor saves (scikit-learn, XGBoost, …, or a loaded Noria model),
    stored in Noria's model format and given back as the library's own object."""

    name = "model"
    media_type = TREE_MEDIA_TYPE

    def accepts(self, value: Any) -> bool:
        if isinstance(value, str | Path | bytes):
            return False  # the onnx flavor takes paths: a string output is just a string
        from noria.models.flavors.base import flavor_names, get_flavor
        from noria.models.format import LoadedModel

        if isinstance(value, LoadedModel):
            return True
        return any(get_flavor(name).handles(value) for name in flavor_names())

    def encode(self, value: Any, scratch: Path) -> Payload:
        from noria.models.format import LoadedModel, save_model

        target = scratch / "model"
        if isinstance(value, LoadedModel):
            shutil.copytree(value.path, target)
        else:
            save_model(value, target)
        return target

    def decode(self, payload: Payload, ref: OutputRef, context: DecodeContext) -> Any:
        from noria.models.format import load_model

        if not isinstance(payload, Path):
            raise InvalidArgument(f"Step output {ref.name!r} is not a model folder.")
        loaded = load_model(payload)
        wanted_loaded = ref.python_type == "noria.models.format.LoadedModel"
        return loaded if wanted_loaded else loaded.raw


class PickleCodec:
    name = "pickle"
    media_type = "application/x-python-pickle"

    def accepts(self, value: Any) -> bool:
        return True

    def encode(self, value: Any, scratch: Path) -> Payload:
        return pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)

    def decode(self, payload: Payload, ref: OutputRef, context: DecodeContext) -> Any:
        # Only bytes this store holds under their digest reach here (verified on read).
        return pickle.loads(_bytes(payload))


def _bytes(payload: Payload) -> bytes:
    if isinstance(payload, Path):
        raise InvalidArgument(f"Expected stored bytes, found the folder {payload}.")
    return payload


CODECS: tuple[Codec, ...] = (
    DatasetCodec(),
    DataFrameCodec(),
    SeriesCodec(),
    NumpyCodec(),
    JsonCodec(),
    ModelCodec(),
    PickleCodec(),
)
CODECS_BY_NAME: dict[str, Codec] = {codec.name: codec for codec in CODECS}
FALLBACK = CODECS_BY_NAME["pickle"]


def unpack_folder(unpack: Any, digest_hex: str, cache_dir: Path) -> Path:
    """``cache_dir/<digest>``, written through a temporary sibling on first use.

    ``unpack(dest)`` writes the folder; concurrent readers never see half of it.
    """
    target = cache_dir / digest_hex
    if target.is_dir():
        return target
    cache_dir.mkdir(parents=True, exist_ok=True)
    staging = cache_dir / f".{digest_hex}.{uuid.uuid4().hex[:12]}"
    try:
        unpack(staging)
        try:
            staging.rename(target)
        except OSError:
            if not target.is_dir():  # not a race lost to another reader: a real failure
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target
