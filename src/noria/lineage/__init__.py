"""Lineage: where every entity came from and what it led to."""

from noria.lineage.service import LineageGraph, LineageService

__all__ = ["LineageGraph", "LineageService"]
