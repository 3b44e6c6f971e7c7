"""Contract every :class:`~noria.ports.schedules.ScheduleRepo` and ``EventRepo`` must pass.

Subclass :class:`ScheduleRepoContract` in a ``Test*`` class and provide a ``store`` fixture
yielding an initialized metadata store; each test uses its own schedule and event names.
"""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from noria.domain.ids import new_id
from noria.domain.schedules import (
    Event,
    FiringStatus,
    Occurrence,
    Schedule,
    TriggerKind,
)
from noria.errors import AlreadyExists, InvalidArgument, NotFound
from noria.ports.metadata import MetadataStore

T0 = 1_700_000_000_000
MINUTE = 60_000


class ScheduleRepoContract:
    @pytest.fixture
    def name(self) -> str:
        return f"nightly-{uuid.uuid4().hex[:10]}"

    @staticmethod
    def cron(name: str, *, cooldown_ms: int = 0) -> Schedule:
        return Schedule(
            name=name,
            pipeline="flows.train:training",
            kind=TriggerKind.CRON,
            cron="*/5 * * * *",
            params={"c": "0.5", "layers": "[64, 32]"},
            cooldown_ms=cooldown_ms,
            created_by="ana",
            created_at=T0,
            active_since=T0,
            cursor=T0,
        )

    @staticmethod
    def on_event(name: str, event: str) -> Schedule:
        return Schedule(
            name=name,
            pipeline="flows/retrain.py:retrain",
            kind=TriggerKind.EVENT,
            event=event,
            created_by="ana",
            created_at=T0,
            active_since=T0,
        )

    @staticmethod
    def raise_event(store: MetadataStore, name: str, at: int, **payload: object) -> Event:
        return store.events.add_event(Event(new_id(), name, dict(payload), at, "monitor"))

    def test_schedule_reads_back(self, store: MetadataStore, name: str) -> None:
        schedule = self.cron(name)
        assert store.schedules.add(schedule) == schedule
        assert store.schedules.get(name) == schedule
        assert schedule.entity().uri == f"schedules:/{name}"
        names = [s.name for s in store.schedules.list_schedules(kind=TriggerKind.CRON).items]
        assert name in names
        assert name not in [
            s.name for s in store.schedules.list_schedules(kind=TriggerKind.EVENT).items
        ]

    def test_names_are_unique_and_unknown_names_are_named(
        self, store: MetadataStore, name: str
    ) -> None:
        store.schedules.add(self.cron(name))
        with pytest.raises(AlreadyExists, match=name):
            store.schedules.add(self.cron(name))
        with pytest.raises(NotFound, match="noria schedule list"):
            store.schedules.get(f"{name}-missing")

    def test_listing_pages_and_filters_by_state(self, store: MetadataStore, name: str) -> None:
        for suffix in "abc":
            store.schedules.add(self.cron(f"{name}-{suffix}"))
        store.schedules.set_enabled(f"{name}-b", False)
        first = store.schedules.list_schedules(limit=2)
        assert len(first.items) == 2
        assert first.next_page_token is not None
        paused = store.schedules.list_schedules(enabled=False).items
        assert f"{name}-b" in [s.name for s in paused]
        assert all(not s.enabled for s in paused)

    def test_an_occurrence_is_claimed_once(self, store: MetadataStore, name: str) -> None:
        store.schedules.add(self.cron(name))
        occurrence = Occurrence("2023-11-14T22:15:00Z", cursor=T0 + 2 * MINUTE)
        firing = store.schedules.claim(name, occurrence, now_ms=T0 + 3 * MINUTE, scheduler="a:1")
        assert firing is not None
        assert (firing.schedule, firing.status, firing.scheduler) == (
            name,
            FiringStatus.RUNNING,
            "a:1",
        )
        again = store.schedules.claim(name, occurrence, now_ms=T0 + 4 * MINUTE, scheduler="b:2")
        assert again is None
        stored = store.schedules.get(name)
        assert (stored.cursor, stored.last_fired_at, stored.last_occurrence) == (
            T0 + 2 * MINUTE,
            T0 + 3 * MINUTE,
            occurrence.key,
        )

    def test_an_older_occurrence_never_fires_after_a_newer_one(
        self, store: MetadataStore, name: str
    ) -> None:
        store.schedules.add(self.cron(name))
        newer = Occurrence("newer", cursor=T0 + 10 * MINUTE)
        assert (
            store.schedules.claim(name, newer, now_ms=T0 + 10 * MINUTE, scheduler="a") is not None
        )
        older = Occurrence("older", cursor=T0 + 5 * MINUTE)
        assert store.schedules.claim(name, older, now_ms=T0 + 11 * MINUTE, scheduler="a") is None

    def test_the_cooldown_holds_back_the_next_firing(self, store: MetadataStore, name: str) -> None:
        store.schedules.add(self.cron(name, cooldown_ms=10 * MINUTE))
        claim = store.schedules.claim
        assert claim(name, Occurrence("a", cursor=T0 + 1), now_ms=T0 + MINUTE, scheduler="s")
        early = Occurrence("b", cursor=T0 + 2)
        assert claim(name, early, now_ms=T0 + 11 * MINUTE - 1, scheduler="s") is None
        assert claim(name, early, now_ms=T0 + 11 * MINUTE, scheduler="s") is not None

    def test_a_paused_schedule_does_not_fire_and_resumes_afresh(
        self, store: MetadataStore, name: str
    ) -> None:
        store.schedules.add(self.cron(name))
        paused = store.schedules.set_enabled(name, False)
        assert not paused.enabled
        occurrence = Occurrence("x", cursor=T0 + MINUTE)
        assert store.schedules.claim(name, occurrence, now_ms=T0 + MINUTE, scheduler="s") is None
        resumed = store.schedules.set_enabled(name, True, active_since=T0 + 5, cursor=T0 + 5)
        assert (resumed.enabled, resumed.active_since, resumed.cursor) == (True, T0 + 5, T0 + 5)
        assert store.schedules.claim(name, occurrence, now_ms=T0 + MINUTE, scheduler="s")

    def test_firings_finish_and_list_newest_first(self, store: MetadataStore, name: str) -> None:
        store.schedules.add(self.cron(name))
        first = store.schedules.claim(
            name, Occurrence("1", cursor=T0 + 1), now_ms=T0, scheduler="s"
        )
        second = store.schedules.claim(
            name, Occurrence("2", cursor=T0 + 2), now_ms=T0, scheduler="s"
        )
        assert first is not None and second is not None
        run_id = new_id()
        done = store.schedules.finish_firing(
            first.id, FiringStatus.SUCCEEDED, ended_at=T0 + 9, pipeline_run_id=run_id
        )
        assert (done.status, done.ended_at, done.pipeline_run_id) == (
            FiringStatus.SUCCEEDED,
            T0 + 9,
            run_id,
        )
        failed = store.schedules.finish_firing(
            second.id, FiringStatus.FAILED, ended_at=T0 + 9, error="boom"
        )
        assert failed.error == "boom"
        listed = store.schedules.list_firings(schedule=name).items
        assert [f.occurrence for f in listed] == ["2", "1"]
        with pytest.raises(InvalidArgument, match="not RUNNING"):
            store.schedules.finish_firing(first.id, FiringStatus.RUNNING, ended_at=T0)

    def test_removing_a_schedule_removes_its_firings(self, store: MetadataStore, name: str) -> None:
        store.schedules.add(self.cron(name))
        firing = store.schedules.claim(
            name, Occurrence("1", cursor=T0 + 1), now_ms=T0, scheduler="s"
        )
        assert firing is not None
        assert store.schedules.delete(name).name == name
        with pytest.raises(NotFound):
            store.schedules.get(name)
        with pytest.raises(NotFound, match="removed"):
            store.schedules.finish_firing(firing.id, FiringStatus.SUCCEEDED, ended_at=T0)
        assert store.schedules.claim(name, Occurrence("2"), now_ms=T0, scheduler="s") is None

    def test_racing_claims_of_one_occurrence_fire_it_once(
        self, store: MetadataStore, name: str
    ) -> None:
        store.schedules.add(self.cron(name))
        occurrence = Occurrence("race", cursor=T0 + 1)

        def claim(index: int) -> bool:
            found = store.schedules.claim(name, occurrence, now_ms=T0, scheduler=f"s:{index}")
            return found is not None

        with ThreadPoolExecutor(8) as pool:
            won = list(pool.map(claim, range(8)))
        assert won.count(True) == 1
        assert len(store.schedules.list_firings(schedule=name).items) == 1

    def test_events_read_back_newest_first(self, store: MetadataStore, name: str) -> None:
        older = self.raise_event(store, name, T0, reason="drift", share=0.4)
        newer = self.raise_event(store, name, T0 + 1, alert={"uri": "alerts:/x"})
        assert store.events.get_event(older.id) == older
        assert [e.id for e in store.events.list_events(name=name).items] == [newer.id, older.id]
        with pytest.raises(NotFound, match="noria events list"):
            store.events.get_event(new_id())
        with pytest.raises(InvalidArgument, match="32 lowercase hex"):
            store.events.get_event("nope")

    def test_a_firing_answers_the_older_pending_events(
        self, store: MetadataStore, name: str
    ) -> None:
        event = f"{name}.alert"
        self.raise_event(store, event, T0 - 1)  # before the trigger existed: never pending
        store.schedules.add(self.on_event(name, event))
        first = self.raise_event(store, event, T0 + 1)
        second = self.raise_event(store, event, T0 + 2)
        pending = store.events.list_events(unhandled_by=name).items
        assert [e.id for e in pending] == [second.id, first.id]
        claimed = store.schedules.claim(
            name, Occurrence(second.id, raised_at=second.raised_at), now_ms=T0 + 5, scheduler="s"
        )
        assert claimed is not None
        assert store.events.list_events(unhandled_by=name).items == []
        statuses = {
            f.occurrence: f.status for f in store.schedules.list_firings(schedule=name).items
        }
        assert statuses == {second.id: FiringStatus.RUNNING, first.id: FiringStatus.COALESCED}
        assert store.events.get_event(first.id).handled_by == (name,)
        store.schedules.add(self.cron(f"{name}-cron"))
        with pytest.raises(InvalidArgument, match="only event triggers"):
            store.events.list_events(unhandled_by=f"{name}-cron")
