"""Where a rollback moves an alias: read from the model's audit trail, like an undo stack.

Every move of an alias is an audit event on the registered model (``model.alias_set`` or
``model.alias_deleted``, with ``{alias, version}`` before and after). A rollback moves the
alias back to the version it held before the move that set the current one; a second
rollback goes one step further back, not forward again: the service marks its own moves
with a ``model.alias_rolled_back`` event, and a marked move pops the stack instead of
pushing onto it.
"""

from __future__ import annotations

from collections.abc import Iterable

from noria.domain.audit import AuditEvent
from noria.errors import Conflict

ALIAS_MOVES = ("model.alias_set", "model.alias_deleted")
ROLLBACK_MARK = "model.alias_rolled_back"


def _version(state: dict[str, object] | None) -> int | None:
    value = (state or {}).get("version")
    return None if value is None else int(str(value))


def _concerns(event: AuditEvent, alias: str) -> bool:
    return (event.after or {}).get("alias") == alias or (event.before or {}).get("alias") == alias


def rollback_target(model: str, alias: str, events_oldest_first: Iterable[AuditEvent]) -> int:
    """The version ``alias`` should go back to; ``Conflict`` when it has none to go back to."""
    earlier: list[int | None] = []  # the versions held before each move still in effect
    current: int | None = None
    for event in events_oldest_first:
        if not _concerns(event, alias):
            continue
        if event.action in ALIAS_MOVES:
            earlier.append(_version(event.before))
            current = _version(event.after)
        elif event.action == ROLLBACK_MARK:
            # The rollback's own move pushed the version it left; drop that, then the entry
            # it went back to, which is now current again.
            if earlier:
                earlier.pop()
            if earlier and earlier[-1] == current:
                earlier.pop()
    if current is None:
        raise Conflict(
            f"Alias @{alias} of model {model!r} is not set, so there is nothing to roll back: "
            f"set it with `noria models alias {model} {alias} <version>`."
        )
    target = earlier[-1] if earlier else None
    if target is None:
        raise Conflict(
            f"Alias @{alias} of model {model!r} has no earlier version to roll back to: "
            f"version {current} is the first it pointed at. Move it with "
            f"`noria models alias {model} {alias} <version>`."
        )
    return target
