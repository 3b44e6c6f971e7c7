"""``noria models challenge`` and ``noria deploy check | advance | policy``: challengers and
their automatic promotion (see docs/promotion.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from noria.cli.context import open_client
from noria.cli.render import JsonFlag, console, print_json
from noria.domain.deployments import PromotionPolicy
from noria.promotion import Challenge, PromotionDecision, PromotionOutcome

NameArg = Annotated[str, typer.Argument(help="The deployment's name.")]


def challenge(
    ctx: typer.Context,
    uri: Annotated[str, typer.Argument(help="The candidate: models:/<name>/<version>.")],
    deployment: Annotated[str, typer.Option(help="The deployment whose primary it challenges.")],
    data: Annotated[
        str, typer.Option(help="Fresh labelled rows: datasets:/<name>/<version> or a file.")
    ],
    label: Annotated[str, typer.Option(help="The label column of --data.")],
    gate: Annotated[
        Path | None,
        typer.Option(help="A gate policy YAML file (default: not worse than the champion)."),
    ] = None,
    canary: Annotated[
        float | None,
        typer.Option(help="Route it as a canary with this percentage (default: a shadow)."),
    ] = None,
    json: JsonFlag = False,
) -> None:
    """Gate a candidate against the deployment's champion on fresh data; if it passes, make
    it @challenger and route a shadow (or a canary) to it."""
    mode, traffic = ("shadow", 10.0) if canary is None else ("canary", canary)
    with open_client(ctx) as client:
        done = client.promotions.challenge(
            uri,
            deployment=deployment,
            data=data,
            label=label,
            gate=gate,
            mode=mode,
            traffic=traffic,
        )
    if json:
        print_json(done.to_dict())
        return
    _print_challenge(done, uri)


def _print_challenge(done: Challenge, uri: str) -> None:
    out = console()
    out.print(done.verdict.summary(), markup=False)
    name = done.deployment.name
    if done.passed:
        how = "a shadow" if done.mode == "shadow" else f"a {_traffic(done)} % canary"
        out.print(
            f"{uri} is @challenger of {done.model} against version {done.champion_version}, "
            f"routed as {how} of {name}. Judge it with `noria deploy check {name}`.",
            markup=False,
        )
    else:
        out.print(
            f"{uri} failed its gate against version {done.champion_version}: no alias set, "
            f"{name} unchanged.",
            markup=False,
        )


def _traffic(done: Challenge) -> str:
    for route in done.deployment.canaries:
        if route.alias == "challenger":
            return f"{route.percent:g}"
    return "?"


def check(ctx: typer.Context, name: NameArg, json: JsonFlag = False) -> None:
    """What the promotion policy says about the challenger now; changes nothing."""
    with open_client(ctx) as client:
        decision = client.promotions.evaluate(name)
    if json:
        print_json(decision.to_dict())
        return
    _print_decision(decision)


def advance(ctx: typer.Context, name: NameArg, json: JsonFlag = False) -> None:
    """Apply the promotion policy: promote, reject, or hold the challenger."""
    with open_client(ctx) as client:
        outcome = client.promotions.advance(name)
    if json:
        print_json(outcome.to_dict())
        return
    if outcome.decision is not None:
        _print_decision(outcome.decision)
    console().print(_done(outcome), markup=False)


def policy(
    ctx: typer.Context,
    name: NameArg,
    min_requests: Annotated[
        int | None, typer.Option(help="Rows the challenger must answer first (200).")
    ] = None,
    max_disagreement: Annotated[
        float | None,
        typer.Option(help="Most share of different answers vs the primary (0.2); -1: no rule."),
    ] = None,
    metric: Annotated[
        str | None, typer.Option(help="A metric compared on labelled rows, e.g. roc_auc.")
    ] = None,
    min_delta: Annotated[
        float | None, typer.Option(help="Challenger minus primary must reach this (0).")
    ] = None,
    min_labels: Annotated[
        int | None, typer.Option(help="Labelled rows before the metric decides (50).")
    ] = None,
    manual: Annotated[
        bool | None,
        typer.Option(
            "--manual/--auto", help="Hold a passing challenger for a human, or promote it."
        ),
    ] = None,
    clear: Annotated[bool, typer.Option("--clear", help="Remove the policy.")] = False,
    json: JsonFlag = False,
) -> None:
    """Show or set the deployment's promotion policy (options not given keep their value)."""
    given: dict[str, Any] = {
        "min_requests": min_requests,
        "metric": metric,
        "min_performance_delta": min_delta,
        "min_labels": min_labels,
    }
    changes = {key: value for key, value in given.items() if value is not None}
    if max_disagreement is not None:
        changes["max_disagreement"] = None if max_disagreement < 0 else max_disagreement
    if manual is not None:
        changes["auto_promote"] = not manual
    with open_client(ctx) as client:
        current = client.deployments.get(name)
        if clear or changes:
            start = {} if clear or current.promotion is None else current.promotion.to_dict()
            chosen = None if clear else PromotionPolicy.from_dict(start | changes)
            current = client.deployments.set_promotion_policy(name, chosen)
    shown = None if current.promotion is None else current.promotion.to_dict()
    if json:
        print_json({"deployment": name, "promotion": shown})
        return
    if shown is None:
        console().print(f"{name} has no promotion policy: challengers are promoted by hand.")
        return
    console().print(f"{name} promotion policy:", markup=False)
    for key, value in shown.items():
        console().print(f"  {key}: {value}", markup=False)


def _print_decision(decision: PromotionDecision) -> None:
    out = console()
    who = ""
    if decision.challenger_version is not None:
        who = (
            f" (challenger {decision.model} v{decision.challenger_version} vs "
            f"v{decision.champion_version})"
        )
    out.print(f"{decision.deployment}: {decision.verdict}{who}", markup=False)
    for reason in decision.reasons:
        out.print(f"  - {reason}", markup=False)


def _done(outcome: PromotionOutcome) -> str:
    return {
        "promoted": "Promoted: @champion now serves the challenger's version.",
        "rejected": "Rejected: the challenger's route and alias were removed.",
        "held": "Held: nothing changed; see the reasons above.",
    }.get(outcome.action, "Nothing changed.")
