"""The scheduler: fires cron schedules, dataset triggers and event triggers, and runs monitors.

>>> scheduler = Scheduler(client)                 # or Scheduler(client, clock=ManualClock(t0))
>>> report = scheduler.tick()                     # one pass; started runs go on in threads
>>> scheduler.wait()                              # until those runs end
>>> scheduler.run_forever(interval=5)             # what `noria scheduler` does; Ctrl-C stops

Every tick first runs the monitors that are due (``client.monitors.run_due``), so that an
alert raised now fires its event triggers in the same tick, and judges the deployments'
challengers (``client.promotions.run_due``); then, for each enabled
schedule, finds the newest occurrence it has not answered and claims it in the store.
Only a successful claim starts a run, so several schedulers can watch one store: each
occurrence fires once. All state lives in the store; a restarted scheduler goes on where
the last one stopped (firing a missed cron occurrence once, not every one it missed).
"""

from __future__ import annotations

import logging
import os
import secrets
import signal
import socket
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

from noria.domain.schedules import Firing, FiringStatus, Schedule
from noria.errors import InvalidArgument, NoriaError
from noria.pipelines.triggered_runs import run_firing
from noria.triggers.due import Due, find_due

if TYPE_CHECKING:
    from noria.client import Client

logger = logging.getLogger("noria.scheduler")
Clock = Callable[[], datetime]
_Handler = Callable[[int, FrameType | None], object] | int | None
_PAGE = 1000
_FINISHED_KEPT = 10_000


def system_clock() -> datetime:
    return datetime.now(UTC)


class ManualClock:
    """A clock that only moves when told to: ``Scheduler(client, clock=ManualClock(t0))``."""

    def __init__(self, start: datetime) -> None:
        _check_aware(start)
        self._now = start
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            return self._now

    def advance(self, delta: timedelta) -> datetime:
        with self._lock:
            self._now += delta
            return self._now

    def set(self, moment: datetime) -> None:
        with self._lock:
            self._now = _check_aware(moment)


@dataclass(frozen=True)
class TickReport:
    """What one tick did: the firings it claimed (their runs go on in the background), the
    monitors it ran, and the schedules or monitors it could not evaluate."""

    at: datetime
    started: tuple[Firing, ...]
    monitor_runs: int
    errors: tuple[str, ...]
    promotions: int = 0  # deployments whose challenger was judged (client.promotions.run_due)


def _subject(outcome: object) -> str:
    """What a run_due outcome is about: a monitor run's monitor, a promotion's deployment."""
    return str(getattr(outcome, "monitor", None) or getattr(outcome, "deployment", "?"))


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _check_aware(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise InvalidArgument(
            f"{moment.isoformat()} has no time zone: pass an aware datetime, e.g. "
            "datetime(2025, 6, 2, 3, 0, tzinfo=UTC)."
        )
    return moment


class Scheduler:
    """Fires ``client``'s schedules; ``clock`` tells the time (UTC).

    With ``root``, pipelines are only imported from that folder: a schedule naming code
    elsewhere fails instead of running it (``noria scheduler`` passes its folder).
    """

    def __init__(
        self,
        client: Client,
        *,
        clock: Clock = system_clock,
        name: str | None = None,
        root: Path | None = None,
    ) -> None:
        self._client = client
        self._clock = clock
        self._root = root
        self.name = name or f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"
        self._lock = threading.Lock()
        self._running: dict[int, tuple[Firing, threading.Thread]] = {}
        # What ended, newest last; bounded, as a scheduler runs for months.
        self.finished: deque[Firing] = deque(maxlen=_FINISHED_KEPT)
        self._stop = threading.Event()
        self._abandon = threading.Event()

    # -- one pass ------------------------------------------------------------------

    def tick(self, now: datetime | None = None) -> TickReport:
        """Run due monitors, judge challengers, then fire every schedule with an unanswered
        occurrence."""
        moment = _check_aware(now or self._clock())
        errors: list[str] = []
        monitor_runs = self._run_due("monitors", moment, errors)
        promotions = self._run_due("promotions", moment, errors)
        started = []
        try:
            schedules = list(self._enabled_schedules())
        except NoriaError as exc:
            errors.append(f"cannot list the schedules: {exc.message}")
            schedules = []
        for schedule in schedules:
            firing = self._fire(schedule, _ms(moment), errors)
            if firing is not None:
                started.append(firing)
        for error in errors:
            logger.warning("%s", error)
        return TickReport(moment, tuple(started), monitor_runs, tuple(errors), promotions)

    def _enabled_schedules(self) -> Iterator[Schedule]:
        token: str | None = None
        while True:
            page = self._client.schedules.list(enabled=True, limit=_PAGE, page_token=token)
            yield from page.items
            if page.next_page_token is None:
                return
            token = page.next_page_token

    def _run_due(self, service: str, moment: datetime, errors: list[str]) -> int:
        """``client.<service>.run_due(moment)`` (monitors, promotions): each outcome's
        ``error`` is reported, and a service that is absent from the client (an older
        build) or fails as a whole never stops the tick."""
        due = getattr(getattr(self._client, service, None), "run_due", None)
        if due is None:
            return 0
        try:
            outcomes = due(moment)
        except Exception as exc:  # noqa: BLE001 - they must not stop the schedules
            errors.append(f"{service}: {getattr(exc, 'message', None) or exc}")
            return 0
        one = service.removesuffix("s")  # "monitor credit-api: …"
        errors.extend(f"{one} {_subject(o)}: {o.error}" for o in outcomes if o.error)
        return len(outcomes)

    def _fire(self, schedule: Schedule, now_ms: int, errors: list[str]) -> Firing | None:
        try:
            due = find_due(self._client.metadata, schedule, now_ms)
            if due is None:
                return None
            firing = self._client.metadata.schedules.claim(
                schedule.name, due.occurrence, now_ms=now_ms, scheduler=self.name
            )
        except NoriaError as exc:
            errors.append(f"schedule {schedule.name}: {exc.message}")
            return None
        except Exception as exc:  # one broken schedule must not stop the others
            logger.exception("Schedule %s could not be evaluated", schedule.name)
            errors.append(f"schedule {schedule.name}: {type(exc).__name__}: {exc}")
            return None
        if firing is not None:
            self._start(due, firing)
        return firing

    def _start(self, due: Due, firing: Firing) -> None:
        logger.info(
            "Fired %s (%s, occurrence %s): running %s",
            firing.schedule,
            due.schedule.trigger,
            firing.occurrence,
            due.schedule.pipeline,
        )
        thread = threading.Thread(
            target=self._run, args=(due, firing), name=f"noria-firing-{firing.id}", daemon=True
        )
        with self._lock:
            self._running[firing.id] = (firing, thread)
        thread.start()

    def _run(self, due: Due, firing: Firing) -> None:
        outcome = run_firing(self._client, due, firing, root=self._root)
        with self._lock:
            self._running.pop(firing.id, None)
            self.finished.append(outcome)
        run = outcome.pipeline_run_id
        if outcome.status is FiringStatus.SUCCEEDED:
            logger.info("%s: run %s succeeded", firing.schedule, run)
        elif run is not None:
            logger.warning("%s: run %s failed: %s", firing.schedule, run, outcome.error)
        else:
            logger.warning("%s: the run could not start: %s", firing.schedule, outcome.error)

    # -- background runs -----------------------------------------------------------

    @property
    def running(self) -> list[Firing]:
        """Firings whose pipeline run has not ended yet."""
        with self._lock:
            return [firing for firing, _ in self._running.values()]

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for the runs started so far; ``True`` when none is left."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            with self._lock:
                threads = [thread for _, thread in self._running.values()]
            if not threads:
                return True
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                return False
            threads[0].join(remaining if remaining is None else min(remaining, 0.5))

    # -- the long-running loop -----------------------------------------------------

    def stop(self) -> None:
        """Ask :meth:`run_forever` to return after its current tick and the running runs."""
        self._stop.set()

    def run_forever(self, interval: float = 5.0) -> None:
        """Tick every ``interval`` seconds until SIGINT or SIGTERM (or :meth:`stop`).

        The first signal stops ticking and waits for the running pipelines; a second one
        stops at once, recording their firings as FAILED.
        """
        if interval <= 0:
            raise InvalidArgument(f"The interval must be positive, got {interval} s.")
        previous = self._install_signal_handlers()
        try:
            while not self._stop.is_set():
                started = time.monotonic()
                try:
                    self.tick()
                except Exception:  # a tick must never end the scheduler
                    logger.exception("The scheduler's tick failed; trying again next tick")
                self._stop.wait(max(0.0, interval - (time.monotonic() - started)))
            self._drain()
        finally:
            for number, handler in previous.items():
                signal.signal(number, handler)

    def _install_signal_handlers(self) -> dict[int, _Handler]:
        if threading.current_thread() is not threading.main_thread():
            return {}  # signals reach only the main thread; stop() still works
        previous: dict[int, _Handler] = {}
        for number in (signal.SIGINT, signal.SIGTERM):
            previous[number] = signal.signal(number, self._on_signal)
        return previous

    def _on_signal(self, number: int, _frame: FrameType | None) -> None:
        if self._stop.is_set():
            self._abandon.set()
            return
        logger.warning("Stopping (signal %s): no new runs; press Ctrl-C again to stop now", number)
        self._stop.set()

    def _drain(self) -> None:
        if self.running:
            logger.info("Waiting for %d running pipeline(s)", len(self.running))
        while self.running and not self._abandon.is_set():
            self._abandon.wait(0.2)
        for firing in self.running:
            self._abandoned(firing)

    def _abandoned(self, firing: Firing) -> None:
        error = "the scheduler was stopped before the run ended"
        try:
            stored = self._client.metadata.schedules.finish_firing(
                firing.id, FiringStatus.FAILED, ended_at=_ms(system_clock()), error=error
            )
        except NoriaError as exc:
            logger.warning("Cannot record firing %s as stopped: %s", firing.id, exc)
            stored = replace(firing, status=FiringStatus.FAILED, error=error)
        with self._lock:
            self._running.pop(firing.id, None)
            self.finished.append(stored)
