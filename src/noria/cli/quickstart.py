"""``noria quickstart``: the whole lifecycle on a generated credit-risk scenario, narrated."""

from __future__ import annotations

import logging
from typing import Annotated

import typer

from noria.cli.context import open_client
from noria.cli.render import JsonFlag, error_console, print_json


def quickstart(
    ctx: typer.Context,
    fast: Annotated[
        bool,
        typer.Option("--fast", help="Less data, fewer trials, no package verification (~1 min)."),
    ] = False,
    seed: Annotated[int, typer.Option(min=0, help="Seed of the generated customers.")] = 7,
    drift: Annotated[
        float,
        typer.Option(min=0.0, max=1.0, help="How far the population drifts: 0 (not) to 1."),
    ] = 0.8,
    port: Annotated[
        int | None,
        typer.Option(min=1, max=65535, help="Port of the background model server (default: free)."),
    ] = None,
    json: JsonFlag = False,
) -> None:
    """Run the lifecycle once: data → tuned training → gate → champion → package → serve →
    traffic and labels → drift → monitor alert → retraining → challenger → promotion.

    Everything stays in the home (./.noria by default) to explore with `noria …` afterwards.
    Run again in the same home, it registers new versions and replays the loop; a home where
    a user's own object has one of its names is refused.
    """
    from noria.quickstart.narration import Narrator
    from noria.quickstart.options import QuickstartOptions
    from noria.quickstart.run import run_quickstart
    from noria.quickstart.summary import summary_lines

    options = QuickstartOptions(fast=fast, seed=seed, drift=drift, port=port)
    say = Narrator(quiet=json)
    # Alert rules with the `log` action warn on this logger; the narration already says it.
    logging.getLogger("noria.monitoring").addHandler(logging.NullHandler())
    with open_client(ctx) as client:
        try:
            facts = run_quickstart(client, options, say)
        except KeyboardInterrupt:
            # The model server and the verification were stopped on the way out.
            home = client.settings.home.expanduser().absolute()
            error_console().print(
                f"Interrupted; the background processes were stopped, and what was made so "
                f"far stays in {home}.",
                markup=False,
            )
            raise typer.Exit(130) from None
    if json:
        print_json(facts.to_dict())
        return
    say.print()
    for line in summary_lines(facts):
        say.print(line)
