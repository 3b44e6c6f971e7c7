"""``noria serve``'s options reach the configuration its worker processes are built from."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from typer.testing import CliRunner

from noria.cli.main import app
from noria.models.format import save_model
from noria.serving.factory import LAUNCH_VARIABLE, _Launch


@pytest.fixture
def model_dir(tmp_path: Path) -> Path:
    frame = pd.DataFrame({"a": [0.0, 1.0, 2.0, 3.0], "b": [1.0, 0.0, 1.0, 0.0]})
    model = LogisticRegression().fit(frame, [0, 0, 1, 1])
    save_model(model, tmp_path / "tiny", input_example=frame.head(2))
    return tmp_path / "tiny"


def _launch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *options: str) -> _Launch:
    """Run ``noria serve --workers 2`` with uvicorn (outside our control) replaced by a
    recorder, and read back the launch description the workers would get."""
    import uvicorn

    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(uvicorn, "run", lambda target, **kwargs: calls.append(kwargs))
    monkeypatch.setenv(LAUNCH_VARIABLE, "")  # restored after the test: serve sets it
    result = CliRunner().invoke(
        app, ["--home", str(tmp_path / "home"), "serve", "--workers", "2", *options]
    )
    assert result.exit_code == 0, result.output
    assert calls and calls[0]["workers"] == 2
    return _Launch.model_validate_json(os.environ[LAUNCH_VARIABLE])


def test_serving_options_reach_the_workers(
    model_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    launch = _launch(
        tmp_path,
        monkeypatch,
        f"tiny={model_dir}",
        "--max-batch-size", "8", "--max-wait-ms", "1.5", "--inline-max-ms", "0", "--proba",
    )  # fmt: skip
    (model,) = launch.config.models
    assert model.proba
    assert model.served_name == "tiny"
    assert model.batching.max_batch_size == 8
    assert model.batching.max_wait_ms == 1.5
    assert model.batching.inline_max_ms == 0


def test_inline_prediction_is_on_by_default(
    model_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (model,) = _launch(tmp_path, monkeypatch, str(model_dir)).config.models
    assert model.batching.inline_max_ms == 2.0
    assert not model.proba


def test_a_negative_inline_limit_is_refused(model_dir: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["--home", str(tmp_path / "home"), "serve", str(model_dir), "--inline-max-ms", "-1"]
    )
    assert result.exit_code == 2
    assert "--inline-max-ms" in result.output
