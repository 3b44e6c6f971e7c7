"""Monitoring: a deployment's traffic per window against its training reference — drift,
prediction drift, data quality, latency and, once labels arrive, performance — with alert
rules whose actions log, call webhooks or trigger pipelines.

``client.monitors`` (:class:`~noria.monitoring.service.MonitorService`) creates and runs
monitors; ``noria monitor`` is the command line; see docs/monitoring.md.
"""

from __future__ import annotations

from noria.monitoring.definition import MonitorSpec
from noria.monitoring.runner import MonitorRun

__all__ = ["MonitorRun", "MonitorSpec"]
