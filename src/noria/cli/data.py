"""``noria data ingest|list|show|schema|validate|profile|drift``."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from noria.cli.context import open_client
from noria.cli.data_render import anomaly_table, drift_table, profile_table
from noria.cli.render import JsonFlag, console, error_console, print_json
from noria.datasets import analysis
from noria.datasets.sources import SqlQuery
from noria.domain.datasets import DatasetVersion
from noria.errors import InvalidArgument

if TYPE_CHECKING:
    from noria.datasets.service import Progress as ProgressCallback

app = typer.Typer(
    help="Datasets: versioned snapshots, schemas, validation, profiles, drift.",
    no_args_is_help=True,
)

DataArg = Annotated[
    str, typer.Argument(help="A CSV/Parquet file or folder, or a dataset URI (datasets:/n/3).")
]
ReferenceOpt = Annotated[
    str, typer.Option("--reference", "-r", help="The reference dataset URI, e.g. datasets:/n/1.")
]


def _when(us: int) -> str:
    return datetime.fromtimestamp(us / 1_000_000, UTC).strftime("%Y-%m-%d %H:%M:%S")


def _version_dict(version: DatasetVersion, created: bool | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {
        "uri": version.uri,
        "name": version.name,
        "version": version.version,
        "digest": version.digest,
        "rows": version.row_count,
        "columns": [{"name": c.name, "type": c.type} for c in version.columns],
        "size_bytes": version.size_bytes,
        "source_type": version.source_type.value,
        "source": version.source,
        "created_by": version.created_by,
        "created_at": version.created_at,
        "run_id": version.run_id,
        "schema_revision": version.schema_revision,
        "description": version.description,
    }
    if created is not None:
        data["created"] = created
    return data


@contextlib.contextmanager
def _progress(enabled: bool) -> Iterator[ProgressCallback | None]:
    """A spinner on stderr with the stage and rows so far; off for --json."""
    if not enabled:
        yield None
        return
    columns = (SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn())
    with Progress(*columns, console=error_console(), transient=True) as bar:
        task = bar.add_task("starting", total=None)

        def report(stage: str, rows: int | None) -> None:
            shown = f"{stage}: {rows:,} rows" if rows is not None else stage
            bar.update(task, description=shown)

        yield report


@app.command("ingest")
def ingest(
    ctx: typer.Context,
    path: Annotated[
        Path | None, typer.Argument(help="A CSV or Parquet file, or a folder of Parquet files.")
    ] = None,
    name: Annotated[str, typer.Option("--name", "-n", help="The dataset name.")] = "",
    sql: Annotated[str | None, typer.Option(help="Ingest this SQL query's rows instead.")] = None,
    url: Annotated[
        str | None, typer.Option(help="The SQLAlchemy URL --sql runs on, e.g. sqlite:///x.db.")
    ] = None,
    description: Annotated[str, typer.Option(help="What this version holds.")] = "",
    json: JsonFlag = False,
) -> None:
    """Snapshot a file, folder or query as a new dataset version (same content: same version)."""
    if not name:
        raise InvalidArgument("Missing --name: name the dataset, e.g. --name credit.")
    source: Path | SqlQuery
    if sql is not None or url is not None:
        if sql is None or url is None or path is not None:
            raise InvalidArgument("A query needs both --sql and --url, and no PATH.")
        source = SqlQuery(url=url, query=sql)
    elif path is None:
        raise InvalidArgument("Missing PATH: give a CSV or Parquet file, or --sql with --url.")
    else:
        source = path
    with open_client(ctx) as client, _progress(not json) as progress:
        version, created = client.datasets.ingest(
            source, name=name, description=description, progress=progress
        )
    if json:
        print_json(
            {
                "uri": version.uri,
                "digest": version.digest,
                "rows": version.row_count,
                "columns": list(version.column_names),
                "created": created,
            }
        )
        return
    note = "" if created else " (unchanged: this content is already that version)"
    console().print(f"{version.uri}{note}", markup=False, highlight=False)


@app.command("list")
def list_datasets(
    ctx: typer.Context,
    name: Annotated[
        str | None, typer.Argument(help="A dataset name: list its versions instead.")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 100,
    json: JsonFlag = False,
) -> None:
    """List datasets, or one dataset's versions (newest first)."""
    with open_client(ctx) as client:
        if name is not None:
            versions = client.datasets.versions(name, limit=limit).items
        else:
            datasets = client.datasets.list_datasets(limit=limit).items
    if name is not None:
        if json:
            print_json({"versions": [_version_dict(v) for v in versions]})
            return
        table = Table("uri", "rows", "columns", "digest", "created (UTC)", "by")
        for v in versions:
            table.add_row(
                v.uri, f"{v.row_count:,}", str(len(v.columns)), v.digest[:12],
                _when(v.created_at), v.created_by,
            )  # fmt: skip
        console().print(table)
        return
    if json:
        print_json(
            {
                "datasets": [
                    {"name": d.name, "versions": d.version_count, "latest": d.latest_version}
                    for d in datasets
                ]
            }
        )
        return
    table = Table("name", "versions", "latest", "updated (UTC)")
    for d in datasets:
        latest = f"datasets:/{d.name}/{d.latest_version}" if d.latest_version else "-"
        table.add_row(d.name, str(d.version_count), latest, _when(d.updated_at))
    console().print(table)


@app.command("show")
def show(
    ctx: typer.Context,
    uri: Annotated[str, typer.Argument(help="datasets:/name/3, datasets:/name@latest or a name.")],
    json: JsonFlag = False,
) -> None:
    """A version's metadata and columns."""
    with open_client(ctx) as client:
        version = client.datasets.get(uri)
    if json:
        print_json(_version_dict(version))
        return
    out = console()
    out.print(f"{version.uri}  ({version.row_count:,} rows, {len(version.columns)} columns)")
    out.print(f"digest   {version.digest}", markup=False)
    out.print(f"source   {version.source} ({version.source_type.value})", markup=False)
    out.print(f"created  {_when(version.created_at)} UTC by {version.created_by}", markup=False)
    if version.run_id:
        out.print(f"run      runs:/{version.run_id}", markup=False)
    out.print(f"schema   revision {version.schema_revision}", markup=False)
    table = Table("column", "type")
    for column in version.columns:
        table.add_row(column.name, column.type)
    out.print(table)


@app.command("schema")
def schema(
    ctx: typer.Context,
    uri: Annotated[str, typer.Argument(help="The dataset version, e.g. datasets:/credit/2.")],
    out: Annotated[Path | None, typer.Option(help="Write the YAML to this file.")] = None,
    set_file: Annotated[
        Path | None,
        typer.Option("--set", help="Store this edited YAML as the version's next schema."),
    ] = None,
    note: Annotated[str, typer.Option(help="Why the schema changed (with --set).")] = "",
    history: Annotated[bool, typer.Option(help="List the schema's revisions.")] = False,
    json: JsonFlag = False,
) -> None:
    """Print a version's schema as YAML; --set stores an edited one as a new revision."""
    if set_file is not None:
        _set_schema(ctx, uri, _read_text(set_file), note, json)
    elif history:
        _schema_history(ctx, uri, json)
    else:
        with open_client(ctx) as client:
            text = client.datasets.schema_yaml(uri)
            as_json = client.datasets.schema(uri).model_dump(mode="json") if json else None
        if out is not None:
            out.write_text(text, encoding="utf-8")
            console().print(f"Wrote {out}.", markup=False)
        elif as_json is not None:
            print_json(as_json)
        else:
            typer.echo(text, nl=False)


def _set_schema(ctx: typer.Context, uri: str, text: str, note: str, json: bool) -> None:
    with open_client(ctx) as client:
        revision = client.datasets.set_schema(uri, text, note=note)
    if json:
        print_json({"revision": revision.revision, "digest": revision.digest})
    else:
        console().print(f"{uri}: schema revision {revision.revision} stored.", markup=False)


def _schema_history(ctx: typer.Context, uri: str, json: bool) -> None:
    with open_client(ctx) as client:
        revisions = client.datasets.schema_history(uri)
    if json:
        print_json({"revisions": [asdict(r) for r in revisions]})
        return
    table = Table("revision", "digest", "by", "when (UTC)", "note")
    for r in revisions:
        table.add_row(str(r.revision), r.digest[:12], r.created_by, _when(r.created_at), r.note)
    console().print(table)


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InvalidArgument(f"Cannot read {path}: {exc.strerror}.") from None


@app.command("validate")
def validate(
    ctx: typer.Context,
    data: DataArg,
    reference: Annotated[
        str | None,
        typer.Option("--reference", "-r", help="Validate against this version's schema."),
    ] = None,
    schema_file: Annotated[
        Path | None, typer.Option("--schema", help="…or against this schema YAML file.")
    ] = None,
    json: JsonFlag = False,
) -> None:
    """Check data against a schema; exit 1 when any anomaly is an error (for CI gates)."""
    if (reference is None) == (schema_file is None):
        raise InvalidArgument("Give exactly one of --reference URI or --schema FILE.")
    with open_client(ctx) as client:
        report = analysis.validate(client.datasets, data, reference or schema_file)
    if json:
        print_json(report.to_dict())
    else:
        anomaly_table(report)
    if not report.ok:
        raise typer.Exit(1)


@app.command("profile")
def profile(ctx: typer.Context, data: DataArg, json: JsonFlag = False) -> None:
    """Statistics per column (a version's stored profile, or a new one of a file)."""
    with open_client(ctx) as client, _progress(not json) as progress:
        if progress is not None:
            progress("profiling", None)
        result = analysis.profile_of(client.datasets, data)
    if json:
        print_json(result.model_dump(mode="json"))
        return
    profile_table(result)


@app.command("drift")
def drift(
    ctx: typer.Context,
    data: DataArg,
    reference: ReferenceOpt,
    html: Annotated[
        Path | None, typer.Option(help="Also write a self-contained HTML report.")
    ] = None,
    test: Annotated[
        list[str] | None,
        typer.Option(
            help="Per-column test, COLUMN=TEST (ks, wasserstein, psi, chi2, jensenshannon)."
        ),
    ] = None,
    share_threshold: Annotated[
        float, typer.Option(min=0.0, max=1.0, help="Drifted share of columns that flags the data.")
    ] = 0.5,
    fail_on_drift: Annotated[bool, typer.Option(help="Exit 1 when the data drifted.")] = False,
    json: JsonFlag = False,
) -> None:
    """Per-column drift tests of DATA against the reference version's stored profile."""
    tests = dict(_pair(item) for item in test or [])
    with open_client(ctx) as client, _progress(not json) as progress:
        if progress is not None:
            progress("testing drift", None)
        result = analysis.drift(
            client.datasets, data, reference, tests=tests or None, share_threshold=share_threshold
        )
    if html is not None:
        html.write_text(result.html(title=f"Drift of {data} against {reference}"), "utf-8")
    if json:
        print_json(result.report.to_dict())
    else:
        drift_table(result.report)
        if html is not None:
            console().print(f"Wrote {html}.", markup=False)
    if fail_on_drift and result.report.drifted:
        raise typer.Exit(1)


def _pair(item: str) -> tuple[str, str]:
    column, sep, test = item.partition("=")
    if not sep or not column or not test:
        raise InvalidArgument(f"Invalid --test {item!r}: use COLUMN=TEST, e.g. --test age=psi.")
    return column, test
