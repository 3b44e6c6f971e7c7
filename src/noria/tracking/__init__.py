"""Experiment tracking: runs, params, metrics, tags, artifacts, search."""

from noria.tracking.results import RunList
from noria.tracking.run import ActiveRun
from noria.tracking.tracker import Tracker

__all__ = ["ActiveRun", "RunList", "Tracker"]
