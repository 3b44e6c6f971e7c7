"""Tracking wire shapes: domain → JSON → domain, with NaN and ±inf on the way."""

from __future__ import annotations

import json
import math
from fractions import Fraction
from urllib.parse import unquote

import httpx
import pytest
from pydantic import ValidationError

from noria.backends.http.tracking import segment
from noria.domain.paging import Page
from noria.domain.tracking import (
    Experiment,
    LifecycleStage,
    Metric,
    MetricHistory,
    Param,
    Run,
    RunArtifact,
    RunInfo,
    RunInput,
    RunSearch,
    RunStatus,
    ViewType,
)
from noria.errors import InvalidArgument
from noria.wire.metrics import (
    LogBatchRequest,
    MetricBody,
    MetricColumns,
    MetricHistoryBody,
    key_values,
)
from noria.wire.packed_metrics import pack, unpack
from noria.wire.run_json import read_run_page, run_body_json, run_page_json
from noria.wire.tracking import (
    ExperimentBody,
    ExperimentPage,
    RunArtifactBody,
    RunBody,
    RunPage,
    RunSearchBody,
)

T = 1_700_000_000_123
NON_FINITE = [math.nan, math.inf, -math.inf]


def same_floats(left: list[float], right: list[float]) -> bool:
    """Equal element by element, NaN equal to NaN."""
    return len(left) == len(right) and all(
        (math.isnan(a) and math.isnan(b)) or a == b for a, b in zip(left, right, strict=True)
    )


def make_run() -> Run:
    info = RunInfo(
        "a" * 32,
        "7",
        "lucky-fox",
        RunStatus.FINISHED,
        T,
        T + 5,
        LifecycleStage.ACTIVE,
        "ana",
        "b" * 32,
    )
    return Run(
        info=info,
        params={"lr": "0.1", "layers/0 size": "64"},
        metrics={"loss": Metric("loss", math.nan, T, 3), "acc": Metric("acc", -math.inf, T, -2)},
        tags={"mlflow.note": "héllo\nworld"},
        inputs=[RunInput("train", "d" * 8, "s3", "s3://b/k", '{"a": 1}', "{}", "training")],
    )


def test_experiment_and_page_round_trip() -> None:
    experiment = Experiment(
        "7", "credit/risk: v1", "s3://x", LifecycleStage.DELETED, T, T + 1, {"k": "v"}
    )
    body = ExperimentBody.from_domain(experiment)
    assert ExperimentBody.model_validate_json(body.model_dump_json()).to_domain() == experiment
    page = ExperimentPage(experiments=[body], next_page_token="tok")
    assert ExperimentPage.model_validate_json(page.model_dump_json()).to_domain() == Page(
        [experiment], "tok"
    )


def test_run_round_trips_with_non_finite_latest_metrics() -> None:
    run = make_run()
    text = RunBody.from_domain(run).model_dump_json()
    assert '"value":"NaN"' in text and '"value":"-Infinity"' in text
    back = RunBody.model_validate_json(text).to_domain()
    assert back.info == run.info and back.params == run.params and back.tags == run.tags
    assert back.inputs == run.inputs
    assert back.metrics["acc"] == run.metrics["acc"]
    assert math.isnan(back.metrics["loss"].value) and back.metrics["loss"].step == 3
    page = RunPage.model_validate_json(RunPage(runs=[RunBody.from_domain(run)]).model_dump_json())
    assert page.to_domain().items[0].info == run.info


def bare_run() -> Run:
    info = RunInfo("c" * 32, "0", "", RunStatus.RUNNING, T, None, LifecycleStage.DELETED, "u")
    return Run(info=info)


@pytest.mark.parametrize("run", [make_run(), bare_run()], ids=["full", "bare"])
def test_fast_run_json_is_the_models_json(run: Run) -> None:
    assert run_body_json(run) == RunBody.from_domain(run).model_dump_json().encode()
    for token in ("next", None):
        models = RunPage(runs=[RunBody.from_domain(run)] * 2, next_page_token=token)
        text = models.model_dump_json()
        assert run_page_json([run, run], token) == text.encode()
        read = read_run_page(text)
        assert read == RunPage.model_validate_json(text).to_domain()
        assert read.items[0].info == run.info and read.items[0].inputs == run.inputs


def test_fast_page_reading_takes_and_refuses_what_the_models_do() -> None:
    info = {
        **{"id": "a", "experiment_id": "0", "name": "", "status": "RUNNING", "user": "u"},
        **{"start_time": 1, "end_time": None, "lifecycle_stage": "active"},
    }
    point = {"key": "m", "value": "Infinity", "timestamp": 1}  # no step: 0
    minimal = json.dumps({"runs": [{"info": info, "metrics": [point]}]})
    assert read_run_page(minimal) == RunPage.model_validate_json(minimal).to_domain()
    for bad in (
        {"runs": [{"info": {**info, "status": "DONE"}}]},
        {"runs": [{"info": info, "metrics": [{"key": "m", "value": "x", "timestamp": 1}]}]},
        {"runs": [{"info": info, "extra": 1}]},
        {"runs": [], "extra": 1},
    ):
        with pytest.raises(ValidationError):
            RunPage.model_validate_json(json.dumps(bad))
        with pytest.raises(ValidationError):
            read_run_page(json.dumps(bad))


def test_metric_columns_carry_nan_and_infinity_as_strings() -> None:
    values = [1.5, -0.0, *NON_FINITE, 1e308, 5e-324]
    metrics = [Metric(f"m/{i}", value, T + i, i - 2) for i, value in enumerate(values)]
    columns = MetricColumns(
        keys=[m.key for m in metrics],
        values=[m.value for m in metrics],
        timestamps=[m.timestamp for m in metrics],
        steps=[m.step for m in metrics],
    )
    text = LogBatchRequest(metrics=columns).model_dump_json()
    raw = json.loads(text)  # standard JSON: no NaN literal anywhere
    assert raw["metrics"]["values"][2:5] == ["NaN", "Infinity", "-Infinity"]
    back = LogBatchRequest.model_validate_json(text).metrics.to_domain()
    assert [(m.key, m.timestamp, m.step) for m in back] == [
        (m.key, m.timestamp, m.step) for m in metrics
    ]
    assert same_floats([m.value for m in back], values)
    assert math.copysign(1, back[1].value) == -1


def test_integers_are_accepted_as_metric_values() -> None:
    body = MetricBody.model_validate_json('{"key": "k", "value": 3, "timestamp": 1}')
    assert body.value == 3.0 and isinstance(body.value, float)


@pytest.mark.parametrize("bad", ['"1.5"', '"nan"', '"inf"', '"abc"', "true", "null", "[1]"])
def test_metric_values_must_be_numbers(bad: str) -> None:
    text = f'{{"keys": ["k"], "values": [{bad}], "timestamps": [1], "steps": [0]}}'
    with pytest.raises(ValidationError, match=r"values\.0"):
        MetricColumns.model_validate_json(text)
    with pytest.raises(ValidationError, match="value"):
        MetricBody.model_validate_json(f'{{"key": "k", "value": {bad}, "timestamp": 1}}')


@pytest.mark.parametrize("bad", ["1.5", '"3"', "true"])
def test_steps_and_timestamps_must_be_integers(bad: str) -> None:
    text = f'{{"keys": ["k"], "values": [1], "timestamps": [{bad}], "steps": [{bad}]}}'
    with pytest.raises(ValidationError, match="timestamps"):
        MetricColumns.model_validate_json(text)


def test_metric_columns_must_have_equal_lengths() -> None:
    text = '{"keys": ["a", "b"], "values": [1], "timestamps": [1, 2], "steps": [0, 0]}'
    with pytest.raises(ValidationError, match="one entry per point; got 2, 1, 2, 2"):
        MetricColumns.model_validate_json(text)


def test_unknown_fields_are_refused() -> None:
    with pytest.raises(ValidationError, match="extra"):
        LogBatchRequest.model_validate_json('{"metrics": {}, "metricz": []}')


def test_history_round_trip() -> None:
    history = MetricHistory("loss", [0, 1, 2, 2], [T, T, T + 1, T + 2], [0.5, *NON_FINITE])
    text = MetricHistoryBody.from_domain(history).model_dump_json()
    back = MetricHistoryBody.model_validate_json(text).to_domain()
    assert (back.key, back.steps, back.timestamps) == (
        history.key,
        history.steps,
        history.timestamps,
    )
    assert same_floats(back.values, history.values)


def test_search_and_artifact_round_trip() -> None:
    search = RunSearch(
        ("1", "2"), "metrics.loss < 0.5", ("metrics.loss ASC",), ViewType.ALL, 7, "t"
    )
    body = RunSearchBody.from_domain(search)
    assert RunSearchBody.model_validate_json(body.model_dump_json()).to_domain() == search
    artifact = RunArtifact("plots/a b.png", "sha256:" + "0" * 64, 12, "image/png")
    text = RunArtifactBody.from_domain(artifact).model_dump_json()
    assert RunArtifactBody.model_validate_json(text).to_domain() == artifact


@pytest.mark.parametrize("value", ["a/b", ".", "..", "a/../b", "x y:z", "%2F", "ü"])
def test_path_segments_survive_url_normalisation(value: str) -> None:
    url = httpx.URL(f"http://host/api/v1/runs/r/tags/{segment(value)}/x")
    assert url.path == f"/api/v1/runs/r/tags/{value}/x"
    assert unquote(url.raw_path.decode().split("/")[6]) == value


def test_packed_columns_convert_numbers_as_the_stores_do() -> None:
    metrics = [Metric("a", Fraction(1, 2), T, 0), Metric("b", 2.0, T, 1)]  # type: ignore[arg-type]
    batch = unpack(pack(b"{}", metrics))[1]
    assert (batch.keys, batch.values) == (["a", "b"], [0.5, 2.0])
    assert (batch.timestamps, batch.steps) == ([T, T], [0, 1])
    assert key_values([Param("lr", 0.1), Param("n", "3")]) == [  # type: ignore[arg-type]
        {"key": "lr", "value": "0.1"},
        {"key": "n", "value": "3"},
    ]


@pytest.mark.parametrize(
    ("metric", "message"),
    [
        (Metric("m", "1.5", T), "must be numbers"),  # type: ignore[arg-type]
        (Metric("m", True, T), "must be numbers"),
        (Metric("m", 1.0, T, 2**63), "step"),
        (Metric("m", 1.0, 1.5, 0), "timestamp 1.5"),  # type: ignore[arg-type]
    ],
)
def test_packed_columns_refuse_what_the_stores_refuse(metric: Metric, message: str) -> None:
    with pytest.raises(InvalidArgument, match=message):
        pack(b"{}", [metric])
