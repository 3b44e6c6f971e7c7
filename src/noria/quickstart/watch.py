"""The quickstart's middle: deploy → traffic and labels → the population drifts → monitor.

The monitor judges one-minute windows, and is run with ``now`` set past the end of the
window the drifted traffic fell in (``delay`` 0): the quickstart never waits for the wall
clock to close a window. Its drift rule's action raises the ``retrain-credit`` event, which
the retraining schedule added here listens to.
"""

from __future__ import annotations

import time
from typing import Any

import noria.data
from noria.domain.deployments import PromotionPolicy
from noria.domain.monitors import MonitorResult, iso_time
from noria.monitoring.runner import MonitorRun
from noria.quickstart import earlier, flows
from noria.quickstart.options import DEPLOYMENT, EVENT
from noria.quickstart.scenario import FEATURES, ID, LABEL, customers
from noria.quickstart.session import Session
from noria.quickstart.traffic import Traffic, send, wait_for_logs

WINDOW_MS = 60_000
FRESH = "credit-fresh"
DRIFT_RULE = (
    f"drift.share_drifted > 0.3 severity=critical action=trigger:{EVENT} name=population-drift"
)
ACCURACY_RULE = "performance.accuracy < 0.85 severity=warning action=log name=accuracy-drop"


def policy(session: Session) -> PromotionPolicy:
    """Promote once the shadow answered most of the shadow traffic, agrees enough with the
    champion, and scores an F1 no more than 0.02 below the champion's on the rows whose
    labels came back: the gate already showed it better offline, with a confidence interval;
    online, a few hundred rows only have to confirm it is not worse beyond noise."""
    rows = session.sizes.shadow_rows
    return PromotionPolicy(
        min_requests=rows * 3 // 4,
        max_disagreement=0.35,
        metric="f1",
        min_performance_delta=-0.02,
        min_labels=rows // 2,
    )


def deploy(session: Session) -> None:
    chosen = policy(session)
    current = session.earlier.deployment
    if current is None:
        deployment = session.client.deployments.create(
            DEPLOYMENT,
            model=earlier.PRIMARY,
            promotion=chosen,
            description=f"{earlier.MARK}: credit-risk@champion behind a promotion policy.",
        )
        changed = []
    else:
        changed = earlier.reset_deployment(session.client, current, chosen)
        deployment = session.client.deployments.get(DEPLOYMENT)
    session.say.stage("deploy", f"deployment {deployment.name}: primary {earlier.PRIMARY}")
    if current is not None:
        session.say.detail(
            "from an earlier run: "
            + (
                f"back to the starting shape by audited updates ({'; '.join(changed)})"
                if changed
                else "already in the starting shape, kept with its history"
            )
        )
    session.say.detail(
        f"promotion policy: ≥ {chosen.min_requests} challenger rows, disagreement ≤ "
        f"{chosen.max_disagreement:.0%}, F1 at most {-chosen.delta:g} below the champion's "
        f"on ≥ {chosen.min_labels} labelled rows"
    )


def traffic(session: Session) -> None:
    sizes = session.sizes
    frame = customers(sizes.baseline_requests * sizes.rows_per_request, seed=session.seed(3))
    sent = _burst(session, frame, "scoring today's customers")
    session.facts.traffic["baseline"] = _figures(sent)
    session.bursts["baseline"] = sent
    session.say.stage(
        "traffic",
        f"{sent.rows} customers in {sent.requests} requests to {session.facts.server_url}"
        f"/v1/models/{DEPLOYMENT}/predict; {sent.rows} labels to /v1/feedback",
    )
    session.say.detail(f"the champion's answers were right for {sent.accuracy:.1%} of them")


def drift(session: Session) -> None:
    sizes, drift = session.sizes, session.options.drift
    before = session.frames["train"]
    frame = customers(sizes.drifted_requests * sizes.rows_per_request, seed=session.seed(4),
                      drift=drift)  # fmt: skip
    sent = _burst(session, frame, "scoring the new channel's customers")
    session.facts.traffic["drifted"] = _figures(sent)
    session.bursts["drifted"] = sent
    session.say.stage(
        "drift",
        f"the population drifts (drift {drift:g}): {sent.rows} customers in {sent.requests} "
        f"requests, their labels sent; the champion is right for {sent.accuracy:.1%}",
    )
    gig = (frame["employment"] == "gig").mean()
    session.say.detail(
        f"median age {before['age'].median():.0f} → {frame['age'].median():.0f}, median income "
        f"{before['income'].median():,.0f} → {frame['income'].median():,.0f}, debt ratio "
        f"{before['debt_ratio'].mean():.2f} → {frame['debt_ratio'].mean():.2f}, gig workers "
        f"0% → {gig:.0%}, defaults {before[LABEL].mean():.0%} → {sent.default_rate:.0%}"
    )
    _new_data(session)


def _new_data(session: Session) -> None:
    """The new population's outcomes, collected by the back office: the next version of the
    training data, and a fresh labelled sample the gate judges the retrained model on."""
    sizes, drift, client = session.sizes, session.options.drift, session.client
    later = customers(sizes.train_rows, seed=session.seed(5), drift=drift)
    fresh = customers(sizes.holdout_rows, seed=session.seed(6), drift=drift).drop(columns=ID)
    version, new_version = client.datasets.ingest(later, name=flows.DATASET)
    kept, new_fresh = client.datasets.ingest(fresh, name=FRESH)
    session.facts.datasets.update(retraining=version.uri, fresh=kept.uri)
    report = noria.data.validate(later, session.facts.datasets["training"], client=client)
    kinds = sorted({anomaly.kind for anomaly in report.anomalies})
    session.say.detail(
        f"labelled outcomes of the new customers: {version.uri} ({version.row_count:,} rows), "
        f"{kept.uri} ({kept.row_count:,}); against the old schema: {len(report.anomalies)} "
        f"anomalies ({', '.join(kinds) or 'none'})"
        + ("" if new_version or new_fresh else "; the same content as an earlier run's")
    )


def monitor(session: Session) -> None:
    client, found = session.client, session.earlier
    params = {"trials": session.sizes.retrain_trials, "seed": session.options.seed}
    schedule_done = earlier.restart_schedule(client, found.schedule, params)
    # An earlier run's monitor is made again, not given a new definition (create with
    # replace=True): its drift alert would still be firing, so this run's drift would only
    # extend it, without firing the retraining trigger again. Its alert stays in the audit
    # log and the lineage.
    if found.monitor is not None:
        client.monitors.delete(DEPLOYMENT)
    client.monitors.create(
        DEPLOYMENT,
        reference=session.facts.datasets["training"],
        window="1m",
        delay="0s",
        label_column=LABEL,
        rules=[DRIFT_RULE, ACCURACY_RULE],
        start=session.bursts["baseline"].started_ms,
        description=f"{earlier.MARK}: drift and accuracy of credit-api's traffic.",
    )
    # Evaluate as if the current window (the drifted traffic's last) had closed: no waiting.
    last = time.time_ns() // 1_000_000
    now = last - last % WINDOW_MS + WINDOW_MS + 1
    run = client.monitors.run(DEPLOYMENT, now=now)
    session.say.stage(
        "monitor",
        f"monitor {DEPLOYMENT}: 1-minute windows against {session.facts.datasets['training']}"
        f" (its stored profile), run at {iso_time(now)}: {len(run.evaluated)} window(s)",
    )
    session.say.detail(f"schedule {EVENT}: {flows.__name__}:training on event {EVENT}")
    if schedule_done:
        session.say.detail(f"the earlier run's schedule {EVENT}: {schedule_done}")
    if found.monitor is not None:
        session.say.detail(
            "the earlier run's monitor was made again, so that the windows start at this "
            "run's traffic; its alert stays in `noria audit` and in the lineage"
        )
    windows = [_window(result) for result in run.evaluated]
    for window in windows:
        session.say.detail(window["line"])
    session.facts.monitor = {"windows": windows}
    _alerted(session, run)


def _alerted(session: Session, run: MonitorRun) -> None:
    """Record the drift alert (its trigger action raised the event), or stop: no alert."""
    fired = [alert for alert in run.fired if alert.figure == "drift.share_drifted"]
    if not fired:
        raise _no_alert(session)
    alert = fired[0]
    outcomes = ", ".join(f"{a.action}: {a.status.value}" for a in alert.actions)
    session.facts.alert = {
        "id": alert.id,
        "uri": f"alerts:/{alert.id}",
        "severity": alert.severity.value,
        "message": alert.message,
        "actions": outcomes,
    }
    for other in run.fired:
        session.say.detail(f"ALERT [{other.severity.value}] {other.message}")
    session.say.detail(f"actions: {outcomes}")


def _window(result: MonitorResult) -> dict[str, Any]:
    figures = result.figures
    drifted = sorted(
        name.removeprefix("feature.").removesuffix(".drifted")
        for name, value in figures.items()
        if name.startswith("feature.") and name.endswith(".drifted") and value == 1
    )
    accuracy = figures.get("performance.accuracy")
    tested = int(figures.get("drift.tested_count", len(FEATURES)))
    line = (
        f"window {iso_time(result.window_start)[11:16]} to {iso_time(result.window_end)[11:16]} "
        f"UTC: {result.rows} rows, {len(drifted)} of {tested} features drifted"
        + (f" ({', '.join(drifted)})" if drifted else "")
        + ("" if accuracy is None else f"; accuracy {accuracy:.1%} on {result.labels} labels")
    )
    return {
        "start": iso_time(result.window_start),
        "rows": result.rows,
        "labels": result.labels,
        "drifted_features": drifted,
        "share_drifted": figures.get("drift.share_drifted"),
        "accuracy": accuracy,
        "line": line,
    }


def _no_alert(session: Session) -> Exception:
    from noria.errors import Conflict

    shares = [w["share_drifted"] for w in session.facts.monitor["windows"]]
    return Conflict(
        f"The monitor raised no drift alert (share of drifted features per window: {shares}); "
        f"with --drift {session.options.drift:g} the shift may be too small: try --drift 0.8."
    )


def _burst(session: Session, frame: Any, what: str) -> Traffic:
    sizes = session.sizes
    requests = -(-len(frame) // sizes.rows_per_request)
    with session.say.progress(what, total=requests) as advance:
        sent = send(session.require_http(), DEPLOYMENT, frame,
                    rows_per_request=sizes.rows_per_request, on_request=advance)  # fmt: skip
    wait_for_logs(session.client, model=flows.MODEL_NAME, traffic=sent)
    return sent


def _figures(sent: Traffic) -> dict[str, float]:
    return {
        "requests": sent.requests,
        "rows": sent.rows,
        "accuracy": round(sent.accuracy, 4),
        "default_rate": round(sent.default_rate, 4),
    }
