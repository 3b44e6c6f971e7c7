"""`noria quickstart --fast` end to end: a real `noria` process in a fresh NORIA_HOME, with
its own background model server on a free port, then a second run in the same home; then
the SDK checks what they left behind — a promoted champion whose lineage reaches the drift
alert, the retraining run, the data and the code version, the monitor's alert, and the
promotions in the deployment's history."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

import noria
from noria.client import Client
from noria.domain.audit import AuditQuery
from noria.domain.entities import EntityKind, EntityRef
from noria.settings import Settings
from noria.tracking.environment import git_state
from tests.conftest import free_port

pytestmark = pytest.mark.slow


@dataclass(frozen=True)
class Done:
    home: Path
    code: int
    out: str
    err: str


def quickstart(home: Path, *args: str, timeout: float = 240) -> Done:
    env = {key: value for key, value in os.environ.items() if not key.startswith("NORIA_")}
    env.update(NORIA_HOME=str(home), NORIA_CONFIG=str(home.parent / "absent-noria.toml"))
    command = [sys.executable, "-m", "noria.cli.main", "quickstart", *args]
    done = subprocess.run(
        command,
        check=False,
        cwd=home.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    return Done(home, done.returncode, done.stdout, done.stderr)


@pytest.fixture(scope="module")
def ran(tmp_path_factory: pytest.TempPathFactory) -> Done:
    home = tmp_path_factory.mktemp("quickstart") / ".noria"
    return quickstart(home, "--fast", "--port", str(free_port()))


@pytest.fixture(scope="module")
def again(ran: Done) -> Done:
    """The same command in the same home, as a second `make demo` runs it."""
    assert ran.code == 0, f"stdout:\n{ran.out}\nstderr:\n{ran.err}"
    return quickstart(ran.home, "--fast", "--port", str(free_port()))


@pytest.fixture
def client(again: Done) -> Iterator[Client]:
    """The home after both runs: what the second one left must hold together too."""
    assert again.code == 0, f"stdout:\n{again.out}\nstderr:\n{again.err}"
    with noria.connect(Settings(home=again.home, user="tester")) as opened:
        yield opened


def test_it_exits_0_and_ends_with_the_summary(ran: Done) -> None:
    assert ran.code == 0, f"stdout:\n{ran.out}\nstderr:\n{ran.err}"
    assert "15/15 promote" in ran.out
    assert "verification skipped (--fast)" in ran.out
    assert "Stopped the model server" in ran.out
    summary = ran.out[ran.out.index("Summary (") :]
    assert "promoted    credit-risk@champion: version 1 → 2 (promoted)" in summary
    assert "Where to look:" in summary
    assert "noria lineage models:/credit-risk/2 --up" in summary
    assert "Traceback" not in ran.err


def test_a_second_run_in_the_same_home_makes_new_versions_and_promotes_again(
    again: Done,
) -> None:
    assert again.code == 0, f"stdout:\n{again.out}\nstderr:\n{again.err}"
    assert "Running again: earlier runs here left credit-risk up to version 2" in again.out
    assert "the same versions again" in again.out  # identical data: credit/1 again
    assert "credit-risk@champion → version 3 (was version 2)" in again.out
    assert "the sweep came from the step cache" in again.out
    assert "schedule retrain-credit: paused and resumed" in again.out
    assert "the earlier run's monitor was made again" in again.out
    summary = again.out[again.out.index("Summary (") :]
    assert "trained     models:/credit-risk/3 by pipeline run" in summary
    assert "promoted    credit-risk@champion: version 3 → 4 (promoted)" in summary
    assert "before (v3)   after (v4)" in summary
    assert "Traceback" not in again.err


def test_the_champion_is_the_retrained_version(client: Client) -> None:
    champion = client.registry.resolve("models:/credit-risk@champion")
    assert champion.version == 4  # the second run's retrained version
    assert champion.gate is not None and champion.gate.passed
    assert client.deployments.get("credit-api").primary.model_uri == (
        "models:/credit-risk@champion"
    )


def test_its_lineage_reaches_the_alert_the_retraining_run_the_data_and_the_code(
    client: Client,
) -> None:
    champion = client.registry.resolve("models:/credit-risk@champion")
    assert champion.run_id is not None
    tags = client.tracker.get_run(champion.run_id).tags
    retraining = EntityRef(EntityKind.PIPELINE_RUN, tags["noria.pipeline_run_id"])
    made_by = client.lineage.upstream(champion.entity(), depth=1).entities()
    assert retraining in made_by  # the retraining pipeline run produced the version
    assert EntityRef(EntityKind.RUN, champion.run_id) in made_by  # through its step's run

    run = client.metadata.pipelines.get_run(retraining.key)
    assert (run.pipeline, run.status.value) == ("credit-risk-training", "SUCCEEDED")
    started_by = client.lineage.upstream(retraining, depth=2).entities()
    [event] = [e for e in started_by if e.kind is EntityKind.EVENT]
    [alert] = [e for e in started_by if e.kind is EntityKind.ALERT]
    assert client.triggers.event(event.key).name == "retrain-credit"
    assert client.metadata.alerts.get(alert.key).figure == "drift.share_drifted"
    assert EntityRef(EntityKind.SCHEDULE, "retrain-credit") in started_by

    upstream = client.lineage.upstream(champion.entity(), depth=8).entities()
    assert alert in upstream
    datasets = {entity.key for entity in upstream if entity.kind is EntityKind.DATASET_VERSION}
    assert {"credit/1", "credit/2"} <= datasets  # the monitor's reference, the training data

    # The code version: the run that logged the model records where it ran from.
    entry = Path(tags["noria.source.entry_point"])
    git = git_state(entry.parent if entry.is_file() else Path.cwd())
    if git is not None:  # in a git checkout, the commit is the code version
        assert tags["noria.source.git.commit"] == git.commit
    assert tags["noria.python"]


def test_the_monitor_alerted_on_drift(client: Client) -> None:
    alerts = client.monitors.alerts("credit-api").items
    drift = [alert for alert in alerts if alert.figure == "drift.share_drifted"]
    assert drift and drift[0].value > 0.3
    assert [a.status.value for a in drift[0].actions] == ["ok"]
    assert client.monitors.results("credit-api").items
    # The first run's alert went with its monitor; the audit log keeps both runs' alerts.
    fired = client.audit.events(AuditQuery(action="alert.fired")).items
    drift_fired = [e for e in fired if (e.after or {}).get("rule") == "population-drift"]
    assert len(drift_fired) == 2


def test_the_deployment_history_holds_the_challenge_and_the_promotion(client: Client) -> None:
    entity = client.deployments.get("credit-api").entity()
    events = client.audit.events(AuditQuery(entity=entity)).items
    actions = [event.action for event in events]
    assert actions.count("deployment.created") == 1  # the second run updated it
    assert actions.count("promotion.promoted") == 2
    assert "deployment.promoted" in actions
    challenged = client.audit.events(AuditQuery(action="promotion.challenger_set")).items
    keys = sorted(event.entity.key for event in challenged)
    assert keys == ["credit-risk/2", "credit-risk/4"]


def test_a_model_the_quickstart_did_not_make_is_refused_in_one_line(tmp_path: Path) -> None:
    home = tmp_path / ".noria"
    with noria.connect(Settings(home=home, user="ana")) as client:
        client.registry.create_model("credit-risk", description="ana's own")
    refused = quickstart(home, "--fast", timeout=60)
    assert refused.code == 1
    assert refused.err.count("\n") == 1 and "Traceback" not in refused.err
    assert "model 'credit-risk' (it has no tag noria.quickstart)" in refused.err
    assert "the quickstart did not make" in refused.err and "--home" in refused.err
    with noria.connect(Settings(home=home, user="ana")) as client:
        assert not client.datasets.list_datasets().items  # nothing was changed
        assert client.registry.get_model("credit-risk").latest_version is None


def test_bad_options_are_one_line_each(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        busy = quickstart(tmp_path / ".noria", "--fast", "--port", str(port), timeout=60)
    assert busy.code == 1
    assert f"Port {port} on 127.0.0.1 is taken" in busy.err and "--port" in busy.err
    out_of_range = quickstart(tmp_path / ".noria", "--drift", "1.5", timeout=60)
    assert out_of_range.code == 2 and "--drift" in out_of_range.err


def test_without_drift_no_alert_fires_and_the_run_stops_cleanly(tmp_path: Path) -> None:
    port = free_port()
    calm = quickstart(tmp_path / ".noria", "--fast", "--drift", "0", "--port", str(port))
    assert calm.code == 1, f"stdout:\n{calm.out}\nstderr:\n{calm.err}"
    assert "0 of 8 features drifted" in calm.out  # the monitor raises no false alarm
    assert calm.err.startswith("Error: The monitor raised no drift alert")
    assert "Traceback" not in calm.err
    with socket.socket() as sock:  # the background model server is gone: nothing listens
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # TIME_WAIT is no listener
        sock.bind(("127.0.0.1", port))
