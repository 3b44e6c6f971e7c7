"""The quickstart's first half: data → validation → tuned training → gate → champion → package.

Each stage narrates one line (and details), does its work through the public API — the
same calls a user's code makes — and records what it found in ``session.facts``.
"""

from __future__ import annotations

import noria
import noria.data
from noria.errors import Conflict
from noria.quickstart import flows
from noria.quickstart.options import GATE
from noria.quickstart.scenario import ID, LABEL, customers
from noria.quickstart.session import Session

HOLDOUT = "credit-holdout"


def ingest(session: Session) -> None:
    sizes, client = session.sizes, session.client
    frame = customers(sizes.train_rows, seed=session.seed(1))
    holdout = customers(sizes.holdout_rows, seed=session.seed(2))
    session.frames.update(train=frame, holdout=holdout)
    train, new_train = client.datasets.ingest(frame, name=flows.DATASET)
    # The holdout is for evaluation only: no customer ids, just what the model reads.
    kept, new_holdout = client.datasets.ingest(holdout.drop(columns=ID), name=HOLDOUT)
    session.facts.datasets.update(training=train.uri, holdout=kept.uri)
    session.say.stage(
        "ingest",
        f"{train.uri}: {train.row_count:,} customers, {frame[LABEL].mean():.1%} defaulted; "
        f"holdout {kept.uri} ({kept.row_count:,})",
    )
    if not (new_train or new_holdout):
        session.say.detail(
            "the same customers as an earlier run (same seed): same content, so the same "
            "versions again, stored once"
        )
    session.say.detail(
        "age, employment, region, income, balance, account age, debt ratio, open loans; "
        "versioned by content, with a schema and a statistics profile"
    )


def validate(session: Session) -> None:
    training = session.facts.datasets["training"]
    report = noria.data.validate(session.frames["holdout"], training, client=session.client)
    warnings = len(report.anomalies) - len(report.errors)
    session.say.stage(
        "validate",
        f"the holdout against the schema of {training}: {len(report.errors)} errors, "
        f"{warnings} warnings",
    )
    if not report.ok:
        raise Conflict(
            f"The generated holdout does not fit the schema of {training}: "
            f"{report.errors[0].message}. This is a bug in the quickstart; please report it."
        )


def train(session: Session) -> None:
    trials = session.sizes.trials
    session.say.stage(
        "train",
        f"pipeline {flows.training.name}: resolve → search ({trials}-trial sweep with "
        "noria.tune) → register",
    )
    with session.say.progress(f"tuning {trials} trials"):
        result = flows.training.run(
            params={
                "dataset_uri": session.facts.datasets["training"],
                "trials": trials,
                "seed": session.options.seed,
            },
            client=session.client,
        )
    registered = result.output("register")
    cached = result.step("search").cache_hit
    session.versions["first"] = int(registered["version"])
    session.facts.training_run = result.id
    session.facts.first_version = int(registered["version"])
    session.facts.tuning = {
        "trials": trials,
        "tuning_run": registered["tuning_run"],
        "best_params": registered["best_params"],
        "cv_roc_auc": registered["cv_roc_auc"],
    }
    best = ", ".join(f"{k}={_short(v)}" for k, v in registered["best_params"].items())
    session.say.detail(
        f"run {result.id}; sweep {registered['tuning_run']}: best CV ROC AUC "
        f"{registered['cv_roc_auc']:.3f} ({best})"
    )
    if cached:
        session.say.detail(
            "the sweep came from the step cache (same data, trials and seed as an earlier "
            "run); register never does: it logs the model again as a new version"
        )
    session.say.detail(f"registered {registered['uri']} from run {registered['run_id']}")


def gate(session: Session) -> None:
    version = session.versions["first"]
    holdout = session.facts.datasets["holdout"]
    outcome = noria.evaluate_with_gate(
        f"models:/{flows.MODEL_NAME}/{version}",
        holdout,
        label=LABEL,
        gate=GATE,
        explain=False,
        client=session.client,
    )
    metrics = outcome.candidate.metrics
    session.facts.first_metrics = {
        name: float(metrics[name]) for name in ("roc_auc", "accuracy", "f1") if name in metrics
    }
    session.say.stage(
        "gate",
        f"models:/{flows.MODEL_NAME}/{version} on {holdout}: ROC AUC {metrics['roc_auc']:.3f}, "
        f"accuracy {metrics['accuracy']:.1%}",
    )
    session.say.detail(outcome.verdict.summary())
    if not outcome.verdict.passed:
        raise Conflict(
            f"models:/{flows.MODEL_NAME}/{version} failed its gate on {holdout}; try another "
            "--seed."
        )


def champion(session: Session) -> None:
    version = session.versions["first"]
    before = noria.set_alias(flows.MODEL_NAME, "champion", version, client=session.client)
    session.facts.champion_version = version
    moved = "" if before is None else f" (was version {before})"
    session.say.stage(
        "champion", f"{flows.MODEL_NAME}@champion → version {version}{moved} (audited)"
    )


def package(session: Session) -> None:
    from noria.quickstart.container import BackgroundVerify, build

    version = session.versions["first"]
    uri = f"models:/{flows.MODEL_NAME}/{version}"
    out = session.home / "packages" / f"{flows.MODEL_NAME}-{version}"
    info = build(session.client, uri, out)
    session.facts.package = {"out": str(out), "pins": len(info.requirements)}
    session.say.stage(
        "package",
        f"{uri} → {out}: Dockerfile ({info.base_image}), {len(info.requirements)} exact pins, "
        "the Noria wheel",
    )
    if not session.sizes.verify_package:
        session.facts.package["verified"] = "skipped (--fast)"
        session.say.detail(
            "verification skipped (--fast): it installs the lock into a fresh virtualenv, "
            "a minute or more; `noria models package " + uri + " --out DIR --verify` runs it"
        )
        return
    session.verify = BackgroundVerify(out, session.home / "logs" / "quickstart-verify.log")
    session.verify.start()
    session.say.detail(
        "verifying in the background: a fresh virtualenv installs the lock, starts the "
        "image's server and compares its answers (the summary waits for it)"
    )


def _short(value: object) -> str:
    return f"{value:.3g}" if isinstance(value, float) else str(value)
