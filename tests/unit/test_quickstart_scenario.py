"""The quickstart's generated credit-risk population: seeded, related as lending data is,
and drifting the way the quickstart's story needs (so the monitor has something to find)."""

from __future__ import annotations

import pytest

from noria.errors import InvalidArgument
from noria.quickstart.options import FAST, FULL, QuickstartOptions
from noria.quickstart.scenario import EMPLOYMENT, FEATURES, ID, LABEL, REGIONS, customers
from noria.quickstart.summary import Facts, explore_commands, summary_lines


def test_the_same_seed_gives_the_same_customers_and_another_seed_others() -> None:
    first = customers(300, seed=3)
    assert first.equals(customers(300, seed=3))
    assert not first.equals(customers(300, seed=4))
    assert list(first.columns) == [ID, *FEATURES, LABEL]
    assert first[ID].is_unique


def test_values_are_plausible_and_related() -> None:
    frame = customers(4000, seed=1)
    assert frame["age"].between(19, 80).all()
    assert (frame["account_age_years"] <= frame["age"] - 18).all()
    assert set(frame["employment"]) <= set(EMPLOYMENT) - {"gig"}
    assert set(frame["region"]) == set(REGIONS)
    assert (frame["income"] > 0).all() and (frame["debt_ratio"] >= 0).all()
    # Income grows with age into the fifties; retirees are old; debt raises the default rate.
    assert (
        frame[frame["age"] < 30]["income"].median()
        < frame[frame["age"].between(45, 55)]["income"].median()
    )
    assert frame[frame["employment"] == "retired"]["age"].min() >= 63
    heavy = frame["debt_ratio"] > frame["debt_ratio"].quantile(0.8)
    assert frame[heavy][LABEL].mean() > 2 * frame[~heavy][LABEL].mean()
    assert 0.08 < frame[LABEL].mean() < 0.25


def test_drift_makes_the_population_younger_poorer_more_indebted_with_gig_workers() -> None:
    before, after = customers(4000, seed=2), customers(4000, seed=2, drift=0.8)
    assert after["age"].mean() < before["age"].mean() - 7
    assert after["income"].median() < 0.8 * before["income"].median()
    assert after["debt_ratio"].mean() > before["debt_ratio"].mean() + 0.1
    assert (before["employment"] == "gig").sum() == 0
    assert (after["employment"] == "gig").mean() > 0.2
    assert after[LABEL].mean() > before[LABEL].mean() + 0.1
    assert customers(500, seed=2, drift=0.0).equals(customers(500, seed=2))


@pytest.mark.parametrize("drift", [-0.1, 1.5, float("nan")])
def test_drift_out_of_range_is_refused(drift: float) -> None:
    with pytest.raises(InvalidArgument, match="use a number from 0 to 1"):
        customers(10, seed=1, drift=drift)


def test_options_pick_sizes_and_check_their_values() -> None:
    assert QuickstartOptions().sizes is FULL and FULL.verify_package
    assert QuickstartOptions(fast=True).sizes is FAST and not FAST.verify_package
    assert FAST.train_rows < FULL.train_rows and FAST.trials < FULL.trials
    with pytest.raises(InvalidArgument, match="is not a TCP port"):
        QuickstartOptions(port=70000)
    with pytest.raises(InvalidArgument, match="negative"):
        QuickstartOptions(seed=-1)


def test_the_summary_names_versions_figures_and_where_to_look() -> None:
    facts = Facts(
        home="/tmp/h/.noria",
        first_version=1,
        champion_version=2,
        challenge={"version": 2, "champion_version": 1, "roc_auc": 0.85, "champion_roc_auc": 0.82},
        traffic={"shadow": {"accuracy": 0.73, "challenger_accuracy": 0.76}},
        promotion={"action": "promoted"},
    )
    text = "\n".join(summary_lines(facts))
    assert "version 1 → 2 (promoted)" in text
    assert "0.820         0.850" in text and "73.0%" in text and "76.0%" in text
    assert "noria lineage models:/credit-risk/2 --up" in text
    commands = explore_commands(2)
    assert len({line.index("#") for line in commands}) == 1  # the comments line up
