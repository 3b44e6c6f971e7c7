"""Triggers: schedules (cron, dataset, event) and raised events, stored in the metadata store.

``client.schedules`` adds and manages schedules, ``client.triggers`` raises events; the
scheduler (``noria.pipelines.scheduling``) fires them. See ``docs/schedules.md``.
"""

from noria.triggers.events import TriggerService
from noria.triggers.schedules import ScheduleService

__all__ = ["ScheduleService", "TriggerService"]
