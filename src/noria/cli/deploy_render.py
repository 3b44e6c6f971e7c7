"""Tables and JSON shapes of ``noria deploy``."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from rich.table import Table

from noria.cli.render import console
from noria.deployments.comparison import Comparison
from noria.domain.deployments import Deployment


def deployment_dict(deployment: Deployment, served: dict[str, int | None]) -> dict[str, Any]:
    data = asdict(deployment)
    data["routes"] = [
        {**asdict(route), "model_name": route.model_name, "version": served.get(route.model_uri)}
        for route in deployment.routes
    ]
    return data


def print_deployments(found: list[Deployment]) -> None:
    table = Table("name", "status", "primary", "canaries", "shadows", "updated (UTC)")
    for d in found:
        canaries = ", ".join(f"{r.model_uri} {r.percent:g}%" for r in d.canaries) or "-"
        shadows = ", ".join(r.model_uri for r in d.shadows) or "-"
        table.add_row(
            d.name, d.status.value, f"{d.primary.model_uri} {d.primary.percent:g}%",
            canaries, shadows, _when(d.updated_at),
        )  # fmt: skip
    console().print(table)


def print_routes(deployment: Deployment, served: dict[str, int | None]) -> None:
    table = Table("role", "model", "traffic", "serves")
    for route in deployment.routes:
        version = served.get(route.model_uri)
        shown = "-" if version is None else f"version {version}"
        traffic = "copy" if not route.takes_traffic else f"{route.percent:g}%"
        table.add_row(route.role.value, route.model_uri, traffic, shown)
    console().print(table)


def print_comparison(comparison: Comparison, window: str) -> None:
    out = console()
    if not comparison.candidates:
        out.print(f"No shadow or canary predictions logged in {window}.", markup=False)
        return
    live = ", ".join(comparison.live_versions) or "-"
    out.print(
        f"Compared with the primary ({live}, {comparison.live_rows} rows) over {window}, "
        f"{comparison.task.value}:",
        markup=False,
    )
    table = Table("role", "version", "rows", "paired", "agreement", "mean |Δ|", "distribution Δ")
    for c in comparison.candidates:
        table.add_row(
            c.role.value, f"{c.model}/{c.version}", str(c.rows), str(c.paired),
            _share(c.agreement), _number(c.mean_abs_difference),
            _number(c.distribution_difference),
        )  # fmt: skip
    out.print(table)


def _share(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:.4g}"


def _when(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S")
