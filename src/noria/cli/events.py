"""``noria events raise|list``: named events that start event-triggered pipelines."""

from __future__ import annotations

import json as json_module
from typing import Annotated, Any

import typer

from noria.cli.context import open_client
from noria.cli.render import JsonFlag, console, print_json
from noria.cli.schedule_render import event_dict, print_events
from noria.errors import InvalidArgument

app = typer.Typer(
    help="Events: raise one to fire the event triggers of its name.", no_args_is_help=True
)


_EXAMPLE = """--payload '{"reason": "drift"}'"""


def _payload(text: str) -> dict[str, Any]:
    try:
        found = json_module.loads(text)
    except ValueError as exc:
        raise InvalidArgument(
            f"--payload is not JSON ({exc}): write an object, e.g. {_EXAMPLE}."
        ) from None
    if not isinstance(found, dict):
        raise InvalidArgument(
            f"--payload must be a JSON object, got {type(found).__name__}: e.g. {_EXAMPLE}."
        )
    return found


@app.command("raise")
def raise_event(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The event's name, e.g. retrain-credit.")],
    payload: Annotated[str, typer.Option(help="A JSON object for the triggered pipeline.")] = "{}",
    json: JsonFlag = False,
) -> None:
    """Raise an event; a running `noria scheduler` fires the event triggers of that name."""
    body = _payload(payload)
    with open_client(ctx) as client:
        event_id = client.triggers.raise_event(name, body)
    if json:
        print_json({"id": event_id, "name": name, "payload": body})
    else:
        console().print(f"Raised event {name} ({event_id}).", markup=False)


@app.command("list")
def list_events(
    ctx: typer.Context,
    name: Annotated[str | None, typer.Option(help="Only events of this name.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 20,
    json: JsonFlag = False,
) -> None:
    """Raised events, newest first, with the schedules that answered them."""
    with open_client(ctx) as client:
        events = client.triggers.events(name=name, limit=limit).items
    if json:
        print_json({"events": [event_dict(event) for event in events]})
    else:
        print_events(events)
