"""``noria audit``: who did what, newest first."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import typer
from rich.table import Table

from noria.cli.context import open_client
from noria.cli.render import JsonFlag, console, print_json
from noria.domain.audit import AuditEvent, AuditQuery
from noria.domain.paging import MAX_PAGE_SIZE
from noria.domain.uris import parse_entity_uri
from noria.errors import InvalidArgument


def _moment(text: str | None, option: str) -> datetime | None:
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidArgument(
            f"{option} {text!r} is not a date: use ISO 8601, e.g. 2026-11-23T18:00:00+00:00."
        ) from None
    if moment.tzinfo is None:
        moment = moment.astimezone()  # a bare time means the user's local time
    return moment


def _change(event: AuditEvent) -> str:
    """``key: old → new`` for each field that differs, ``-`` for an absent value."""
    before, after = event.before or {}, event.after or {}
    changed = [key for key in {**before, **after} if before.get(key) != after.get(key)]
    return "; ".join(
        f"{key}: {_shown(before.get(key))} → {_shown(after.get(key))}" for key in changed
    )


def _shown(value: object) -> str:
    return "-" if value is None else str(value)


def show_audit(
    ctx: typer.Context,
    entity: Annotated[str | None, typer.Option(help="Only events about this entity URI.")] = None,
    actor: Annotated[str | None, typer.Option(help="Only events by this user.")] = None,
    action: Annotated[
        str | None, typer.Option(help="Only this action, e.g. store.created.")
    ] = None,
    since: Annotated[str | None, typer.Option(help="ISO 8601 start time.")] = None,
    until: Annotated[str | None, typer.Option(help="ISO 8601 end time.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=MAX_PAGE_SIZE)] = 50,
    page_token: Annotated[str | None, typer.Option(help="From a previous page.")] = None,
    json: JsonFlag = False,
) -> None:
    """List audit events, newest first."""
    query = AuditQuery(
        entity=parse_entity_uri(entity) if entity else None,
        actor=actor,
        action=action,
        since=_moment(since, "--since"),
        until=_moment(until, "--until"),
    )
    with open_client(ctx) as client:
        page = client.audit.events(query, limit=limit, page_token=page_token)
    if json:
        print_json({"events": page.items, "next_page_token": page.next_page_token})
        return
    table = Table("seq")
    table.add_column("time (UTC)", no_wrap=True)
    table.add_column("actor", overflow="fold")
    table.add_column("action", no_wrap=True)
    for header in ("entity", "change"):
        table.add_column(header, overflow="fold")  # fold, never cut: ids must stay whole
    for event in page.items:
        when = event.occurred_at.strftime("%Y-%m-%d %H:%M:%S")
        row = (str(event.seq), when, event.actor, event.action, event.entity.uri, _change(event))
        table.add_row(*row)
    out = console()
    out.print(table)
    if page.next_page_token:
        out.print(f"More: noria audit --page-token {page.next_page_token}", markup=False)
