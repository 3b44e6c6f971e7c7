"""`--proba`: a classifier answers with its class probabilities too, the prediction log keeps
them, and labelled rows then give probability metrics (ROC AUC) to monitors and promotion."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LinearRegression, LogisticRegression

import noria
from noria.client import connect
from noria.monitoring.performance import performance_figures
from noria.predictions.feedback import read_feedback
from noria.predictions.join import join_feedback
from noria.predictions.log import read_predictions
from noria.serving import ServedModelConfig, ServingConfig, create_serving_app
from noria.serving.config import PredictionLogConfig
from noria.serving.errors import ModelFailed
from noria.serving.loading import load_served_model, resolve_sources
from noria.settings import Settings
from tests.conftest import free_port
from tests.integration.test_serving import serving

pytestmark = pytest.mark.slow


def frame(rows: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"x": rng.normal(size=rows), "z": rng.normal(size=rows)})


TRAIN = frame(400, seed=1)
CLASSIFIER = LogisticRegression().fit(TRAIN, (TRAIN["x"] + 0.3 * TRAIN["z"] > 0).astype(int))


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    settings = Settings(home=tmp_path_factory.mktemp("proba") / "home", user="tester")
    regressor = LinearRegression().fit(TRAIN, TRAIN["x"] * 2)
    with connect(settings) as client:
        previous = noria.set_default_client(client)
        try:
            with noria.start_run(experiment="proba"):
                for name, model in (("clf", CLASSIFIER), ("reg", regressor)):
                    noria.log_model(
                        model, name, input_example=TRAIN.head(3), registered_model_name=name
                    )
        finally:
            noria.set_default_client(previous)
    return settings


@pytest.fixture(scope="module")
def url(settings: Settings) -> Iterator[str]:
    config = ServingConfig(
        models=(ServedModelConfig(uri="models:/clf/1", proba=True),),
        prediction_log=PredictionLogConfig(max_age_s=0.2),
    )
    with serving(create_serving_app(config, settings=settings)) as address:
        yield address


def test_every_protocol_answers_prediction_and_probabilities(url: str) -> None:
    rows = frame(3, seed=5)
    want_labels = CLASSIFIER.predict(rows).tolist()
    want_proba = CLASSIFIER.predict_proba(rows).tolist()
    native = httpx.post(f"{url}/v1/models/clf/predict", json={"records": rows.to_dict("records")})
    assert native.status_code == 200, native.text
    answers = native.json()["predictions"]
    assert [a["prediction"] for a in answers] == want_labels
    assert np.allclose([a["proba"] for a in answers], want_proba)
    v2 = httpx.post(
        f"{url}/v2/models/clf/infer",
        json={"inputs": [
            {"name": name, "shape": [3], "datatype": "FP64", "data": rows[name].tolist()}
            for name in ("x", "z")
        ]},
    )  # fmt: skip
    outputs = {output["name"]: output for output in v2.json()["outputs"]}
    assert outputs["proba"]["shape"] == [3, 2]
    assert outputs["proba"]["data"] == pytest.approx([p for row in want_proba for p in row])


def test_logged_probabilities_give_roc_auc_on_labelled_rows(url: str, settings: Settings) -> None:
    rows = frame(120, seed=9)
    truth = (rows["x"] + 0.3 * rows["z"] > 0).astype(int).tolist()
    answer = httpx.post(f"{url}/v1/models/clf/predict", json={"records": rows.to_dict("records")})
    request_id = answer.json()["request_id"]
    labels = [{"request_id": request_id, "row": i, "label": y} for i, y in enumerate(truth)]
    assert httpx.post(f"{url}/v1/feedback", json={"labels": labels}).status_code == 202
    deadline = time.monotonic() + 30
    with connect(settings) as client:
        while True:
            logged = read_predictions(client, model="clf")
            joined = join_feedback(logged, read_feedback(client))
            if joined.num_rows >= 120 or time.monotonic() > deadline:
                break
            time.sleep(0.2)
    assert joined.num_rows == 120
    assert joined["proba"].to_pylist()[0] == pytest.approx(answer.json()["predictions"][0]["proba"])
    figures, notes = performance_figures(joined, "classification")
    assert notes == []
    assert figures["performance.roc_auc"] > 0.95


def test_a_model_without_probabilities_is_refused_at_warm_up(settings: Settings) -> None:
    config = ServedModelConfig(uri="models:/reg/1", proba=True)
    (source,) = resolve_sources([config], settings)
    with pytest.raises(ModelFailed, match="gives no class probabilities"):
        load_served_model(source, warm_up=True)


def test_noria_serve_tells_a_failed_start_in_one_line(settings: Settings) -> None:
    env = {key: value for key, value in os.environ.items() if not key.startswith("NORIA_")}
    command = [sys.executable, "-m", "noria.cli.main", "--home", str(settings.home), "serve",
               "models:/reg/1", "--proba", "--port", str(free_port())]  # fmt: skip
    result = subprocess.run(
        command, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("ERROR:")]
    assert errors[0].endswith("the model cannot serve"), result.stderr
    assert "gives no class probabilities" in errors[0] and "without --proba" in errors[0]
    assert errors[1:] == ["ERROR:    Application startup failed. Exiting."]
