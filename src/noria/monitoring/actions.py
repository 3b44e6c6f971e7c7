"""What a fired alert does: log it, POST it to a webhook, or raise a pipeline trigger event.

Actions never raise: each one's outcome (ok, failed with the reason, skipped) is recorded on
the alert, so a refusing webhook or a broken trigger never stops a monitor run or the
scheduler. Webhooks are retried on connection errors, timeouts, 429 and 5xx answers, with
exponential backoff; other 4xx answers are not retried (sending the same body again would be
refused again).
"""

from __future__ import annotations

import json
import logging
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from noria import __version__
from noria.domain.alerts import ActionKind, ActionOutcome, ActionSpec, OutcomeStatus

RaiseEvent = Callable[[str, dict[str, Any]], object]
"""``raise_event(name, payload)``: the pipelines' event triggers (``client.triggers``)."""

logger = logging.getLogger("noria.monitoring")
_RETRIED_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})


@dataclass(frozen=True, slots=True)
class WebhookPolicy:
    attempts: int = 3  # tries in all
    timeout_s: float = 5.0  # per try: connect and read
    backoff_s: float = 0.5  # before the 2nd try; doubles after each failure


class ActionRunner:
    """Runs alert actions. Without ``raise_event`` (the client passes its event triggers'),
    trigger actions are recorded as skipped."""

    def __init__(
        self,
        *,
        raise_event: RaiseEvent | None = None,
        webhook: WebhookPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._raise_event = raise_event
        self._webhook = webhook or WebhookPolicy()
        self._sleep = sleep

    def run(
        self, actions: Sequence[ActionSpec], payload: Mapping[str, Any]
    ) -> tuple[ActionOutcome, ...]:
        """Each action's outcome, in order; ``payload`` is the alert as JSON-ready data."""
        return tuple(self._one(action, payload) for action in actions)

    def _one(self, action: ActionSpec, payload: Mapping[str, Any]) -> ActionOutcome:
        if action.kind is ActionKind.LOG:
            alert = payload.get("alert", {})
            logger.warning("Monitor alert [%s] %s", alert.get("severity"), alert.get("message"))
            return ActionOutcome(str(action), OutcomeStatus.OK, "logged", 1)
        if action.kind is ActionKind.WEBHOOK:
            return self._post(action, payload)
        return self._trigger(action, payload)

    def _trigger(self, action: ActionSpec, payload: Mapping[str, Any]) -> ActionOutcome:
        if self._raise_event is None:
            return ActionOutcome(str(action), OutcomeStatus.SKIPPED, "skipped: no trigger service")
        try:
            self._raise_event(action.target, dict(payload))
        except Exception as exc:  # noqa: BLE001 - a failing trigger is recorded, never fatal
            detail = f"event {action.target!r} failed: {type(exc).__name__}: {exc}"
            return ActionOutcome(str(action), OutcomeStatus.FAILED, detail, 1)
        return ActionOutcome(str(action), OutcomeStatus.OK, f"event {action.target!r} raised", 1)

    def _post(self, action: ActionSpec, payload: Mapping[str, Any]) -> ActionOutcome:
        policy = self._webhook
        body = json.dumps(payload, default=str).encode()
        reason = ""
        for attempt in range(1, policy.attempts + 1):
            status, reason, retry = _send(action.target, body, policy.timeout_s)
            if status is not None and status < 300:
                return ActionOutcome(str(action), OutcomeStatus.OK, f"HTTP {status}", attempt)
            if not retry or attempt == policy.attempts:
                detail = f"{action.target} {reason} (after {attempt} attempt(s))"
                logger.warning("Monitor webhook failed: %s", detail)
                return ActionOutcome(str(action), OutcomeStatus.FAILED, detail, attempt)
            self._sleep(policy.backoff_s * 2 ** (attempt - 1))
        raise AssertionError("unreachable")  # pragma: no cover - the loop always returns


def _send(url: str, body: bytes, timeout_s: float) -> tuple[int | None, str, bool]:
    """``(status, reason, worth retrying)`` of one POST."""
    request = urllib.request.Request(  # the URL was checked to be http(s)
        url,
        data=body,
        method="POST",
        headers={"Content-Type": "application/json", "User-Agent": f"noria/{__version__}"},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            return int(response.status), "", False
    except urllib.error.HTTPError as exc:
        return exc.code, f"answered HTTP {exc.code} {exc.reason}", exc.code in _RETRIED_STATUSES
    except urllib.error.URLError as exc:
        return None, f"could not be reached: {exc.reason}", True
    except (TimeoutError, OSError) as exc:
        return None, f"could not be reached: {type(exc).__name__}: {exc}", True
