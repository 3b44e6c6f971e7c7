"""``noria models package URI --out DIR [--verify]``: a container build context for a model."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from noria.cli.context import open_client
from noria.cli.render import JsonFlag, console, error_console, print_json

if TYPE_CHECKING:
    from noria.packaging.build import PackageInfo
    from noria.packaging.steps import StepTiming
    from noria.packaging.verify import VerifyResult


def package(
    ctx: typer.Context,
    uri: Annotated[
        str,
        typer.Argument(
            help="runs:/<run-id>/<path>, models:/<name>/<version> or models:/<name>@<alias>."
        ),
    ],
    out: Annotated[
        Path,
        typer.Option(
            help="Folder to write the build context to: new, empty, or a previous package."
        ),
    ],
    verify: Annotated[
        bool,
        typer.Option(
            "--verify", help="Install the package in a fresh virtualenv and check its predictions."
        ),
    ] = False,
    noria_wheel: Annotated[
        Path | None,
        typer.Option(
            help="The Noria wheel to ship, when Noria is not installed from a source tree."
        ),
    ] = None,
    json: JsonFlag = False,
) -> None:
    """Write a Dockerfile, requirements.lock, a Noria wheel, the model and a README to OUT."""
    # Imported here: `noria --help` must not pay for the packaging modules.
    from noria.fluent_models import model_directory
    from noria.packaging.build import build_package
    from noria.packaging.verify import verify_package

    with open_client(ctx) as client:
        model_dir = model_directory(uri, client=client)
    info = build_package(model_dir, out, model_uri=uri, noria_wheel=noria_wheel)
    if not json:
        _print_package(info)
    result = verify_package(out) if verify else None
    if json:
        print_json({"package": info, "verify": result})
    elif result is not None:
        _print_verify(result)
    if result is not None and not result.ok:
        error_console().print(f"Error: verify failed: {result.problem}", markup=False)
        raise typer.Exit(code=1)


def _print_package(info: PackageInfo) -> None:
    out = console()
    again = " (replacing the previous package)" if info.replaced_previous else ""
    out.print(f"Packaged {info.model_uri} ({info.flavor}) into {info.out}{again}", markup=False)
    out.print(
        f"  base image  {info.base_image} (the model was saved with Python {info.python_version})",
        markup=False,
    )
    out.print(f"  noria       {info.noria_version} ({info.noria_wheel.name})", markup=False)
    out.print(
        f"  lock        {len(info.requirements)} exact pins in requirements.lock", markup=False
    )
    for note in info.notes:
        out.print(f"  note: {note}", markup=False)
    _print_steps(info.steps)
    out.print(f"Build it with: docker build -t <name> {info.out}", markup=False)


def _print_verify(result: VerifyResult) -> None:
    out = console()
    out.print(
        f"Verify in a fresh virtual environment (comparison: {result.comparison}):", markup=False
    )
    _print_steps(result.steps)
    for warning in result.warnings:
        out.print(f"  warning: {warning}", markup=False)
    if result.ok:
        out.print("Verified: the fresh environment predicts as this process does.", markup=False)


def _print_steps(steps: tuple[StepTiming, ...]) -> None:
    width = max((len(step.name) for step in steps), default=0)
    for step in steps:
        state = "ok" if step.ok else "FAILED"
        console().print(f"  {step.name:<{width}}  {step.seconds:7.1f} s  {state}", markup=False)
