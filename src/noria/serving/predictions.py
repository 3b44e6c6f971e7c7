"""A model's answer for a batch, cut back into each caller's rows.

Models answer with an array, a DataFrame, a Series, a list or a dict of arrays. Each becomes
:class:`Predictions`: arrays of equal length along the first axis (one named
``predictions`` for a single unnamed output), so that a batch's answer can be sliced per
request and a split request's answers joined again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from noria.serving.errors import ModelFailed
from noria.serving.model_input import python_values

if TYPE_CHECKING:
    import numpy as np

PREDICTIONS = "predictions"


@dataclass(frozen=True, slots=True)
class Predictions:
    """``rows`` answers: one unnamed array, or named arrays (a DataFrame's columns)."""

    arrays: dict[str, np.ndarray]
    rows: int
    named: bool

    @staticmethod
    def from_model(output: Any, rows: int) -> Predictions:
        """The model's output for ``rows`` input rows, or ModelFailed when it cannot be one."""
        named, arrays = _as_arrays(output)
        for name, array in arrays.items():
            length = array.shape[0] if array.ndim else None
            if length != rows:
                shown = "a single value" if length is None else f"{length} rows"
                label = f"output {name!r}" if named else "its output"
                raise ModelFailed(
                    f"the model answered {rows} input rows with {shown} in {label}; a model "
                    "must return one prediction per row"
                )
        return Predictions(arrays, rows, named)

    def slice(self, start: int, stop: int) -> Predictions:
        arrays = {name: array[start:stop] for name, array in self.arrays.items()}
        return Predictions(arrays, stop - start, self.named)

    @staticmethod
    def concat(parts: Sequence[Predictions]) -> Predictions:
        import numpy as np

        if len(parts) == 1:
            return parts[0]
        arrays = {
            name: np.concatenate([part.arrays[name] for part in parts]) for name in parts[0].arrays
        }
        return Predictions(arrays, sum(part.rows for part in parts), parts[0].named)

    def row_values(self) -> list[Any]:
        """One JSON-ready value per row: the prediction, or ``{output: value}`` when named."""
        if not self.named:
            return python_values(self.arrays[PREDICTIONS])
        names = list(self.arrays)
        columns = [python_values(array) for array in self.arrays.values()]
        return [dict(zip(names, values, strict=True)) for values in zip(*columns, strict=True)]


def _as_arrays(output: Any) -> tuple[bool, dict[str, np.ndarray]]:
    import numpy as np
    import pandas as pd

    if isinstance(output, pd.DataFrame):
        return True, {str(name): output[name].to_numpy() for name in output.columns}
    if isinstance(output, Mapping):
        return True, {str(name): _array(value) for name, value in output.items()}
    if isinstance(output, pd.Series):
        return False, {PREDICTIONS: output.to_numpy()}
    if isinstance(output, np.ndarray):
        return False, {PREDICTIONS: output}
    return False, {PREDICTIONS: _array(output)}


def _array(value: Any) -> np.ndarray:
    import numpy as np

    if hasattr(value, "detach") and hasattr(value, "numpy"):  # a torch.Tensor, without torch
        return np.asarray(value.detach().cpu().numpy())
    try:
        return np.asarray(value)
    except ValueError as exc:  # ragged lists
        raise ModelFailed(f"the model returned a ragged output ({exc})") from None
