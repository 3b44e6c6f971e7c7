"""Flavor detection looks only at modules already imported, and never at half-imported ones."""

from __future__ import annotations

import sys
import types
from importlib.machinery import ModuleSpec

import pytest

from noria.models.flavors.base import loaded_module


def test_a_module_still_being_imported_counts_as_absent(monkeypatch: pytest.MonkeyPatch) -> None:
    half = types.ModuleType("half_imported_library")
    half.__spec__ = ModuleSpec("half_imported_library", loader=None)
    half.__spec__._initializing = True  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "half_imported_library", half)
    assert loaded_module("half_imported_library") is None
    half.__spec__._initializing = False  # type: ignore[attr-defined]
    assert loaded_module("half_imported_library") is half
    assert loaded_module("never_imported_library_xyz") is None
