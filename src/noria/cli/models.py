"""``noria models …``: registry, evaluation and packaging commands."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from noria.cli.context import open_client
from noria.cli.models_package import package
from noria.cli.promotion import challenge
from noria.cli.render import JsonFlag, console, print_json
from noria.domain.registry import ApprovalPolicy, ModelVersion, RegisteredModel
from noria.domain.uris import ModelVersionUri, RegisteredModelUri, parse_uri
from noria.errors import InvalidArgument

app = typer.Typer(help="The model registry: versions, aliases, approvals.", no_args_is_help=True)

app.command("package")(package)
app.command("challenge")(challenge)

UriArg = Annotated[str, typer.Argument(help="models:/<name>/<version> or models:/<name>@<alias>.")]


def _when(ms: int | None) -> str:
    if ms is None:
        return "-"
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S")


def _version_dict(version: ModelVersion) -> dict[str, Any]:
    data = asdict(version)
    data["uri"] = version.uri
    data["status"] = version.status.value
    return data


def _model_dict(model: RegisteredModel) -> dict[str, Any]:
    return asdict(model)


@app.command("list")
def list_models(
    ctx: typer.Context,
    name_like: Annotated[str | None, typer.Option(help="SQL LIKE pattern, e.g. 'credit%'.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 100,
    json: JsonFlag = False,
) -> None:
    """Registered models by name, with their latest version and aliases."""
    with open_client(ctx) as client:
        models = client.registry.search_models(name_like=name_like, limit=limit).items
    if json:
        print_json({"models": [_model_dict(m) for m in models]})
        return
    table = Table("name", "latest", "aliases", "updated (UTC)")
    for m in models:
        aliases = ", ".join(f"@{a}→{v}" for a, v in m.aliases.items()) or "-"
        table.add_row(m.name, str(m.latest_version or "-"), aliases, _when(m.updated_at))
    console().print(table)


@app.command("show")
def show(
    ctx: typer.Context,
    target: Annotated[str, typer.Argument(help="A model name, or a version URI.")],
    json: JsonFlag = False,
) -> None:
    """A model and its versions, or one version in full."""
    with open_client(ctx) as client:
        if target.startswith("models:/") and not isinstance(parse_uri(target), RegisteredModelUri):
            version = client.registry.resolve(target)
            model = None
        else:
            name = target.removeprefix("models:/")
            model = client.registry.get_model(name)
            versions = client.registry.search_versions(name=name).items
    if model is None:
        _show_version(version, json)
        return
    if json:
        print_json({**_model_dict(model), "versions": [_version_dict(v) for v in versions]})
        return
    out = console()
    out.print(f"{model.name}  {model.description}", markup=False)
    if model.policy.enabled:
        out.print(f"policy   protected: {', '.join(model.policy.protected_aliases)}", markup=False)
    table = Table("version", "aliases", "run", "gate", "approved by", "created (UTC)", "by")
    for v in versions:
        gate = "-" if v.gate is None else ("pass" if v.gate.passed else "fail")
        table.add_row(
            str(v.version), ", ".join(v.aliases) or "-", v.run_id or "-", gate,
            v.approved_by or "-", _when(v.created_at), v.created_by,
        )  # fmt: skip
    out.print(table)


def _show_version(version: ModelVersion, json: bool) -> None:
    if json:
        print_json(_version_dict(version))
        return
    out = console()
    out.print(f"{version.uri}  ({version.status.value})", markup=False)
    for label, value in (
        ("source", version.source),
        ("run", version.run_id or "-"),
        ("digest", version.digest or "-"),
        ("aliases", ", ".join(version.aliases) or "-"),
        ("created", f"{_when(version.created_at)} UTC by {version.created_by}"),
        ("gate", "-" if version.gate is None else ("passed" if version.gate.passed else "failed")),
        ("approved", f"{version.approved_by} at {_when(version.approved_at)}"
         if version.approved_by else "-"),
    ):  # fmt: skip
        out.print(f"{label:<9}{value}", markup=False)
    for key, metric in sorted(version.metrics.items()):
        out.print(f"  {key} = {metric:.6g}", markup=False)


@app.command("register")
def register(
    ctx: typer.Context,
    source: Annotated[str, typer.Argument(help="The logged model, e.g. runs:/<run-id>/model.")],
    name: Annotated[str, typer.Argument(help="The registered model's name.")],
    description: Annotated[str, typer.Option(help="What this version is.")] = "",
    json: JsonFlag = False,
) -> None:
    """Register a run's model as the next version of NAME (created on first use)."""
    with open_client(ctx) as client:
        version = client.registry.register(source, name, description=description)
    if json:
        print_json(_version_dict(version))
        return
    console().print(f"Registered {version.uri} from {source}.", markup=False)


def _version_uri(uri: str) -> ModelVersionUri:
    parsed = parse_uri(uri)
    if not isinstance(parsed, ModelVersionUri):
        raise InvalidArgument(f"{uri!r} is not a version URI: use models:/<name>/<version>.")
    return parsed


@app.command("alias")
def alias(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The registered model.")],
    alias_name: Annotated[str, typer.Argument(metavar="ALIAS", help="e.g. champion.")],
    version: Annotated[int | None, typer.Argument(help="The version to point at.")] = None,
    delete: Annotated[bool, typer.Option("--delete", help="Remove the alias.")] = False,
    json: JsonFlag = False,
) -> None:
    """Point ALIAS at VERSION (moves it if set), or --delete it."""
    if (version is None) != delete:
        raise InvalidArgument("Give a VERSION to set the alias, or --delete to remove it.")
    with open_client(ctx) as client:
        if delete:
            previous: int | None = client.registry.delete_alias(name, alias_name)
            now = None
        else:
            assert version is not None
            previous = client.registry.set_alias(name, alias_name, version)
            now = version
    if json:
        print_json({"model": name, "alias": alias_name, "version": now, "previous": previous})
        return
    was = f" (was {previous})" if previous is not None else ""
    shown = f"version {now}" if now is not None else "nothing (deleted)"
    console().print(f"models:/{name}@{alias_name} → {shown}{was}.", markup=False)


@app.command("approve")
def approve(ctx: typer.Context, uri: UriArg, json: JsonFlag = False) -> None:
    """Approve a version (you must not be its author)."""
    parsed = _version_uri(uri)
    with open_client(ctx) as client:
        version = client.registry.approve(parsed.name, parsed.version)
    if json:
        print_json(_version_dict(version))
        return
    console().print(f"Approved {version.uri} as {version.approved_by}.", markup=False)


@app.command("policy")
def policy(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The registered model.")],
    protect: Annotated[
        list[str] | None, typer.Option(help="An alias the policy guards (repeat for more).")
    ] = None,
    require_gate: Annotated[
        bool, typer.Option(help="Protected aliases need a passed gate.")
    ] = True,
    require_approval: Annotated[bool, typer.Option(help="…and a second person's approval.")] = True,
    json: JsonFlag = False,
) -> None:
    """Set the model's approval policy (no --protect: no policy)."""
    rules = ApprovalPolicy(tuple(protect or ()), require_gate, require_approval)
    with open_client(ctx) as client:
        model = client.registry.set_policy(name, rules)
    if json:
        print_json(asdict(model.policy))
        return
    guarded = ", ".join(model.policy.protected_aliases) or "none"
    console().print(f"{name}: protected aliases {guarded}.", markup=False)


@app.command("history")
def history(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The registered model.")],
    alias_name: Annotated[
        str | None, typer.Option("--alias", help="With --at: which version this alias named.")
    ] = None,
    at: Annotated[
        datetime | None, typer.Option(help="A moment (ISO 8601, UTC when no zone), with --alias.")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 100,
    json: JsonFlag = False,
) -> None:
    """Every change to the model and its versions, newest first; or --alias A --at T."""
    if (alias_name is None) != (at is None):
        raise InvalidArgument(
            "Use --alias and --at together, e.g. --alias champion --at 2026-05-01."
        )
    with open_client(ctx) as client:
        if alias_name is not None and at is not None:
            moment = at if at.tzinfo else at.replace(tzinfo=UTC)
            version = client.registry.alias_at(name, alias_name, moment)
            events = []
        else:
            events = client.registry.history(name, limit=limit)
    if alias_name is not None and at is not None:
        if json:
            print_json({"model": name, "alias": alias_name, "at": moment, "version": version})
        else:
            shown = f"version {version}" if version is not None else "not set"
            console().print(
                f"models:/{name}@{alias_name} at {moment:%Y-%m-%d %H:%M:%S %Z}: {shown}."
            )
        return
    if json:
        print_json({"events": [asdict(e) for e in events]})
        return
    table = Table("when (UTC)", "who", "what", "entity", "before", "after")
    for e in events:
        table.add_row(
            e.occurred_at.strftime("%Y-%m-%d %H:%M:%S"), e.actor, e.action, e.entity.uri,
            _short(e.before), _short(e.after),
        )  # fmt: skip
    console().print(table)


def _short(value: dict[str, Any] | None) -> str:
    if not value:
        return "-"
    return ", ".join(f"{k}={v}" for k, v in value.items())


@app.command("lineage")
def lineage(
    ctx: typer.Context,
    uri: UriArg,
    depth: Annotated[int, typer.Option(min=1, max=100)] = 5,
    json: JsonFlag = False,
) -> None:
    """Where a version came from: run, datasets, code; and what came from it."""
    with open_client(ctx) as client:
        version = client.registry.resolve(uri)
        up = client.lineage.upstream(version.entity(), depth=depth).steps
        down = client.lineage.downstream(version.entity(), depth=depth).steps
    rows = [("upstream", s) for s in up] + [("downstream", s) for s in down]
    if json:
        print_json(
            {
                "version": version.uri,
                "upstream": [_edge(s.edge) for s in up],
                "downstream": [_edge(s.edge) for s in down],
            }
        )
        return
    table = Table("direction", "from", "relation", "to", "depth")
    for direction, step in rows:
        edge = step.edge
        table.add_row(direction, edge.upstream.uri, edge.relation.value, edge.downstream.uri,
                      str(step.depth))  # fmt: skip
    console().print(f"{version.uri}", markup=False)
    console().print(table)


def _edge(edge: Any) -> dict[str, str]:
    return {
        "upstream": edge.upstream.uri,
        "relation": edge.relation.value,
        "downstream": edge.downstream.uri,
    }


@app.command("delete")
def delete(
    ctx: typer.Context,
    target: Annotated[str, typer.Argument(help="models:/<name>/<version>, or a model name.")],
    force: Annotated[bool, typer.Option(help="Also delete the aliases that use it.")] = False,
    json: JsonFlag = False,
) -> None:
    """Delete a version (or a whole model); in-use ones need --force."""
    with open_client(ctx) as client:
        if target.startswith("models:/") and "/" in target.removeprefix("models:/"):
            parsed = _version_uri(target)
            deleted: Any = client.registry.delete_version(parsed.name, parsed.version, force=force)
            label = deleted.uri
        else:
            deleted = client.registry.delete_model(target.removeprefix("models:/"), force=force)
            label = f"model {deleted.name!r}"
    if json:
        print_json({"deleted": label})
        return
    console().print(f"Deleted {label}.", markup=False)


@app.command("evaluate")
def evaluate(
    ctx: typer.Context,
    uri: Annotated[str, typer.Argument(help="models:/<name>/<version>, @<alias>, or runs:/….")],
    data: Annotated[str, typer.Option(help="Labelled data: a CSV/Parquet file or a dataset URI.")],
    label: Annotated[str, typer.Option(help="The label column.")],
    gate: Annotated[
        Path | None, typer.Option(help="A gate policy YAML: exit 1 when the gate fails.")
    ] = None,
    slice_by: Annotated[
        list[str] | None, typer.Option("--slice", help="Metrics per value of this column.")
    ] = None,
    explain: Annotated[
        bool, typer.Option(help="Feature importance (permutation; SHAP when installed).")
    ] = True,
    json: JsonFlag = False,
) -> None:
    """Evaluate a model on labelled data; with --gate, compare with the champion too."""
    from noria.fluent_evaluation import evaluate as run_evaluation
    from noria.fluent_evaluation import evaluate_with_gate

    slices = tuple(slice_by or ())
    with open_client(ctx) as client:
        if gate is None:
            result = run_evaluation(
                uri, data, label=label, slices=slices, explain=explain, client=client
            )
            verdict = None
        else:
            policy = _read(gate)
            outcome = evaluate_with_gate(
                uri, data, label=label, gate=policy, slices=slices, explain=explain, client=client
            )
            result, verdict = outcome.candidate, outcome.verdict
    if json:
        body: dict[str, Any] = {"evaluation": result.to_dict(plots=False)}
        if verdict is not None:
            body["gate"] = verdict.to_dict()
        print_json(body)
    else:
        out = console()
        for key, value in sorted(result.metrics.items()):
            out.print(f"{key:<20}{value:.6g}", markup=False)
        if verdict is not None:
            out.print(verdict.summary(), markup=False)
    if verdict is not None and not verdict.passed:
        raise typer.Exit(1)


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InvalidArgument(f"Cannot read {path}: {exc.strerror}.") from None
