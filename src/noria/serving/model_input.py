"""Validated rows for one model, in the one form every protocol is turned into.

Whatever the protocol (Noria's records or columns, MLflow's four formats, Open Inference
tensors), a request that passed validation is a :class:`ModelInput`: NumPy arrays of equal
length along their first axis, by column name (a table) or tensor name. Batching cuts and
joins these arrays; only the batch handed to the model becomes a DataFrame.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

UNNAMED = ""  # the key of a model's single unnamed input tensor
UNNAMED_ROW_KEY = "input"  # how that tensor is named in logged rows

InputKind = Literal["table", "tensors", "tensor"]


@dataclass(frozen=True, slots=True)
class ModelInput:
    """``rows`` rows held as arrays: ``table`` columns, named ``tensors`` or one ``tensor``."""

    kind: InputKind
    arrays: dict[str, np.ndarray]
    rows: int

    def slice(self, start: int, stop: int) -> ModelInput:
        stop = min(stop, self.rows)
        arrays = {name: array[start:stop] for name, array in self.arrays.items()}
        return ModelInput(self.kind, arrays, stop - start)

    @staticmethod
    def concat(parts: Sequence[ModelInput]) -> ModelInput:
        """The parts' rows one after another (the parts come from one model, so they match)."""
        import numpy as np

        if len(parts) == 1:
            return parts[0]
        first = parts[0]
        arrays = {
            name: np.concatenate([part.arrays[name] for part in parts]) for name in first.arrays
        }
        return ModelInput(first.kind, arrays, sum(part.rows for part in parts))

    def model_data(self) -> Any:
        """What the model's ``predict`` takes: a DataFrame, an ndarray or a dict of them."""
        import numpy as np
        import pandas as pd

        if self.kind == "table":
            dtypes = {array.dtype for array in self.arrays.values()}
            # A shallow copy of the cached labels: a model that renames them keeps its own.
            columns = _column_index(tuple(self.arrays)).copy()
            if len(dtypes) == 1 and dtypes.pop().kind in "biuf":
                # One 2-D block: five times faster to build than a column each, and the
                # model reads it back as a matrix without copying.
                block = np.column_stack(list(self.arrays.values()))
                return pd.DataFrame(block, columns=columns, copy=False)
            return pd.DataFrame(self.arrays, columns=columns)
        if self.kind == "tensor":
            return self.arrays[UNNAMED]
        return dict(self.arrays)

    def row_dicts(self) -> list[dict[str, Any]]:
        """One ``{name: value}`` per row, as plain Python values (for the prediction log)."""
        names = [UNNAMED_ROW_KEY if name == UNNAMED else name for name in self.arrays]
        columns = [python_values(array) for array in self.arrays.values()]
        return [dict(zip(names, values, strict=True)) for values in zip(*columns, strict=True)]


@lru_cache(maxsize=256)
def _column_index(names: tuple[str, ...]) -> pd.Index:
    """The column labels of a model's frames, built once: building them per batch cost
    two-thirds of a one-row frame's construction."""
    import pandas as pd

    return pd.Index(names)


def python_values(array: np.ndarray) -> list[Any]:
    """The array's rows as Python values; datetimes as ``datetime`` (not nanosecond ints)."""
    if array.dtype.kind == "M":
        return list(array.astype("datetime64[us]").tolist())
    return list(array.tolist())
