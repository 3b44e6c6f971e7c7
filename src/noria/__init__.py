"""Noria: one self-hosted platform for the whole machine-learning lifecycle."""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
