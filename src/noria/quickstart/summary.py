"""What a quickstart run found, gathered stage by stage, and the closing summary."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from noria.quickstart.options import DEPLOYMENT


@dataclass
class Facts:
    """Filled in as the stages run; the summary and ``--json`` read it."""

    home: str = ""
    seed: int = 0
    drift: float = 0.0
    fast: bool = False
    earlier_versions: int = 0  # credit-risk versions earlier runs in this home registered
    datasets: dict[str, str] = field(default_factory=dict)  # role → datasets:/… URI
    training_run: str = ""
    tuning: dict[str, Any] = field(default_factory=dict)  # trials, best CV ROC AUC
    first_version: int = 0
    first_metrics: dict[str, float] = field(default_factory=dict)  # on the v1 holdout
    package: dict[str, Any] = field(default_factory=dict)
    server_url: str = ""
    traffic: dict[str, dict[str, float]] = field(default_factory=dict)  # burst → figures
    monitor: dict[str, Any] = field(default_factory=dict)
    alert: dict[str, Any] = field(default_factory=dict)
    retraining: dict[str, Any] = field(default_factory=dict)
    challenge: dict[str, Any] = field(default_factory=dict)
    promotion: dict[str, Any] = field(default_factory=dict)
    champion_version: int = 0
    timings: dict[str, float] = field(default_factory=dict)
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def summary_lines(facts: Facts) -> list[str]:
    """The closing summary, for people: what ran, versions, before and after, where to look."""
    challenge, retraining = facts.challenge, facts.retraining
    new = facts.champion_version
    before = challenge.get("champion_version", facts.first_version)
    after = challenge.get("version", "-")
    lines = [
        f"Summary ({facts.seconds:.0f} s, everything is in {facts.home})",
        f"  data        {', '.join(f'{k} {v}' for k, v in facts.datasets.items())}",
        f"  trained     models:/credit-risk/{facts.first_version} by pipeline run "
        f"{facts.training_run} ({facts.tuning.get('trials', 0)}-trial sweep)",
        f"  alert       {facts.alert.get('message', 'none')}",
        f"  retrained   models:/credit-risk/{retraining.get('version', '-')} by pipeline run "
        f"{retraining.get('pipeline_run', '-')}, started by event {retraining.get('event', '-')}",
        f"  promoted    credit-risk@champion: version {facts.first_version} → {new} "
        f"({facts.promotion.get('action', 'none')})",
        "",
        f"  on the drifted population         before (v{before})   after (v{after})",
        f"  ROC AUC, fresh labelled data      {_num(challenge.get('champion_roc_auc')):>12}"
        f"   {_num(challenge.get('roc_auc')):>11}",
    ]
    shadow = facts.traffic.get("shadow")
    if shadow:
        lines.append(
            f"  accuracy on the shadowed requests {_pct(shadow.get('accuracy')):>12}"
            f"   {_pct(shadow.get('challenger_accuracy')):>11}"
        )
    figures = facts.promotion.get("figures", {})
    if "metric_primary" in figures and "metric_challenger" in figures:
        lines.append(
            f"  F1 on the shadowed requests       {_num(figures['metric_primary']):>12}"
            f"   {_num(figures['metric_challenger']):>11}"
        )
    if facts.first_metrics:
        lines.append(
            f"  (v{facts.first_version} on its own population's holdout: ROC AUC "
            f"{_num(facts.first_metrics.get('roc_auc'))}, accuracy "
            f"{_pct(facts.first_metrics.get('accuracy'))})"
        )
    lines += ["", "Where to look:", *(f"  {command}" for command in explore_commands(new))]
    return lines


def explore_commands(version: int) -> list[str]:
    """The commands to look around with, each with what it shows."""
    commands = [
        ("noria server", "the REST API over this home; /docs in a browser"),
        (f"noria lineage models:/credit-risk/{version} --up", "alert → retraining → data, code"),
        (f"noria monitor show {DEPLOYMENT}", "windows, drift figures, the alert"),
        (f"noria deploy show {DEPLOYMENT}", "routes, and shadow agreement"),
        ("noria models history credit-risk", "every alias move, audited"),
        ("noria pipelines runs", "training, tuning sweeps, retraining"),
    ]
    width = max(len(command) for command, _ in commands)
    return [f"{command:<{width}}   # {what}" for command, what in commands]
