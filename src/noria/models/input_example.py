"""The input example stored with a model: Parquet for a table, JSON for arrays.

An example is normalised first: records and dicts of columns become a DataFrame, a Series a
one-column DataFrame, tensors and lists NumPy arrays, a dict of arrays stays a dict of
arrays. Only its first :data:`MAX_ROWS` rows are stored (the signature is inferred from all of
it), so that a model saved with ``input_example=X_train`` stays small.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from noria.errors import InvalidArgument, NotFound
from noria.models.manifest import InputExampleRef
from noria.models.signature import as_array

if TYPE_CHECKING:
    import numpy as np

MAX_ROWS = 100
_PARQUET_FILE = "input_example.parquet"
_JSON_FILE = "input_example.json"


def normalize_example(example: Any) -> Any:
    """A DataFrame, an ndarray or a dict of ndarrays holding ``example``."""
    import pandas as pd

    if isinstance(example, pd.DataFrame):
        return example
    if isinstance(example, pd.Series):
        return example.to_frame()
    if isinstance(example, list) and example and all(isinstance(r, Mapping) for r in example):
        return pd.DataFrame(example)
    if isinstance(example, Mapping):
        if all(_is_array_like(value) for value in example.values()):
            return {str(name): as_array(v, where=f"input {name!r}") for name, v in example.items()}
        return pd.DataFrame([example] if _all_scalars(example) else example)
    return as_array(example, where="the input example")


def first_rows(example: Any) -> Any:
    """The first :data:`MAX_ROWS` rows of a normalised example."""
    if isinstance(example, Mapping):
        return {name: array[:MAX_ROWS] for name, array in example.items()}
    return example[:MAX_ROWS] if hasattr(example, "shape") and example.ndim else example


def write_example(example: Any, directory: Path) -> InputExampleRef:
    """Store the (normalised) example's first rows in ``directory``."""
    import pandas as pd

    if isinstance(example, pd.DataFrame):
        try:
            example.head(MAX_ROWS).to_parquet(directory / _PARQUET_FILE, index=False)
        except (ValueError, TypeError) as exc:  # pyarrow's ArrowInvalid and ArrowTypeError
            raise InvalidArgument(
                f"the input example cannot be stored as Parquet ({exc}); give its columns "
                "text names and one type each"
            ) from None
        return InputExampleRef(file=_PARQUET_FILE, format="parquet")
    if isinstance(example, Mapping):
        document = {"kind": "tensors", "tensors": {n: _array_json(v) for n, v in example.items()}}
    else:
        document = {"kind": "ndarray", **_array_json(example)}
    (directory / _JSON_FILE).write_text(json.dumps(document), encoding="utf-8")
    return InputExampleRef(file=_JSON_FILE, format="json")


def read_example(directory: Path, ref: InputExampleRef) -> Any:
    """The stored example: a DataFrame, an ndarray or a dict of ndarrays."""
    import pandas as pd

    path = directory / ref.file
    if not path.is_file():
        raise NotFound(f"the input example {ref.file!r} is missing from {directory}")
    if ref.format == "parquet":
        return pd.read_parquet(path)
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        if document["kind"] == "tensors":
            return {name: _array_from_json(item) for name, item in document["tensors"].items()}
        return _array_from_json(document)
    except (ValueError, KeyError, TypeError) as exc:
        raise InvalidArgument(f"{path} is not a valid input example ({exc!r})") from None


def _array_json(array: np.ndarray) -> dict[str, Any]:
    head = array[:MAX_ROWS]
    if head.dtype.kind not in "biufUO":
        raise InvalidArgument(
            f"an input example of dtype {head.dtype} cannot be stored as JSON; "
            "pass it as a DataFrame, which is stored as Parquet"
        )
    try:
        data = json.loads(json.dumps(head.tolist()))
    except TypeError as exc:
        raise InvalidArgument(f"the input example holds values JSON cannot store ({exc})") from None
    return {"dtype": head.dtype.str, "shape": list(head.shape), "data": data}


def _array_from_json(item: Mapping[str, Any]) -> np.ndarray:
    import numpy as np

    return np.asarray(item["data"], dtype=np.dtype(item["dtype"])).reshape(item["shape"])


def _is_array_like(value: Any) -> bool:
    import numpy as np

    return isinstance(value, np.ndarray) or (hasattr(value, "detach") and hasattr(value, "numpy"))


def _all_scalars(mapping: Mapping[Any, Any]) -> bool:
    return all(
        getattr(value, "ndim", 0) == 0 and not isinstance(value, list | tuple)
        for value in mapping.values()
    )
