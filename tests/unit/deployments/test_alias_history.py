"""Rollback targets from an alias's audit trail: an undo stack, not a toggle."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from noria.deployments.alias_history import ROLLBACK_MARK, rollback_target
from noria.domain.audit import AuditEvent
from noria.domain.entities import EntityKind, EntityRef
from noria.errors import Conflict

MODEL = EntityRef(EntityKind.REGISTERED_MODEL, "credit")
T0 = datetime(2026, 1, 1, tzinfo=UTC)


class Trail:
    """Builds the events the registry and the deployment service write, oldest first."""

    def __init__(self) -> None:
        self.events: list[AuditEvent] = []
        self.current: dict[str, int | None] = {}

    def _add(self, action: str, alias: str, before: int | None, after: int | None) -> None:
        moment = T0 + timedelta(seconds=len(self.events))
        self.events.append(
            AuditEvent(
                "ana",
                action,
                MODEL,
                moment,
                before={"alias": alias, "version": before},
                after={"alias": alias, "version": after},
            )
        )

    def move(self, alias: str, version: int) -> None:
        self._add("model.alias_set", alias, self.current.get(alias), version)
        self.current[alias] = version

    def delete(self, alias: str) -> None:
        self._add("model.alias_deleted", alias, self.current.get(alias), None)
        self.current[alias] = None

    def rollback(self, alias: str) -> int:
        target = rollback_target("credit", alias, self.events)
        left = self.current.get(alias)
        self.move(alias, target)
        self._add(ROLLBACK_MARK, alias, left, target)
        return target


def test_rollback_goes_back_one_move_at_a_time() -> None:
    trail = Trail()
    for version in (1, 2, 3):
        trail.move("champion", version)
    assert trail.rollback("champion") == 2
    assert trail.rollback("champion") == 1
    with pytest.raises(
        Conflict, match="no earlier version to roll back to: version 1 is the first"
    ):
        trail.rollback("champion")


def test_a_move_after_a_rollback_is_undone_first() -> None:
    trail = Trail()
    for version in (1, 2, 3):
        trail.move("champion", version)
    trail.rollback("champion")  # 3 -> 2
    trail.move("champion", 4)
    assert trail.rollback("champion") == 2
    assert trail.rollback("champion") == 1


def test_other_aliases_do_not_interfere() -> None:
    trail = Trail()
    trail.move("champion", 1)
    trail.move("challenger", 5)
    trail.move("champion", 2)
    trail.move("challenger", 6)
    assert trail.rollback("champion") == 1
    assert trail.rollback("challenger") == 5


def test_an_unset_or_deleted_alias_has_nothing_to_roll_back() -> None:
    trail = Trail()
    with pytest.raises(Conflict, match="is not set, so there is nothing to roll back"):
        rollback_target("credit", "champion", trail.events)
    trail.move("champion", 1)
    trail.move("champion", 2)
    trail.delete("champion")
    with pytest.raises(Conflict, match="noria models alias credit champion <version>"):
        rollback_target("credit", "champion", trail.events)
