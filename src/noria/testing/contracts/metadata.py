"""Contract every :class:`~noria.ports.metadata.MetadataStore` must pass.

Subclass :class:`MetadataStoreContract` in a ``Test*`` class and provide a ``store``
fixture yielding an initialized store. Only the port API is used, and the store may
hold data from other tests: every test uses its own entity keys and actor.

Audit time windows are half-open: ``since`` is inclusive, ``until`` exclusive.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone
from itertools import pairwise

import pytest

from noria.domain.audit import AuditEvent, AuditQuery, JsonObject
from noria.domain.entities import EntityKind, EntityRef
from noria.domain.ids import new_id
from noria.domain.lineage import Direction, LineageEdge, Relation
from noria.domain.schema import SchemaStatus
from noria.errors import InvalidArgument
from noria.ports.metadata import MetadataStore

T0 = datetime(2024, 5, 17, 8, 30, 0, 123456, tzinfo=UTC)


class MetadataStoreContract:
    """Lineage, audit and schema behaviour shared by all metadata stores."""

    @pytest.fixture
    def ns(self) -> str:
        """A prefix unique to one test, for keys and actors."""
        return uuid.uuid4().hex[:12]

    # -- helpers ---------------------------------------------------------------

    @staticmethod
    def ref(ns: str, name: str, kind: EntityKind = EntityKind.ARTIFACT) -> EntityRef:
        """A ref unique to this test; versioned kinds get ``<name>/<version>`` keys."""
        if kind in (EntityKind.MODEL_VERSION, EntityKind.DATASET_VERSION):
            return EntityRef(kind, f"{name}-{ns}/1")
        if kind is EntityKind.RUN:
            return EntityRef(kind, new_id())
        return EntityRef(kind, f"{ns}-{name}")

    def chain(self, ns: str, *names: str) -> list[LineageEdge]:
        """Edges names[0] → names[1] → ... (each produced the next)."""
        refs = [self.ref(ns, name) for name in names]
        return [LineageEdge(a, Relation.PRODUCED, b) for a, b in pairwise(refs)]

    @staticmethod
    def event(
        ns: str,
        *,
        action: str = "run.create",
        entity: EntityRef | None = None,
        at: datetime = T0,
        before: JsonObject | None = None,
        after: JsonObject | None = None,
    ) -> AuditEvent:
        return AuditEvent(
            actor=f"actor-{ns}",
            action=action,
            entity=entity or EntityRef(EntityKind.PIPELINE_RUN, f"{ns}-run"),
            occurred_at=at,
            before=before,
            after=after,
        )

    @staticmethod
    def mine(
        store: MetadataStore,
        ns: str,
        *,
        entity: EntityRef | None = None,
        action: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> list[AuditEvent]:
        """This test's events (its own actor), newest first."""
        query = AuditQuery(
            entity=entity, actor=f"actor-{ns}", action=action, since=since, until=until
        )
        return store.audit.list_events(query, limit=1000).items

    # -- schema ----------------------------------------------------------------

    def test_initialize_is_idempotent_and_current(self, store: MetadataStore) -> None:
        first = store.initialize()
        second = store.initialize()
        assert first == second
        assert second.status is SchemaStatus.CURRENT
        state = store.schema_state()
        assert state.status is SchemaStatus.CURRENT
        assert state.revision == state.head

    # -- lineage ---------------------------------------------------------------

    def test_add_edges_counts_new_edges_and_dedupes(self, store: MetadataStore, ns: str) -> None:
        ab, bc, cd = self.chain(ns, "a", "b", "c", "d")
        assert store.lineage.add_edges([ab, bc, ab]) == 2
        assert store.lineage.add_edges([ab, cd]) == 1
        assert store.lineage.add_edges([ab, bc, cd]) == 0
        assert store.lineage.add_edges([]) == 0
        steps = store.lineage.walk(self.ref(ns, "a"), Direction.DOWNSTREAM, depth=10)
        assert [step.edge for step in steps] == [ab, bc, cd]

    def test_same_nodes_with_another_relation_is_another_edge(
        self, store: MetadataStore, ns: str
    ) -> None:
        a, b = self.ref(ns, "a"), self.ref(ns, "b")
        edges = [LineageEdge(a, Relation.PRODUCED, b), LineageEdge(a, Relation.CONSUMED, b)]
        assert store.lineage.add_edges(edges) == 2
        steps = store.lineage.walk(a, Direction.DOWNSTREAM, depth=1)
        assert {step.edge for step in steps} == set(edges)

    def test_lineage_count_grows_with_added_edges(self, store: MetadataStore, ns: str) -> None:
        edges = self.chain(ns, "a", "b", "c")
        before = store.lineage.count()
        store.lineage.add_edges(edges)
        store.lineage.add_edges(edges)
        assert store.lineage.count() >= before + 2

    def test_walk_downstream_and_upstream(self, store: MetadataStore, ns: str) -> None:
        ab, bc = self.chain(ns, "a", "b", "c")
        store.lineage.add_edges([ab, bc])
        down = store.lineage.walk(self.ref(ns, "a"), Direction.DOWNSTREAM, depth=5)
        assert [(s.edge, s.depth) for s in down] == [(ab, 1), (bc, 2)]
        up = store.lineage.walk(self.ref(ns, "c"), Direction.UPSTREAM, depth=5)
        assert [(s.edge, s.depth) for s in up] == [(bc, 1), (ab, 2)]
        assert store.lineage.walk(self.ref(ns, "a"), Direction.UPSTREAM, depth=5) == []

    def test_walk_reports_recorded_at_as_aware_utc(self, store: MetadataStore, ns: str) -> None:
        store.lineage.add_edges(self.chain(ns, "a", "b"))
        (step,) = store.lineage.walk(self.ref(ns, "a"), Direction.DOWNSTREAM, depth=1)
        assert step.recorded_at.utcoffset() == timedelta(0)
        assert abs(step.recorded_at - datetime.now(UTC)) < timedelta(days=1)

    def test_walk_stops_at_depth(self, store: MetadataStore, ns: str) -> None:
        ab, bc, _cd = edges = self.chain(ns, "a", "b", "c", "d")
        store.lineage.add_edges(edges)
        steps = store.lineage.walk(self.ref(ns, "a"), Direction.DOWNSTREAM, depth=2)
        assert [step.edge for step in steps] == [ab, bc]
        assert max(step.depth for step in steps) == 2

    def test_walk_terminates_on_cycles(self, store: MetadataStore, ns: str) -> None:
        edges = self.chain(ns, "a", "b", "c", "a")
        store.lineage.add_edges(edges)
        steps = store.lineage.walk(self.ref(ns, "a"), Direction.DOWNSTREAM, depth=100)
        assert [(s.edge, s.depth) for s in steps] == list(zip(edges, [1, 2, 3], strict=True))
        up = store.lineage.walk(self.ref(ns, "b"), Direction.UPSTREAM, depth=100)
        assert sorted(s.depth for s in up) == [1, 2, 3]

    def test_walk_branching_graph_nearest_first(self, store: MetadataStore, ns: str) -> None:
        # A diamond a → (b, c) → d, plus a tail d → e and a side branch x → c.
        ab, bd, de = self.chain(ns, "a", "b", "d", "e")
        ac, cd = self.chain(ns, "a", "c", "d")
        (xc,) = self.chain(ns, "x", "c")
        store.lineage.add_edges([de, cd, xc, bd, ac, ab])
        down = store.lineage.walk(self.ref(ns, "a"), Direction.DOWNSTREAM, depth=10)
        depths = [step.depth for step in down]
        assert depths == sorted(depths)
        by_depth = {(s.edge, s.depth) for s in down}
        assert by_depth == {(ab, 1), (ac, 1), (bd, 2), (cd, 2), (de, 3)}
        up = store.lineage.walk(self.ref(ns, "d"), Direction.UPSTREAM, depth=10)
        assert {(s.edge, s.depth) for s in up} == {(bd, 1), (cd, 1), (ab, 2), (ac, 2), (xc, 2)}
        assert [s.depth for s in up] == sorted(s.depth for s in up)

    def test_walk_crosses_entity_kinds(self, store: MetadataStore, ns: str) -> None:
        data = self.ref(ns, "data", EntityKind.DATASET_VERSION)
        run = self.ref(ns, "run", EntityKind.RUN)
        model = self.ref(ns, "model", EntityKind.MODEL_VERSION)
        edges = [
            LineageEdge(data, Relation.CONSUMED, run),
            LineageEdge(run, Relation.PRODUCED, model),
        ]
        store.lineage.add_edges(edges)
        up = store.lineage.walk(model, Direction.UPSTREAM, depth=2)
        assert [step.edge for step in up] == [edges[1], edges[0]]

    def test_walk_wide_levels(self, store: MetadataStore, ns: str) -> None:
        # 600 nodes in one level: more than fits comfortably in one IN list.
        hub = self.ref(ns, "hub")
        leaves = [self.ref(ns, f"leaf-{i}") for i in range(600)]
        tails = [self.ref(ns, f"tail-{i}") for i in range(600)]
        fan_out = [LineageEdge(hub, Relation.PRODUCED, leaf) for leaf in leaves]
        onward = [
            LineageEdge(a, Relation.DERIVED_FROM, b) for a, b in zip(leaves, tails, strict=True)
        ]
        assert store.lineage.add_edges(fan_out + onward) == 1200
        steps = store.lineage.walk(hub, Direction.DOWNSTREAM, depth=3)
        assert [s.depth for s in steps] == [1] * 600 + [2] * 600
        assert {s.edge for s in steps} == set(fan_out + onward)
        up = store.lineage.walk(tails[-1], Direction.UPSTREAM, depth=3)
        assert [(s.edge, s.depth) for s in up] == [(onward[-1], 1), (fan_out[-1], 2)]

    @pytest.mark.parametrize("depth", [0, -1, 101])
    def test_walk_rejects_invalid_depth(self, store: MetadataStore, ns: str, depth: int) -> None:
        with pytest.raises(InvalidArgument):
            store.lineage.walk(self.ref(ns, "a"), Direction.DOWNSTREAM, depth=depth)

    # -- audit -----------------------------------------------------------------

    def test_append_sets_increasing_seq(self, store: MetadataStore, ns: str) -> None:
        event = self.event(ns)
        first = store.audit.append(event)
        second = store.audit.append(self.event(ns, action="run.update"))
        assert event.seq is None
        assert first.seq is not None
        assert second.seq is not None
        assert second.seq > first.seq
        assert first == event  # seq is not part of equality; everything else is kept

    def test_count_grows_with_appends(self, store: MetadataStore, ns: str) -> None:
        before = store.audit.count()
        store.audit.append(self.event(ns))
        store.audit.append(self.event(ns))
        assert store.audit.count() >= before + 2

    def test_list_is_newest_first(self, store: MetadataStore, ns: str) -> None:
        appended = [store.audit.append(self.event(ns, action=f"step.{i}")) for i in range(4)]
        listed = self.mine(store, ns)
        assert [e.seq for e in listed] == [e.seq for e in reversed(appended)]
        assert [e.action for e in listed] == ["step.3", "step.2", "step.1", "step.0"]

    def test_list_filters_by_entity_actor_and_action(self, store: MetadataStore, ns: str) -> None:
        run_a, run_b = self.ref(ns, "run-a"), self.ref(ns, "run-b")
        store.audit.append(self.event(ns, entity=run_a, action="run.create"))
        store.audit.append(self.event(ns, entity=run_b, action="run.create"))
        store.audit.append(self.event(ns, entity=run_a, action="run.finish"))
        store.audit.append(self.event(f"{ns}-other", entity=run_a, action="run.create"))
        page = store.audit.list_events(AuditQuery(entity=run_a))
        assert [e.action for e in page.items] == ["run.create", "run.finish", "run.create"]
        assert all(e.entity == run_a for e in page.items)
        assert len(self.mine(store, ns)) == 3
        assert [e.entity for e in self.mine(store, ns, action="run.create")] == [run_b, run_a]
        both = self.mine(store, ns, entity=run_a, action="run.finish")
        assert [(e.entity, e.action) for e in both] == [(run_a, "run.finish")]
        assert self.mine(store, ns, action="run.delete") == []

    def test_list_filters_by_time_window(self, store: MetadataStore, ns: str) -> None:
        times = [T0 + timedelta(minutes=i) for i in range(4)]
        for i, at in enumerate(times):
            store.audit.append(self.event(ns, action=f"at.{i}", at=at))
        assert [e.action for e in self.mine(store, ns, since=times[2])] == ["at.3", "at.2"]
        assert [e.action for e in self.mine(store, ns, until=times[1])] == ["at.0"]
        window = self.mine(store, ns, since=times[1], until=times[3])
        assert [e.action for e in window] == ["at.2", "at.1"]
        in_other_zone = times[2].astimezone(timezone(timedelta(hours=-7)))
        assert [e.action for e in self.mine(store, ns, since=in_other_zone)] == ["at.3", "at.2"]

    def test_pagination_covers_everything_once(self, store: MetadataStore, ns: str) -> None:
        appended = [store.audit.append(self.event(ns, action=f"a.{i}")) for i in range(7)]
        query = AuditQuery(actor=f"actor-{ns}")
        seen: list[int | None] = []
        token: str | None = None
        for _ in range(10):
            page = store.audit.list_events(query, limit=3, page_token=token)
            assert len(page.items) <= 3
            seen.extend(e.seq for e in page.items)
            token = page.next_page_token
            if token is None:
                break
        assert token is None
        assert seen == [e.seq for e in reversed(appended)]

    @pytest.mark.parametrize("token", ["not-a-number", "-3", "1.5"])
    def test_invalid_page_token_is_rejected(self, store: MetadataStore, token: str) -> None:
        with pytest.raises(InvalidArgument, match="token"):
            store.audit.list_events(AuditQuery(), page_token=token)

    @pytest.mark.parametrize("limit", [0, 1001])
    def test_invalid_page_size_is_rejected(self, store: MetadataStore, limit: int) -> None:
        with pytest.raises(InvalidArgument):
            store.audit.list_events(AuditQuery(), limit=limit)

    def test_before_and_after_roundtrip(self, store: MetadataStore, ns: str) -> None:
        before: JsonObject = {"stage": "staging", "tags": {"team": "ml", "n": [1, 2.5, None]}}
        after: JsonObject = {"stage": "production", "note": "Zoë ✓ 模型 🚀", "ok": True}
        store.audit.append(self.event(ns, before=before, after=after))
        store.audit.append(self.event(ns, action="run.delete", before=before))
        deleted, updated = self.mine(store, ns)
        assert (updated.before, updated.after) == (before, after)
        assert (deleted.before, deleted.after) == (before, None)

    def test_timestamps_roundtrip_to_the_microsecond(self, store: MetadataStore, ns: str) -> None:
        ist = timezone(timedelta(hours=5, minutes=30))
        at = datetime(2023, 12, 31, 23, 59, 59, 999999, tzinfo=ist)
        store.audit.append(self.event(ns, at=at))
        (event,) = self.mine(store, ns)
        assert event.occurred_at == at
        assert event.occurred_at.utcoffset() == timedelta(0)
        assert event.occurred_at.microsecond == 999999

    def test_naive_timestamp_is_rejected(self, store: MetadataStore, ns: str) -> None:
        with pytest.raises(InvalidArgument):
            store.audit.append(self.event(ns, at=datetime(2024, 1, 1, 12, 0)))
        assert self.mine(store, ns) == []
