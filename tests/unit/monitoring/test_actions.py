"""Alert actions against a real local HTTP receiver: delivery, retry with backoff, refusal."""

from __future__ import annotations

from typing import Any

from noria.domain.alerts import OutcomeStatus, parse_action
from noria.monitoring.actions import ActionRunner, WebhookPolicy
from tests.conftest import free_port
from tests.unit.monitoring.webhook_receiver import webhook_receiver

PAYLOAD = {"event": "alert.fired", "alert": {"message": "rows = 3 > 1", "severity": "warning"}}


def runner(**kwargs: Any) -> tuple[ActionRunner, list[float]]:
    pauses: list[float] = []
    policy = WebhookPolicy(attempts=3, timeout_s=5.0, backoff_s=0.25)
    return ActionRunner(webhook=policy, sleep=pauses.append, **kwargs), pauses


def test_a_webhook_is_retried_after_a_failure_with_backoff() -> None:
    actions, pauses = runner()
    with webhook_receiver(fail_first=1) as receiver:
        (outcome,) = actions.run([parse_action(f"webhook:{receiver.url}")], PAYLOAD)
    assert (outcome.status, outcome.attempts, outcome.detail) == (OutcomeStatus.OK, 2, "HTTP 200")
    assert receiver.answered == [503, 200]
    assert receiver.bodies == [PAYLOAD, PAYLOAD]
    assert pauses == [0.25]


def test_a_webhook_that_keeps_failing_or_refuses_is_recorded_not_raised() -> None:
    actions, pauses = runner()
    with webhook_receiver(fail_first=10) as receiver:
        (outcome,) = actions.run([parse_action(f"webhook:{receiver.url}")], PAYLOAD)
    assert (outcome.status, outcome.attempts) == (OutcomeStatus.FAILED, 3)
    assert "answered HTTP 503" in outcome.detail and pauses == [0.25, 0.5]
    with webhook_receiver(fail_first=10, status=404) as receiver:
        (outcome,) = actions.run([parse_action(f"webhook:{receiver.url}")], PAYLOAD)
    assert (outcome.status, outcome.attempts) == (OutcomeStatus.FAILED, 1)  # 4xx: no retry
    closed = f"http://127.0.0.1:{free_port()}/hook"
    refused, logged = actions.run([parse_action(f"webhook:{closed}"), parse_action("log")], PAYLOAD)
    assert (refused.status, refused.attempts) == (OutcomeStatus.FAILED, 3)
    assert closed in refused.detail and "refused" in refused.detail.lower()
    assert logged.status is OutcomeStatus.OK  # the next action still ran


def test_trigger_actions_call_the_event_hook_or_are_skipped_without_one() -> None:
    events: list[tuple[str, dict[str, Any]]] = []
    actions, _ = runner(raise_event=lambda name, payload: events.append((name, payload)))
    (outcome,) = actions.run([parse_action("trigger:retrain-credit")], PAYLOAD)
    assert outcome.status is OutcomeStatus.OK and events == [("retrain-credit", PAYLOAD)]

    def broken(name: str, payload: dict[str, Any]) -> None:
        raise RuntimeError("no such pipeline")

    (failed,) = runner(raise_event=broken)[0].run([parse_action("trigger")], PAYLOAD)
    assert failed.status is OutcomeStatus.FAILED and "no such pipeline" in failed.detail
    (skipped,) = runner()[0].run([parse_action("trigger")], PAYLOAD)
    assert (skipped.status, skipped.detail) == (
        OutcomeStatus.SKIPPED,
        "skipped: no trigger service",
    )
