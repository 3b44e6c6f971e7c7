"""Comparing predictions made in two environments, as JSON values.

scikit-learn predictions must match exactly: the fresh environment runs the same wheels on
the same machine. Other flavors' native libraries may choose other kernels (thread counts,
instruction sets), so their numbers need only agree within :data:`RELATIVE_TOLERANCE` and
:data:`ABSOLUTE_TOLERANCE` (``math.isclose``). NaN matches NaN.
"""

from __future__ import annotations

import json
import math
from typing import Any

RELATIVE_TOLERANCE = 1e-6
ABSOLUTE_TOLERANCE = 1e-9
EXACT_FLAVORS = frozenset({"sklearn"})
_SHOWN_CHARS = 200


def comparison_for(flavor: str) -> str:
    """``exact``, or the tolerance a flavor's predictions are compared with."""
    if flavor in EXACT_FLAVORS:
        return "exact"
    return f"allclose(rtol={RELATIVE_TOLERANCE:g}, atol={ABSOLUTE_TOLERANCE:g})"


def first_difference(expected: Any, actual: Any, *, exact: bool, at: str = "") -> str | None:
    """Where two JSON values first differ, showing both
    (``predict_proba[3][1]: the fresh environment gave 0.25, this process gave 0.5``),
    or None when they match."""
    if isinstance(expected, dict) and isinstance(actual, dict):
        if expected.keys() != actual.keys():
            return _both(at or "outputs", sorted(expected), sorted(actual))
        found = (
            first_difference(
                expected[key], actual[key], exact=exact, at=f"{at}.{key}" if at else key
            )
            for key in expected
        )
    elif isinstance(expected, list) and isinstance(actual, list):
        if len(expected) != len(actual):
            return _both(f"the length of {at}", len(expected), len(actual))
        found = (
            first_difference(left, right, exact=exact, at=f"{at}[{index}]")
            for index, (left, right) in enumerate(zip(expected, actual, strict=True))
        )
    else:
        return None if _equal(expected, actual, exact=exact) else _both(at, expected, actual)
    return next((difference for difference in found if difference is not None), None)


def _both(at: str, expected: Any, actual: Any) -> str:
    return (
        f"{at}: the fresh environment gave {_shown(actual)}, this process gave {_shown(expected)}"
    )


def _equal(expected: Any, actual: Any, *, exact: bool) -> bool:
    if not (_is_number(expected) and _is_number(actual)):
        return bool(expected == actual)
    if math.isnan(expected) or math.isnan(actual):
        return math.isnan(expected) and math.isnan(actual)
    if exact:
        return bool(expected == actual)
    return math.isclose(expected, actual, rel_tol=RELATIVE_TOLERANCE, abs_tol=ABSOLUTE_TOLERANCE)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _shown(value: Any) -> str:
    text = json.dumps(value)
    return text if len(text) <= _SHOWN_CHARS else text[:_SHOWN_CHARS] + "…"
