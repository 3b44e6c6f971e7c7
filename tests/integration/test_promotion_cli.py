"""`noria models challenge` and `noria deploy policy | check | advance` as a user runs them:
real processes on a real store, JSON for scripts, one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from noria.settings import Settings
from tests.integration.test_cli import assert_one_line_error, noria
from tests.integration.test_promotion_service import LABEL, World, serve
from tests.integration.test_promotion_service import world as world  # noqa: PLC0414 - the fixture


@pytest.mark.slow  # a dozen CLI processes
def test_policy_challenge_check_and_advance(
    world: World, settings: Settings, tmp_path: Path
) -> None:
    home = settings.home
    set_ = noria(
        home, "deploy", "policy", "cancer-api", "--min-requests", "100", "--max-disagreement",
        "0.3", "--metric", "accuracy", "--min-delta", "0", "--manual",
    )  # fmt: skip
    assert set_.code == 0, set_.err
    assert "min_requests: 100" in set_.out and "auto_promote: False" in set_.out

    data = tmp_path / "fresh.parquet"
    world.holdout.to_parquet(data)
    done = noria(
        home, "models", "challenge", f"models:/cancer/{world.strong}", "--deployment",
        "cancer-api", "--data", str(data), "--label", LABEL, "--canary", "20", "--json",
    )  # fmt: skip
    assert done.code == 0, done.err
    answer = json.loads(done.out)
    assert (answer["passed"], answer["mode"], answer["champion_version"]) == (
        True, "canary", world.weak,
    )  # fmt: skip
    assert answer["verdict"]["rules"][0]["metric"] == "roc_auc"

    check = noria(home, "deploy", "check", "cancer-api")
    assert check.code == 0, check.err
    assert check.out.splitlines()[0].startswith("cancer-api: wait (challenger cancer v")
    assert "challenger answered 0 of 100 required rows: waiting for more traffic" in check.out

    serve(world, challenger=world.strong, role="canary", rows=240)
    advanced = noria(home, "deploy", "advance", "cancer-api")
    assert advanced.code == 0, advanced.err
    assert advanced.out.splitlines()[0].startswith("cancer-api: promote")
    assert "Held: nothing changed" in advanced.out  # auto_promote is off
    assert "noria deploy promote cancer-api --route models:/cancer@challenger" in advanced.out

    auto = json.loads(noria(home, "deploy", "policy", "cancer-api", "--auto", "--json").out)
    assert auto["promotion"] == {
        "min_requests": 100, "max_disagreement": 0.3, "metric": "accuracy",
        "min_performance_delta": 0.0, "min_labels": 50, "auto_promote": True,
    }  # fmt: skip
    promoted = json.loads(noria(home, "deploy", "advance", "cancer-api", "--json").out)
    assert promoted["action"] == "promoted", promoted
    cleared = noria(home, "deploy", "policy", "cancer-api", "--clear")
    assert "no promotion policy" in cleared.out


def test_mistakes_are_one_line(world: World, settings: Settings) -> None:
    home = settings.home
    assert_one_line_error(
        noria(home, "deploy", "policy", "cancer-api", "--metric", "auc"),
        "unknown metric 'auc'",
    )
    assert_one_line_error(noria(home, "deploy", "check", "nope"), "Deployment 'nope' not found")
    challenge = [f"models:/cancer/{world.strong}", "--deployment", "cancer-api"]
    assert_one_line_error(
        noria(home, "models", "challenge", *challenge, "--data", "nope.parquet", "--label", LABEL),
        "nope.parquet",
    )
