"""The promotion policy's pure rules: each rule holds, fails or cannot decide yet."""

from __future__ import annotations

import pytest

from noria.domain.deployments import LOWER_IS_BETTER, POLICY_METRICS, PromotionPolicy, RouteRole
from noria.errors import InvalidArgument
from noria.evaluation.metrics import ALL_METRICS
from noria.promotion.decision import Evidence, decide

SHADOW = RouteRole.SHADOW


def evidence(**values: object) -> Evidence:
    base: dict[str, object] = {"mode": SHADOW, "rows": 412, "paired": 412, "disagreement": 0.031}
    return Evidence(**(base | values))  # type: ignore[arg-type]


def test_the_policy_knows_the_evaluation_suite() -> None:
    assert set(POLICY_METRICS) == set(ALL_METRICS)
    assert set(POLICY_METRICS) >= LOWER_IS_BETTER


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"min_requests": 0}, "min_requests 0 is not a whole number of at least 1"),
        ({"min_requests": True}, "min_requests True"),
        ({"min_labels": 2.5}, "min_labels 2.5"),
        ({"max_disagreement": -0.1}, "max_disagreement -0.1 is negative"),
        ({"max_disagreement": float("nan")}, "max_disagreement nan is not a finite number"),
        ({"metric": "auc"}, "unknown metric 'auc'; use one of accuracy"),
        ({"min_performance_delta": 0.01}, "needs a metric to compare"),
        ({"auto_promote": "yes"}, "auto_promote 'yes' is not true or false"),
    ],
)
def test_bad_policies_are_refused_naming_the_field(values: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidArgument, match=message.replace("(", r"\(")):
        PromotionPolicy(**values)  # type: ignore[arg-type]


def test_policy_round_trips_and_refuses_unknown_fields() -> None:
    policy = PromotionPolicy(min_requests=10, metric="log_loss", min_performance_delta=0.01)
    assert PromotionPolicy.from_dict(policy.to_dict()) == policy
    assert policy.lower_is_better and policy.delta == 0.01
    assert PromotionPolicy(metric="roc_auc").delta == 0.0
    with pytest.raises(InvalidArgument, match="unknown field\\(s\\) min_rows"):
        PromotionPolicy.from_dict({"min_rows": 3})


def test_all_rules_holding_promote_with_one_sentence_each() -> None:
    policy = PromotionPolicy(min_requests=200, metric="roc_auc", min_labels=50)
    ruling = decide(
        policy,
        evidence(labelled=180, metric_primary=0.80, metric_challenger=0.841),
    )
    assert ruling.verdict == "promote"
    assert ruling.reasons == [
        "challenger shadowed 412 of 200 required rows",
        "disagreement 3.1% ≤ 20.0% on 412 paired rows",
        "roc_auc +0.041 on 180 labelled rows ≥ +0.000",
    ]


def test_too_few_rows_or_labels_wait() -> None:
    policy = PromotionPolicy(min_requests=500, metric="accuracy", min_labels=50)
    ruling = decide(policy, evidence(labelled=10, metric_primary=0.9, metric_challenger=0.95))
    assert ruling.verdict == "wait"
    assert ruling.reasons[0].endswith("waiting for more traffic")
    assert ruling.reasons[2] == "10 of 50 required labelled rows for accuracy: waiting for labels"
    # Disagreement above the bound does not decide before enough rows.
    early = decide(policy, evidence(rows=100, disagreement=0.5))
    assert early.verdict == "wait" and "not decided before 500 rows" in early.reasons[1]


def test_a_rule_decided_against_rejects() -> None:
    policy = PromotionPolicy(min_requests=200, max_disagreement=0.1)
    assert decide(policy, evidence(disagreement=0.25)).verdict == "reject"
    worse = PromotionPolicy(metric="accuracy", min_performance_delta=0.0, max_disagreement=None)
    ruling = decide(worse, evidence(labelled=60, metric_primary=0.9, metric_challenger=0.85))
    assert ruling.verdict == "reject"
    assert ruling.reasons[-1] == "accuracy -0.050 on 60 labelled rows < +0.000"
    # Rejection wins over waiting: the performance rule decided even with few rows.
    few = decide(worse, evidence(rows=5, labelled=60, metric_primary=0.9, metric_challenger=0.5))
    assert few.verdict == "reject"


def test_lower_is_better_metrics_turn_the_sign() -> None:
    policy = PromotionPolicy(metric="log_loss", min_performance_delta=0.01)
    better = evidence(labelled=80, metric_primary=0.40, metric_challenger=0.35)
    ruling = decide(policy, better)
    assert ruling.verdict == "promote"
    assert "log_loss +0.050 (lower is better)" in ruling.reasons[-1]
    assert better.figures(policy)["delta"] == pytest.approx(0.05)
    worse = evidence(labelled=80, metric_primary=0.40, metric_challenger=0.45)
    assert decide(policy, worse).verdict == "reject"


def test_approval_and_unmeasured_figures() -> None:
    policy = PromotionPolicy(min_requests=10)
    held = decide(policy, evidence(), approval_problem="version 2 is not approved")
    assert held.verdict == "await_approval" and held.reasons[-1] == "version 2 is not approved"
    unmeasured = decide(policy, evidence(paired=0, disagreement=None))
    assert unmeasured.verdict == "wait" and "not measured yet" in unmeasured.reasons[1]
    no_metric = PromotionPolicy(min_requests=10, metric="roc_auc", max_disagreement=None)
    ruling = decide(no_metric, evidence(labelled=100))
    assert ruling.verdict == "wait" and "could not be computed" in ruling.reasons[-1]


def test_scores_and_canary_mixes_are_shown_in_their_units() -> None:
    policy = PromotionPolicy(min_requests=10, max_disagreement=0.5)
    scores = decide(policy, evidence(disagreement=0.125, disagreement_kind="scores"))
    assert scores.reasons[1] == "mean score difference 0.125 ≤ 0.5 on 412 paired rows"
    canary = Evidence(RouteRole.CANARY, rows=50, disagreement=0.05, disagreement_kind="label mix")
    assert decide(policy, canary).reasons == [
        "challenger answered 50 of 10 required rows",
        "label mix difference 5.0% ≤ 50.0% overall",
    ]
    figures = canary.figures(policy)
    assert figures == {"rows": 50.0, "paired": 0.0, "disagreement": 0.05, "labelled": 0.0}


def test_a_probability_metric_on_labels_only_says_how_to_fix_the_policy() -> None:
    import pyarrow as pa

    from noria.promotion.evidence import _metric

    labels_only = pa.table({"label": [0, 1, 1, 0], "prediction": [0, 1, 0, 0]})
    notes: list[str] = []
    assert _metric(labels_only, "roc_auc", "classification", "challenger", notes) is None
    assert notes == [
        "challenger: roc_auc needs class probabilities and the logged answers have none: "
        "serve the deployment with `noria serve --proba`, or choose a metric on labels, "
        "e.g. `noria deploy policy <deployment> --metric f1`"
    ]
    notes.clear()
    assert _metric(labels_only, "accuracy", "classification", "challenger", notes) == 0.75
    assert notes == []
    with_proba = labels_only.append_column("proba", pa.array([0.2, 0.9, 0.6, 0.1]))
    assert _metric(with_proba, "roc_auc", "classification", "primary", notes) == 1.0
    assert notes == []
