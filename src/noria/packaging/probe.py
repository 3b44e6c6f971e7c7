"""Load a model directory, predict on its stored input example, print the outputs as JSON.

``verify`` calls :func:`predict_example` in its own process for the answer the packaged
server must give. The file also runs on its own (``python -I -c <source> <model-dir>``) in any
environment with a Noria wheel: it imports only the standard library and
``noria.models.format``.
"""

from __future__ import annotations

import contextlib
import json
import sys
import warnings
from pathlib import Path
from typing import Any


def predict_example(model_dir: Path) -> dict[str, Any]:
    """``{"flavor", "outputs": {"predict", "predict_proba"?}, "warnings"}``, JSON-ready."""
    from noria.errors import InvalidArgument, Unsupported
    from noria.models.format import load_model

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = load_model(model_dir)
        example = model.input_example()
        if example is None:
            raise InvalidArgument(f"the model at {model_dir} has no input example to predict on")
        outputs = {"predict": to_json_value(model.predict(example))}
        with contextlib.suppress(Unsupported):  # a regressor, or a model without them
            outputs["predict_proba"] = to_json_value(model.predict_proba(example))
    found = [f"{warning.category.__name__}: {warning.message}" for warning in caught]
    # The round trip makes both sides compare what JSON holds (1 and 1.0 alike, tuples as lists).
    document = {"flavor": model.flavor, "outputs": outputs, "warnings": found}
    loaded: dict[str, Any] = json.loads(json.dumps(document, default=str))
    return loaded


def to_json_value(value: Any) -> Any:
    """Arrays, tensors and Series as (nested) lists, a DataFrame as columns and rows, a dict
    of them member by member; anything else JSON cannot hold as its text."""
    if hasattr(value, "columns") and hasattr(value, "to_numpy"):
        return {"columns": [str(c) for c in value.columns], "data": value.to_numpy().tolist()}
    if hasattr(value, "detach"):  # a torch tensor: off the autograd graph first
        value = value.detach().cpu()
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, dict):
        return {str(key): to_json_value(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [to_json_value(item) for item in value]
    return value


if __name__ == "__main__":
    print(json.dumps(predict_example(Path(sys.argv[1])), default=str))
