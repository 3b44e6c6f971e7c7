"""``noria deploy …``: deployments, their canary and shadow traffic, promotion and rollback."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from noria.cli.context import open_client
from noria.cli.deploy_render import (
    deployment_dict,
    print_comparison,
    print_deployments,
    print_routes,
)
from noria.cli.promotion import advance, check, policy
from noria.cli.render import JsonFlag, console, print_json
from noria.domain.deployments import Deployment, DeploymentStatus
from noria.errors import InvalidArgument

if TYPE_CHECKING:
    import pyarrow as pa

    from noria.client import Client

app = typer.Typer(
    help="Deployments: which model versions serve, canary and shadow traffic, promotion.",
    no_args_is_help=True,
)

NameArg = Annotated[str, typer.Argument(help="The deployment's name.")]


def _percent(text: str, flag: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise InvalidArgument(
            f"{flag} {text!r}: the percentage is not a number; write e.g. "
            f"{flag} models:/credit@challenger=10."
        ) from None


def _canary_options(values: list[str], flag: str = "--canary") -> dict[str, float]:
    """``URI=PERCENT`` options as a mapping."""
    shares: dict[str, float] = {}
    for value in values:
        uri, sep, percent = value.rpartition("=")
        if not sep or not uri:
            raise InvalidArgument(
                f"{flag} {value!r}: write MODEL_URI=PERCENT, e.g. models:/credit@challenger=10."
            )
        shares[uri] = _percent(percent, flag)
    return shares


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InvalidArgument(f"Cannot read {path}: {exc.strerror}.") from None


@app.command("create")
def create(
    ctx: typer.Context,
    name: Annotated[str | None, typer.Argument(help="The deployment's name.")] = None,
    model: Annotated[
        str | None, typer.Option(help="The primary: models:/<name>@<alias> or /<version>.")
    ] = None,
    canary: Annotated[
        list[str] | None, typer.Option(help="MODEL_URI=PERCENT, a canary (repeat for more).")
    ] = None,
    shadow: Annotated[
        list[str] | None, typer.Option(help="A shadow MODEL_URI (repeat for more).")
    ] = None,
    sticky_key: Annotated[
        str | None, typer.Option(help="A request field or header: same caller, same model.")
    ] = None,
    description: Annotated[str, typer.Option(help="What the deployment serves.")] = "",
    file: Annotated[
        Path | None, typer.Option("--file", "-f", help="A deployment YAML instead of options.")
    ] = None,
    json: JsonFlag = False,
) -> None:
    """Create a deployment from options (NAME --model …) or from --file deployment.yaml."""
    with open_client(ctx) as client:
        if file is not None:
            if name or model or canary or shadow or sticky_key or description:
                raise InvalidArgument("Give either --file or NAME with --model …, not both.")
            created = client.deployments.create_from_yaml(_read(file), source=str(file))
        else:
            if name is None or model is None:
                raise InvalidArgument(
                    "Give NAME and --model models:/<name>@<alias>, or --file deployment.yaml."
                )
            created = client.deployments.create(
                name,
                model=model,
                canaries=_canary_options(canary or []),
                shadows=shadow or [],
                sticky_key=sticky_key,
                description=description,
            )
        served = client.deployments.resolve(created)
    if json:
        print_json(deployment_dict(created, served))
        return
    console().print(f"Created deployment {created.name!r}.", markup=False)
    print_routes(created, served)


@app.command("list")
def list_deployments(
    ctx: typer.Context,
    model: Annotated[str | None, typer.Option(help="Only those serving this model.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 100,
    json: JsonFlag = False,
) -> None:
    """Deployments by name, with their routes."""
    with open_client(ctx) as client:
        found = client.deployments.list_deployments(model=model, limit=limit).items
    if json:
        print_json({"deployments": [deployment_dict(d, {}) for d in found]})
        return
    print_deployments(found)


@app.command("show")
def show(
    ctx: typer.Context,
    name: NameArg,
    predictions: Annotated[
        Path | None,
        typer.Option(help="Compare from this Parquet file instead of the prediction log."),
    ] = None,
    hours: Annotated[
        float, typer.Option(min=0.01, help="How far back to read the prediction log.")
    ] = 24.0,
    json: JsonFlag = False,
) -> None:
    """A deployment's routes, the versions they serve, and live-vs-shadow agreement."""
    from noria.deployments import compare_predictions

    with open_client(ctx) as client:
        deployment = client.deployments.get(name)
        served = client.deployments.resolve(deployment)
        table = _predictions(client, deployment, predictions, hours)
        roles = {
            (route.model_name, version): route.role
            for route in deployment.routes
            if (version := served[route.model_uri]) is not None
        }
        comparison = compare_predictions(table, roles=roles)
    if json:
        print_json({**deployment_dict(deployment, served), "comparison": asdict(comparison)})
        return
    out = console()
    out.print(
        f"{deployment.name}  ({deployment.status.value})  {deployment.description}", markup=False
    )
    if deployment.sticky_key:
        out.print(f"sticky by {deployment.sticky_key}", markup=False)
    print_routes(deployment, served)
    print_comparison(comparison, "the given file" if predictions else f"the last {hours:g} h")


def _predictions(
    client: Client, deployment: Deployment, path: Path | None, hours: float
) -> pa.Table:
    """This deployment's logged rows: from ``path``, or the log of each model it serves."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if path is not None:
        import pyarrow.parquet as pq

        try:
            table = pq.read_table(path)
        except (OSError, pa.ArrowInvalid) as exc:
            raise InvalidArgument(f"Cannot read predictions from {path}: {exc}") from None
    else:
        from noria.predictions.log import read_predictions

        start = datetime.now(UTC) - timedelta(hours=hours)
        models = sorted({route.model_name for route in deployment.routes})
        tables = [read_predictions(client, model=model, start=start) for model in models]
        table = pa.concat_tables(tables, promote_options="permissive")
    if "deployment" in table.column_names and table.num_rows:
        table = table.filter(pc.equal(table["deployment"], deployment.name))
    return table


@app.command("traffic")
def traffic(
    ctx: typer.Context,
    name: NameArg,
    canary: Annotated[
        list[str],
        typer.Option(help="PERCENT for the one canary, or MODEL_URI=PERCENT; 0 removes it."),
    ],
    json: JsonFlag = False,
) -> None:
    """Change canary percentages; the primary gets the rest."""
    with open_client(ctx) as client:
        current = client.deployments.get(name)
        if len(canary) == 1 and "=" not in canary[0]:
            if len(current.canaries) != 1:
                raise InvalidArgument(
                    f"Deployment {name!r} has {len(current.canaries)} canaries: name the one "
                    "to change, e.g. --canary models:/credit@challenger=20."
                )
            shares = {current.canaries[0].model_uri: _percent(canary[0], "--canary")}
        else:
            shares = _canary_options(canary)
        updated = client.deployments.set_traffic(name, shares)
        served = client.deployments.resolve(updated)
    if json:
        print_json(deployment_dict(updated, served))
        return
    print_routes(updated, served)


@app.command("promote")
def promote(
    ctx: typer.Context,
    name: NameArg,
    route: Annotated[
        str | None, typer.Option(help="The canary or shadow MODEL_URI (when it has several).")
    ] = None,
    json: JsonFlag = False,
) -> None:
    """Make a canary or shadow the primary (moves the primary's alias, under its policy)."""
    with open_client(ctx) as client:
        done = client.deployments.promote(name, route)
    if json:
        print_json(
            {
                "deployment": done.deployment.name,
                "promoted": done.promoted.model_uri,
                "version": done.version.version,
                "previous_version": done.previous_version,
                "moved_alias": done.moved_alias,
            }
        )
        return
    primary = done.deployment.primary.model_uri
    was = f" (was version {done.previous_version})" if done.previous_version else ""
    console().print(
        f"{name}: {primary} now serves version {done.version.version}{was}; "
        f"{done.promoted.model_uri} was promoted and its route removed.",
        markup=False,
    )


@app.command("rollback")
def rollback(ctx: typer.Context, name: NameArg, json: JsonFlag = False) -> None:
    """Move the primary's alias back to the version it held before its last move."""
    with open_client(ctx) as client:
        done = client.deployments.rollback(name)
    if json:
        print_json(
            {
                "deployment": name,
                "model": done.model,
                "alias": done.alias,
                "from_version": done.from_version,
                "to_version": done.to_version,
            }
        )
        return
    console().print(
        f"{name}: models:/{done.model}@{done.alias} moved back to version {done.to_version} "
        f"(was {done.from_version}).",
        markup=False,
    )


def _set_status(ctx: typer.Context, name: str, status: DeploymentStatus, json: bool) -> None:
    with open_client(ctx) as client:
        updated = client.deployments.set_status(name, status)
    if json:
        print_json({"deployment": updated.name, "status": updated.status.value})
        return
    console().print(f"{name}: {updated.status.value}.", markup=False)


@app.command("pause")
def pause(ctx: typer.Context, name: NameArg, json: JsonFlag = False) -> None:
    """Keep the deployment but stop serving it (the model server answers 503)."""
    _set_status(ctx, name, DeploymentStatus.PAUSED, json)


@app.command("resume")
def resume(ctx: typer.Context, name: NameArg, json: JsonFlag = False) -> None:
    """Serve a paused deployment again."""
    _set_status(ctx, name, DeploymentStatus.ACTIVE, json)


@app.command("delete")
def delete(ctx: typer.Context, name: NameArg, json: JsonFlag = False) -> None:
    """Delete the deployment record (the model versions stay in the registry)."""
    with open_client(ctx) as client:
        deleted = client.deployments.delete(name)
    if json:
        print_json({"deleted": deleted.name})
        return
    console().print(f"Deleted deployment {deleted.name!r}.", markup=False)


# Challengers and automatic promotion (noria/cli/promotion.py).
app.command("check")(check)
app.command("advance")(advance)
app.command("policy")(policy)
