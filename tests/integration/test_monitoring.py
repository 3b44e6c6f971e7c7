"""Monitors on planted scenarios, over real stores (SQLite file, local artifacts; one test
through a real `noria server`): drift, late labels, dedup and cooldown, webhooks, bad input."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from noria.client import Client, connect
from noria.domain.alerts import AlertStatus, OutcomeStatus
from noria.domain.audit import AuditQuery
from noria.domain.entities import EntityKind, EntityRef
from noria.domain.monitors import result_entity
from noria.errors import Conflict, InvalidArgument, NotFound
from noria.monitoring.actions import WebhookPolicy
from noria.monitoring.service import MonitorService
from noria.settings import Settings
from tests.conftest import RunningServer, free_port
from tests.integration.monitoring_world import HOUR, Traffic, at, build_world
from tests.unit.monitoring.webhook_receiver import webhook_receiver

DRIFT = 20_000.0  # income shift: about 1.7 standard deviations


@pytest.fixture
def client(tmp_path: Path) -> Iterator[Client]:
    with connect(Settings(home=tmp_path / "home", user="ana")) as opened:
        yield opened


@pytest.fixture
def reference(client: Client, tmp_path: Path) -> str:
    return build_world(client, tmp_path)


def monitor(client: Client, reference: str, *rules: str, **options: Any) -> str:
    created = client.monitors.create(
        "credit-api", reference=reference, window="1h", start=at(0), label_column="default",
        rules=list(rules), **options,
    )  # fmt: skip
    return created.name


def figures(client: Client, name: str) -> dict[int, dict[str, float]]:
    """Each evaluated window's figures by hour."""
    results = client.monitors.results(name, limit=1000).items
    return {(r.window_start - at(0)) // HOUR: dict(r.figures) for r in results}


def test_no_drift_no_alert_then_drift_in_one_feature_flags_that_feature(
    client: Client, reference: str
) -> None:
    traffic = Traffic(client)
    for hour in range(3):
        traffic.window(hour)
    name = monitor(client, reference, "drift.share_drifted > 0.3 severity=critical")
    quiet = client.monitors.run(name, now=at(3.1))
    assert [(r.window_start - at(0)) // HOUR for r in quiet.evaluated] == [0, 1, 2]
    assert quiet.fired == [] and client.monitors.alerts(name).items == []
    for hour, found in figures(client, name).items():
        assert found["drift.share_drifted"] == 0.0, hour
        assert found["rows"] == 400 and found["requests"] == 100
        assert found["labels.coverage"] == 0.0 and found["latency.p50_ms"] > 0
        assert "performance.accuracy" not in found  # no labels yet

    traffic.window(3, income_shift=DRIFT)
    drifted = client.monitors.run(name, now=at(4.1))
    (result,) = drifted.evaluated
    flagged = {
        key.removeprefix("feature.").removesuffix(".drifted")
        for key, value in result.figures.items()
        if key.startswith("feature.") and key.endswith(".drifted") and value
    }
    assert flagged == {"income"}
    assert result.figures["prediction.drifted"] == 1  # fewer low incomes, fewer defaults
    assert result.figures["feature.income.p_value"] < 1e-6
    assert result.figures["drift.share_drifted"] == pytest.approx(1 / 3)
    assert result.figures["quality.out_of_range"] >= 1  # incomes beyond the reference's range
    (alert,) = drifted.fired
    assert (alert.rule, alert.status, alert.window_start) == (
        "drift.share_drifted > 0.3", AlertStatus.FIRING, at(3),
    )  # fmt: skip
    assert alert.actions[0].status is OutcomeStatus.OK  # the default log action
    assert client.monitors.run(name, now=at(4.2)).evaluated == []  # nothing new is due

    # Lineage: alert ← result ← deployment ← model version; the result used the reference.
    graph = client.lineage.upstream(alert.entity(), depth=4)
    reached = set(graph.entities())
    assert {result.entity(), EntityRef(EntityKind.DEPLOYMENT, "credit-api")} <= reached
    assert EntityRef(EntityKind.MODEL_VERSION, "credit/1") in reached
    assert EntityRef(EntityKind.DATASET_VERSION, "credit/1") in reached
    fired = client.audit.events(AuditQuery(action="alert.fired")).items
    assert [event.entity for event in fired] == [alert.entity()]


def test_failed_requests_raise_the_error_rate_and_nothing_else(
    client: Client, reference: str
) -> None:
    traffic = Traffic(client)
    traffic.window(0)
    traffic.window(1, failures=25)  # the model failed on 25 requests besides 100 answered
    name = monitor(client, reference, "errors.rate > 0.1 severity=critical")
    ran = client.monitors.run(name, now=at(2.1))
    calm, failing = (figures(client, name)[hour] for hour in (0, 1))
    assert (calm["errors.count"], calm["errors.rate"], calm["requests"]) == (0, 0, 100)
    assert (failing["errors.count"], failing["requests"]) == (25, 125)
    assert failing["errors.rate"] == pytest.approx(0.2)
    assert failing["errors.invalid_rate"] == 0
    # The failures carry no rows: drift, quality and row counts see the answers only.
    assert failing["rows"] == 400 and failing["drift.share_drifted"] == 0.0
    assert failing["latency.p50_ms"] > 0
    (alert,) = ran.fired
    assert (alert.rule, alert.window_start) == ("errors.rate > 0.1", at(1))


def test_a_performance_drop_is_found_once_the_late_labels_arrive(
    client: Client, reference: str
) -> None:
    traffic = Traffic(client)
    requests = [traffic.window(h, error=0.05 if h < 2 else 0.45) for h in range(4)]
    name = monitor(client, reference, "performance.accuracy < 0.8 for 2 severity=critical")
    first = client.monitors.run(name, now=at(4.1))
    assert len(first.evaluated) == 4 and first.fired == []

    traffic.send_labels([rid for ids in requests for rid in ids])
    second = client.monitors.run(name, now=at(4.2))
    assert second.evaluated == []
    assert [(r.window_start - at(0)) // HOUR for r in second.reevaluated] == [0, 1, 2, 3]
    assert {r.revision for r in second.reevaluated} == {2}
    accuracy = {h: f["performance.accuracy"] for h, f in figures(client, name).items()}
    assert accuracy[0] > 0.9 and accuracy[1] > 0.9
    assert accuracy[2] < 0.65 and accuracy[3] < 0.65
    assert all(f["labels.coverage"] == 1.0 for f in figures(client, name).values())
    (alert,) = second.fired  # two windows in a row: fires on the second
    assert (alert.window_start, alert.severity.value) == (at(3), "critical")
    assert alert.value == pytest.approx(accuracy[3])


def test_late_labels_update_only_the_windows_they_belong_to(client: Client, reference: str) -> None:
    traffic = Traffic(client)
    requests = [traffic.window(hour) for hour in range(3)]
    name = monitor(client, reference)
    client.monitors.run(name, now=at(3.1))

    traffic.send_labels(requests[0][:50])  # half of window 0's requests
    run = client.monitors.run(name, now=at(3.2))
    (updated,) = run.reevaluated
    assert (updated.window_start, updated.labels, updated.revision) == (at(0), 200, 2)
    assert updated.figures["labels.coverage"] == 0.5
    assert "performance.accuracy" in updated.figures
    revisions = {(r.window_start - at(0)) // HOUR: r.revision
                 for r in client.monitors.results(name).items}  # fmt: skip
    assert revisions == {0: 2, 1: 1, 2: 1}
    assert client.monitors.run(name, now=at(3.3)).reevaluated == []  # no new label since

    traffic.send_labels(requests[0][50:] + requests[2][:10])
    again = client.monitors.run(name, now=at(3.4))
    assert [(r.window_start, r.labels, r.revision) for r in again.reevaluated] == [
        (at(0), 400, 3), (at(2), 40, 2),
    ]  # fmt: skip
    events = client.audit.events(AuditQuery(action="monitor.window_reevaluated")).items
    assert len(events) == 3 and events[-1].entity == result_entity(name, at(0))


def test_alerts_are_deduplicated_and_cooled_down(client: Client, reference: str) -> None:
    traffic = Traffic(client)
    drifting = {1, 2, 4, 8}
    for hour in range(9):
        traffic.window(hour, rows=200, income_shift=DRIFT if hour in drifting else 0.0)
        if hour == 0:
            name = monitor(client, reference, "drift.share_drifted > 0.3 cooldown=4h")
        client.monitors.run(name, now=at(hour + 1.1))  # one run per hour, as the scheduler
    alerts = client.monitors.alerts(name).items
    assert [(a.window_start, a.status) for a in alerts] == [
        (at(8), AlertStatus.FIRING),  # 7 h after the first: past the cooldown
        (at(1), AlertStatus.RESOLVED),  # held on windows 1 and 2, resolved by window 3
    ]
    first = alerts[1]
    assert (first.occurrences, first.last_window_end, first.resolved_window_end) == (
        2, at(3), at(4),
    )  # fmt: skip
    # Window 4 drifted again 3 h after the first alert: within the 4 h cooldown, no alert.
    shift = client.monitors.series(name, "drift.share_drifted")
    assert [value > 0.3 for _, value in shift] == [h in drifting for h in range(9)]


def test_a_new_definition_keeps_history_and_resolves_alerts_of_removed_rules(
    client: Client, reference: str
) -> None:
    traffic = Traffic(client)
    for hour in range(2):
        traffic.window(hour, rows=200, income_shift=DRIFT)
    name = monitor(
        client, reference, "drift.share_drifted > 0.3", "rows > 10 name=busy severity=info"
    )
    client.monitors.run(name, now=at(2.1))
    firing = {a.rule: a for a in client.monitors.alerts(name, status=AlertStatus.FIRING).items}
    assert set(firing) == {"drift.share_drifted > 0.3", "busy"}
    # A new threshold is a new rule (its default name holds the threshold); "busy" stays.
    client.monitors.create(
        "credit-api", reference=reference, window="1h", label_column="default",
        rules=["drift.share_drifted > 0.2", "rows > 10 name=busy severity=info"], replace=True,
    )  # fmt: skip
    kept = client.monitors.get(name)
    assert kept.start_ms == at(0)  # no start given: the windows go on
    assert [rule.name for rule in kept.rules] == ["drift.share_drifted > 0.2", "busy"]
    assert sorted(figures(client, name)) == [0, 1]
    after = {a.rule: a.status for a in client.monitors.alerts(name).items}
    assert after == {"drift.share_drifted > 0.3": AlertStatus.RESOLVED, "busy": AlertStatus.FIRING}
    actions = [e.action for e in client.audit.events(AuditQuery(entity=kept.entity())).items]
    assert "monitor.updated" in actions
    # The next windows are judged by the new rules: busy extends, the drift rule fires anew.
    traffic.window(2, rows=200, income_shift=DRIFT)
    run = client.monitors.run(name, now=at(3.1))
    assert [alert.rule for alert in run.fired] == ["drift.share_drifted > 0.2"]
    with pytest.raises(Conflict, match="must keep both"):
        client.monitors.create(
            "credit-api", reference=reference, window="2h", label_column="default", replace=True
        )


def test_webhook_delivery_retries_and_a_refusing_url_never_stops_the_run(
    client: Client, reference: str
) -> None:
    traffic = Traffic(client)
    traffic.window(0, income_shift=DRIFT)
    refusing = f"http://127.0.0.1:{free_port()}/hook"
    with webhook_receiver(fail_first=1) as receiver:
        name = monitor(
            client, reference,
            f"drift.share_drifted > 0.3 action=webhook:{receiver.url} action=webhook:{refusing} "
            "action=trigger:retrain-credit",
        )  # fmt: skip
        run = client.monitors.run(name, now=at(1.1))
    (alert,) = run.fired
    delivered, refused, trigger = alert.actions
    assert (delivered.status, delivered.attempts) == (OutcomeStatus.OK, 2)
    assert receiver.answered == [503, 200]
    body = receiver.bodies[-1]
    assert (body["event"], body["alert"]["id"], body["monitor"]["deployment"]) == (
        "alert.fired", alert.id, "credit-api",
    )  # fmt: skip
    assert body["alert"]["value"] == pytest.approx(alert.value)
    assert (refused.status, refused.attempts) == (OutcomeStatus.FAILED, 3)
    assert refusing in refused.detail and "refused" in refused.detail.lower()
    # The client's event triggers take the event; lineage links it to the alert.
    assert (trigger.status, trigger.detail) == (OutcomeStatus.OK, "event 'retrain-credit' raised")
    (event,) = client.triggers.events(name="retrain-credit").items
    assert event.payload["alert"]["id"] == alert.id
    assert event.entity() in client.lineage.downstream(alert.entity(), depth=1).entities()
    assert client.metadata.alerts.get(alert.id).actions == alert.actions  # stored with outcomes
    assert len(run.evaluated) == 1


def test_trigger_actions_reach_the_injected_event_hook(client: Client, reference: str) -> None:
    events: list[tuple[str, dict[str, Any]]] = []
    service = MonitorService(
        client.metadata, client.artifacts, datasets=client.datasets,
        deployments=client.deployments, registry=client.registry, lineage=client.lineage,
        audit=client.audit, user="ana",
        raise_event=lambda event, payload: events.append((event, payload)),
        webhook=WebhookPolicy(attempts=1),
    )  # fmt: skip
    Traffic(client).window(0, income_shift=DRIFT)
    service.create("credit-api", reference=reference, start=at(0), label_column="default",
                   rules=["feature.income.drifted == 1 action=trigger:retrain-credit"])  # fmt: skip
    (alert,) = service.run("credit-api", now=at(1.1)).fired
    ((event, payload),) = events
    assert (event, payload["alert"]["uri"]) == ("retrain-credit", alert.entity().uri)
    assert payload["deployment"]["routes"][0] == {
        "model": "models:/credit@champion", "role": "primary", "version": 1,
    }  # fmt: skip


def test_bad_input_gets_one_clear_message(client: Client, reference: str, tmp_path: Path) -> None:
    client.registry.register(client.registry.get_version("credit", 1).source, "fraud")
    client.deployments.create("fraud-api", model="models:/fraud/1")
    with pytest.raises(NotFound, match="Deployment 'fraud-api' has no prediction log"):
        client.monitors.create("fraud-api", reference=reference)
    Traffic(client).window(0)
    other, _ = client.datasets.ingest(pd.DataFrame({"x": [1.0, 2.0], "y": ["a", "b"]}), name="xy")
    with pytest.raises(InvalidArgument, match="Reference datasets:/xy/1 has other columns"):
        client.monitors.create("credit-api", reference=other.uri)
    with pytest.raises(InvalidArgument, match=r"lacks \['salary'\]"):
        client.monitors.create("credit-api", reference=reference, features=["income", "salary"])
    with pytest.raises(InvalidArgument, match="has no comparison"):
        client.monitors.create("credit-api", reference=reference, rules=["drift is high"])
    with pytest.raises(InvalidArgument, match="'salary' is not a monitored feature"):
        client.monitors.create("credit-api", reference=reference,
                               rules=["feature.salary.drifted == 1"])  # fmt: skip
    with pytest.raises(InvalidArgument, match="performance figures need a task"):
        client.monitors.create("credit-api", reference=reference,
                               rules=["performance.accuracy < 0.8"])  # fmt: skip
    with pytest.raises(InvalidArgument, match="'rmse' is not a classification metric"):
        client.monitors.create("credit-api", reference=reference, label_column="default",
                               rules=["performance.rmse > 3"])  # fmt: skip
    assert client.monitors.list_monitors().items == []


def test_run_due_reports_a_broken_monitor_and_runs_the_others(
    client: Client, reference: str
) -> None:
    traffic = Traffic(client)
    traffic.window(0)
    monitor(client, reference)
    client.deployments.create("doomed-api", model="models:/credit/1")
    client.monitors.create("doomed-api", reference=reference, start=at(0))
    client.deployments.delete("doomed-api")
    traffic.window(1)
    runs = {run.monitor: run for run in client.monitors.run_due(now=at(2.1))}
    assert runs["credit-api"].error is None and len(runs["credit-api"].evaluated) == 2
    assert runs["doomed-api"].error is not None
    assert "Deployment 'doomed-api' not found" in runs["doomed-api"].error


def test_yaml_monitor_and_deletion(client: Client, reference: str, tmp_path: Path) -> None:
    Traffic(client).window(0)
    created = client.monitors.create_from_yaml(
        f"name: watch\ndeployment: credit-api\nreference: {reference}\nwindow: 30m\n"
        "start: 2025-01-01T00:00:00Z\nlabel_column: default\nfeatures: [income, region]\n"
        "rules:\n  - figure: latency.p99_ms\n    operator: '>'\n    threshold: 1000\n",
        source="watch.yaml",
    )
    assert (created.features, created.window_ms, created.task) == (
        ("income", "region"), 1_800_000, "classification",
    )  # fmt: skip
    run = client.monitors.run("watch", now=at(1.1))
    assert len(run.evaluated) == 2 and sum(r.rows for r in run.evaluated) == 400
    client.monitors.delete("watch")
    with pytest.raises(NotFound, match="Monitor 'watch' not found"):
        client.monitors.run("watch")
    deleted = client.audit.events(AuditQuery(action="monitor.deleted")).items
    assert [event.entity.key for event in deleted] == ["watch"]


@pytest.mark.slow
def test_a_monitor_runs_against_a_remote_server(
    noria_server: RunningServer, tmp_path: Path
) -> None:
    settings = Settings(home=tmp_path / "home", store_uri=noria_server.url, user="remote")
    with connect(settings) as remote:
        for existing in remote.monitors.list_monitors().items:
            remote.monitors.delete(existing.name)  # the server outlives one test
        for deployment in remote.deployments.list_deployments().items:
            remote.deployments.delete(deployment.name)
        if remote.registry.search_models(name_like="credit").items:
            remote.registry.delete_model("credit", force=True)
        reference = build_world(remote, tmp_path)
        traffic = Traffic(remote)
        requests = traffic.window(0, income_shift=DRIFT)
        name = monitor(remote, reference, "feature.income.drifted == 1")
        first = remote.monitors.run(name, now=at(1.1))
        assert len(first.evaluated) == 1 and len(first.fired) == 1
        traffic.send_labels(requests)
        (late,) = remote.monitors.run(name, now=at(1.2)).reevaluated
        assert late.figures["labels.coverage"] == 1.0 and late.revision == 2
        assert remote.monitors.alerts(name).items[0].id == first.fired[0].id
