"""``noria predict MODEL --input PATH --output PATH``: batch scoring of Parquet/CSV files."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from noria.cli.context import open_client
from noria.cli.render import JsonFlag, console, error_console, print_json
from noria.errors import InvalidArgument
from noria.serving.batch import (
    DEFAULT_BATCH_ROWS,
    EXECUTORS,
    BatchPlan,
    BatchScore,
    FileScore,
    OnFile,
    OnRows,
    ScoringOptions,
    is_model_uri,
    model_folder,
    run_batch,
)


@contextlib.contextmanager
def _progress(plan: BatchPlan, enabled: bool) -> Iterator[tuple[OnRows | None, OnFile | None]]:
    """A bar of rows scored (a spinner when CSV sizes are unknown) and files done, on stderr."""
    if not enabled:
        yield None, None
        return
    columns = (
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("rows"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    files = len(plan.tasks)
    with Progress(*columns, console=error_console(), transient=True) as bar:
        rows_task = bar.add_task("loading the model", total=plan.total_rows)
        done = 0

        def on_rows(rows: int) -> None:
            if done == 0:
                bar.update(rows_task, description=f"scoring 0/{files} files")
            bar.advance(rows_task, rows)

        def on_file(result: FileScore) -> None:
            nonlocal done
            done += 1
            bar.update(rows_task, description=f"scoring {done}/{files} files")

        yield on_rows, on_file


def _summary(score: BatchScore, output: Path) -> str:
    rate = score.rows / score.seconds if score.seconds > 0 else 0.0
    files = len(score.files)
    return (
        f"Scored {score.rows:,} rows from {files} file{'s' if files != 1 else ''} in "
        f"{score.seconds:.1f} s ({rate:,.0f} rows/s) → {output}"
    )


def predict(
    ctx: typer.Context,
    model: Annotated[
        str,
        typer.Argument(help="models:/name@alias, models:/name/3, runs:/<id>/model or a folder."),
    ],
    input: Annotated[
        Path, typer.Option("--input", "-i", help="A Parquet or CSV file, or a folder of them.")
    ],
    output: Annotated[
        Path,
        typer.Option(
            "--output", "-o", help="The output Parquet file (a folder when --input is one)."
        ),
    ],
    batch_rows: Annotated[
        int, typer.Option(min=1, help="Rows per predict call (bounds memory).")
    ] = DEFAULT_BATCH_ROWS,
    executor: Annotated[
        str, typer.Option(help="local (this process) or ray (one Ray task per input file).")
    ] = "local",
    proba: Annotated[
        bool, typer.Option("--proba", help="Add class probabilities as a 'proba' column.")
    ] = False,
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="Replace outputs that already exist.")
    ] = False,
    json: JsonFlag = False,
) -> None:
    """Score files with a model, a chunk at a time; one output Parquet file per input file."""
    if executor not in EXECUTORS:
        raise InvalidArgument(f"Unknown --executor {executor!r}: use 'local' or 'ray'.")
    options = ScoringOptions(batch_rows=batch_rows, proba=proba)
    plan = BatchPlan.of(input, output, overwrite=overwrite)
    if is_model_uri(model):
        with open_client(ctx) as client:
            directory = model_folder(model, client=client)
    else:
        directory = model_folder(model)  # a local folder: no store needed
    with _progress(plan, not json) as (on_rows, on_file):
        score = run_batch(
            directory,
            plan,
            options,
            executor="ray" if executor == "ray" else "local",
            on_rows=on_rows,
            on_file=on_file,
        )
    if json:
        print_json(
            {
                "rows": score.rows,
                "seconds": round(score.seconds, 3),
                "files": [
                    {"input": str(f.input), "output": str(f.output), "rows": f.rows,
                     "chunks": f.chunks}
                    for f in score.files
                ],
            }
        )  # fmt: skip
        return
    console().print(_summary(score, output), markup=False, highlight=False)
