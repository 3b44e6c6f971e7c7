"""Contract every monitor and alert repo must pass.

Subclass :class:`MonitorRepoContract` in a ``Test*`` class and provide a ``store`` fixture
yielding an initialized metadata store; each test uses its own monitor names.
"""

from __future__ import annotations

import uuid
from dataclasses import replace

import pytest

from noria.domain.alerts import ActionOutcome, Alert, AlertStatus, Operator, OutcomeStatus, Severity
from noria.domain.ids import new_id
from noria.domain.monitor_rules import parse_rule
from noria.domain.monitors import Monitor, MonitorResult
from noria.errors import AlreadyExists, Conflict, InvalidArgument, NotFound
from noria.ports.metadata import MetadataStore

HOUR = 3_600_000
T0 = 1_735_689_600_000  # 2025-01-01T00:00:00Z


class MonitorRepoContract:
    @pytest.fixture
    def ns(self) -> str:
        return uuid.uuid4().hex[:10]

    @staticmethod
    def monitor(ns: str, suffix: str = "m", *, deployment: str = "api") -> Monitor:
        return Monitor(
            name=f"{ns}-{suffix}",
            deployment=f"{ns}-{deployment}",
            reference="datasets:/credit/3",
            window_ms=HOUR,
            features=("age", "income", "petal length (cm)"),
            start_ms=T0,
            label_column="default",
            task="classification",
            rules=(
                parse_rule(
                    "drift.share_drifted > 0.3 for 2 severity=critical cooldown=6h "
                    "action=log action=webhook:http://127.0.0.1:9/hook?x=1"
                ),
                parse_rule("performance.accuracy < 0.8 name=accuracy-drop action=trigger"),
            ),
            delay_ms=120_000,
            label_horizon_ms=3 * 86_400_000,
            description="credit traffic",
            created_by="ana",
        )

    @staticmethod
    def result(monitor: str, hour: int, **figures: float) -> MonitorResult:
        return MonitorResult(
            monitor=monitor,
            window_start=T0 + hour * HOUR,
            window_end=T0 + (hour + 1) * HOUR,
            rows=100 + hour,
            labels=hour,
            figures={"rows": 100.0 + hour, "feature.petal length (cm).drift_score": 0.5,
                     **figures},
            details={"versions": {"credit/2": 100 + hour}, "notes": ["no labels yet"]},
            computed_at=T0 + (hour + 2) * HOUR,
        )  # fmt: skip

    @staticmethod
    def alert(monitor: str, hour: int, rule: str = "r1") -> Alert:
        start = T0 + hour * HOUR
        return Alert(
            id=new_id(),
            monitor=monitor,
            rule=rule,
            figure="drift.share_drifted",
            operator=Operator.GT,
            threshold=0.3,
            severity=Severity.CRITICAL,
            status=AlertStatus.FIRING,
            value=0.5,
            window_start=start,
            window_end=start + HOUR,
            last_window_end=start + HOUR,
            last_value=0.5,
            message="drift.share_drifted = 0.5 > 0.3",
            actions=(ActionOutcome("log", OutcomeStatus.OK, "", 1),),
        )

    def test_create_get_list_and_delete_keep_every_field(
        self, store: MetadataStore, ns: str
    ) -> None:
        wanted = self.monitor(ns)
        created = store.monitors.create(wanted)
        assert created == replace(wanted, created_at=created.created_at)
        assert created.created_at > 0
        assert store.monitors.get(wanted.name) == created
        with pytest.raises(AlreadyExists, match=wanted.name):
            store.monitors.create(wanted)
        with pytest.raises(NotFound, match=f"Monitor '{ns}-missing' not found"):
            store.monitors.get(f"{ns}-missing")
        for suffix in ("c", "b"):
            store.monitors.create(self.monitor(ns, suffix))
        store.monitors.create(self.monitor(ns, "a", deployment="other"))
        first = store.monitors.list_monitors(deployment=f"{ns}-api", limit=2)
        assert [m.name for m in first.items] == [f"{ns}-b", f"{ns}-c"]
        rest = store.monitors.list_monitors(
            deployment=f"{ns}-api", limit=2, page_token=first.next_page_token
        )
        assert [m.name for m in rest.items] == [f"{ns}-m"] and rest.next_page_token is None
        assert store.monitors.delete(wanted.name) == created
        with pytest.raises(NotFound):
            store.monitors.delete(wanted.name)
        with pytest.raises(InvalidArgument, match="page token"):
            store.monitors.list_monitors(page_token="not-a-token")

    def test_a_new_definition_keeps_results_alerts_and_lease(
        self, store: MetadataStore, ns: str
    ) -> None:
        created = store.monitors.create(self.monitor(ns))
        name = created.name
        store.monitors.save_result(self.result(name, 0, **{"drift.x": 0.5}))
        alert = store.alerts.add(self.alert(name, 0))
        assert store.monitors.claim(name, owner="a", now_ms=T0, lease_ms=HOUR)
        wanted = replace(
            created,
            reference="datasets:/credit/4",
            features=("age",),
            start_ms=T0 + 5 * HOUR,
            label_column=None,
            task="regression",
            rules=(parse_rule("errors.rate > 0.1"),),
            delay_ms=0,
            label_horizon_ms=HOUR,
            description="after the rules changed",
            created_by="someone else",  # not part of a definition: kept
        )
        replaced = store.monitors.replace(wanted)
        assert replaced == replace(wanted, created_by="ana", created_at=created.created_at)
        assert store.monitors.get(name) == replaced
        assert [r.window_start for r in store.monitors.list_results(name).items] == [T0]
        assert [a.id for a in store.alerts.list_alerts(monitor=name).items] == [alert.id]
        assert not store.monitors.claim(name, owner="b", now_ms=T0 + 1, lease_ms=HOUR)
        for changed in (
            replace(wanted, deployment=f"{ns}-other"),
            replace(wanted, window_ms=60_000),
        ):
            with pytest.raises(Conflict, match="must keep both"):
                store.monitors.replace(changed)
        assert store.monitors.get(name) == replaced
        with pytest.raises(NotFound, match=f"Monitor '{ns}-missing' not found"):
            store.monitors.replace(self.monitor(ns, "missing"))

    def test_one_owner_at_a_time_holds_a_monitor_lease(self, store: MetadataStore, ns: str) -> None:
        name = store.monitors.create(self.monitor(ns)).name
        repo = store.monitors
        assert repo.claim(name, owner="a", now_ms=T0, lease_ms=HOUR)
        assert repo.claim(name, owner="a", now_ms=T0 + 1, lease_ms=HOUR)  # its own: renewed
        assert not repo.claim(name, owner="b", now_ms=T0 + 2, lease_ms=HOUR)
        repo.release(name, owner="b")  # not b's to give back: a still holds it
        assert not repo.claim(name, owner="b", now_ms=T0 + 3, lease_ms=HOUR)
        repo.release(name, owner="a")
        assert repo.claim(name, owner="b", now_ms=T0 + 4, lease_ms=HOUR)
        # b crashed without releasing: its lease lapses
        assert not repo.claim(name, owner="a", now_ms=T0 + HOUR, lease_ms=HOUR)
        assert repo.claim(name, owner="a", now_ms=T0 + 4 + HOUR, lease_ms=HOUR)
        with pytest.raises(NotFound, match=f"{ns}-missing"):
            repo.claim(f"{ns}-missing", owner="a", now_ms=T0, lease_ms=HOUR)
        repo.release(f"{ns}-missing", owner="a")  # nothing to give back: no error
        assert repo.get(name).name == name  # the lease is not part of the monitor

    def test_results_replace_per_window_and_read_as_series(
        self, store: MetadataStore, ns: str
    ) -> None:
        name = store.monitors.create(self.monitor(ns)).name
        for hour in (0, 1, 2):
            saved = store.monitors.save_result(self.result(name, hour, **{"drift.x": hour / 4}))
            assert saved.revision == 1
        again = store.monitors.save_result(self.result(name, 1, **{"performance.accuracy": 0.75}))
        assert again.revision == 2 and again.figures["performance.accuracy"] == 0.75
        assert "drift.x" not in again.figures  # replaced whole, not merged
        page = store.monitors.list_results(name, limit=2)
        assert [r.window_start for r in page.items] == [T0 + 2 * HOUR, T0 + HOUR]
        newest = page.items[0]
        assert dict(newest.figures) == dict(self.result(name, 2, **{"drift.x": 0.5}).figures)
        assert (newest.rows, newest.labels, newest.computed_at) == (102, 2, T0 + 4 * HOUR)
        assert newest.details == {"versions": {"credit/2": 102}, "notes": ["no labels yet"]}
        rest = store.monitors.list_results(name, limit=2, page_token=page.next_page_token)
        assert [r.window_start for r in rest.items] == [T0] and rest.next_page_token is None
        ranged = store.monitors.list_results(name, start_ms=T0 + HOUR, end_ms=T0 + 2 * HOUR)
        assert [r.window_start for r in ranged.items] == [T0 + HOUR]
        assert store.monitors.series(name, "drift.x") == [(T0, 0.0), (T0 + 2 * HOUR, 0.5)]
        spaced = store.monitors.series(
            name, "feature.petal length (cm).drift_score", start_ms=T0 + 1
        )
        assert spaced == [(T0 + HOUR, 0.5), (T0 + 2 * HOUR, 0.5)]
        marks = store.monitors.result_marks(name, end_ms=T0 + 2 * HOUR)
        assert [(m.window_start, m.labels) for m in marks] == [(T0, 0), (T0 + HOUR, 1)]
        with pytest.raises(NotFound, match="not found"):
            store.monitors.save_result(self.result(f"{ns}-missing", 0))
        with pytest.raises(NotFound):
            store.monitors.series(f"{ns}-missing", "rows")

    def test_alerts_add_update_filter_and_go_with_their_monitor(
        self, store: MetadataStore, ns: str
    ) -> None:
        name = store.monitors.create(self.monitor(ns)).name
        other = store.monitors.create(self.monitor(ns, "other")).name
        first = store.alerts.add(self.alert(name, 1))
        assert first.fired_at > 0 and first.updated_at == first.fired_at
        assert store.alerts.get(first.id) == first
        assert first.actions == (ActionOutcome("log", OutcomeStatus.OK, "", 1),)
        second = store.alerts.add(self.alert(name, 5, rule="r2"))
        store.alerts.add(self.alert(other, 9))
        with pytest.raises(AlreadyExists):
            store.alerts.add(first)
        resolved = replace(
            first,
            status=AlertStatus.RESOLVED,
            last_window_end=first.window_end + HOUR,
            last_value=0.4,
            occurrences=2,
            resolved_window_end=first.window_end + 2 * HOUR,
            actions=(*first.actions, ActionOutcome("webhook:http://x", OutcomeStatus.FAILED,
                                                   "refused", 3)),
        )  # fmt: skip
        updated = store.alerts.update(resolved)
        assert updated == replace(resolved, updated_at=updated.updated_at)
        listed = store.alerts.list_alerts(monitor=name)
        assert [a.id for a in listed.items] == [second.id, first.id]
        assert [a.id for a in store.alerts.list_alerts(monitor=name, rule="r1").items] == [first.id]
        firing = store.alerts.list_alerts(monitor=name, status=AlertStatus.FIRING).items
        assert [a.id for a in firing] == [second.id]
        paged = store.alerts.list_alerts(monitor=name, limit=1)
        assert paged.next_page_token is not None
        with pytest.raises(NotFound):
            store.alerts.update(self.alert(name, 2))
        with pytest.raises(NotFound, match="not found"):
            store.alerts.add(self.alert(f"{ns}-missing", 1))
        store.monitors.delete(name)
        with pytest.raises(NotFound):
            store.alerts.get(first.id)
        assert len(store.alerts.list_alerts(monitor=other).items) == 1
