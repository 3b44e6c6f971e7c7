"""`noria models package`: the container build context, and `--verify` in a fresh virtualenv."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

import noria
from noria.client import connect
from noria.errors import InvalidArgument, NotFound
from noria.models.format import save_model
from noria.packaging.compare import first_difference
from noria.packaging.dockerfile import ImageSpec, dockerfile_text
from noria.packaging.example_request import as_answer_rows, example_body
from noria.packaging.image_commands import read_image_commands
from noria.packaging.lock import lock_requirements
from noria.packaging.server_check import ServerFailed, predict_through_server
from noria.packaging.steps import StepFailed, StepTiming, run_step
from noria.packaging.verify import verify_package
from noria.settings import Settings
from tests.integration.test_cli import Result, assert_one_line_error
from tests.integration.test_cli import noria as noria_cli

PACKAGE_FILES = {
    ".dockerignore", "Dockerfile", "README.md", "model", "noria-package.json",
    "requirements.lock", "wheels",
}  # fmt: skip
VERIFY_STEPS = [
    "predict in this process",
    "create a fresh virtual environment",
    "install Noria from wheels/",
    "install requirements.lock",
    "start noria serve (the image's command)",
    "run the image's health check",
    "predict through the server",
    "stop the server (SIGTERM)",
]


def noria_slow(home: Path, *args: str) -> Result:
    """Like test_cli.noria, with room for building a wheel and installing a virtualenv."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("NORIA_")}
    env["NORIA_HOME"] = str(home)
    done = subprocess.run(
        [sys.executable, "-m", "noria.cli.main", *args],
        capture_output=True, text=True, env=env, timeout=840, check=False,
    )  # fmt: skip
    return Result(done.returncode, done.stdout, done.stderr)


@pytest.fixture
def logged(tmp_path: Path) -> tuple[Path, str, LogisticRegression, pd.DataFrame]:
    """A home holding an iris classifier logged with noria.log_model, and the model."""
    home = tmp_path / "home"
    frame = load_iris(as_frame=True).frame
    features = frame.drop(columns=["target"])
    model = LogisticRegression(max_iter=500).fit(features, frame["target"])
    with connect(Settings(home=home, user="ana")) as client:
        previous = noria.set_default_client(client)
        try:
            with noria.start_run(experiment="iris"):
                uri = noria.log_model(model, "model", input_example=features.head(5))
        finally:
            noria.set_default_client(previous)
    return home, uri, model, features.head(5)


def lock_pins(path: Path) -> dict[str, str]:
    pins = {}
    for line in path.read_text().splitlines():
        if line.startswith("#"):
            continue
        match = re.fullmatch(r"([a-z0-9-]+)==(\S+)  # (model|noria|model, noria)", line)
        assert match, f"not an exact pin: {line!r}"
        pins[match[1]] = match[2]
    return pins


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_package_then_verify_in_a_fresh_virtualenv(
    logged: tuple[Path, str, LogisticRegression, pd.DataFrame], tmp_path: Path
) -> None:
    home, uri, model, example = logged
    out = tmp_path / "package"
    result = noria_slow(home, "models", "package", uri, "--out", str(out), "--verify", "--json")
    assert result.code == 0, result.err
    report = result.json()

    assert {path.name for path in out.iterdir()} == PACKAGE_FILES
    dockerfile = (out / "Dockerfile").read_text().splitlines()
    python = f"{sys.version_info.major}.{sys.version_info.minor}"
    assert f"FROM python:{python}-slim" in dockerfile
    assert report["package"]["base_image"] == f"python:{python}-slim"
    install = next(i for i, line in enumerate(dockerfile) if "requirements.lock \\" in line)
    assert dockerfile.index("USER noria") > install  # installs as root, serves as noria
    assert any(line.startswith("HEALTHCHECK ") for line in dockerfile)
    assert "'http://127.0.0.1:8080/health/ready'" in "\n".join(dockerfile)
    assert 'ENTRYPOINT ["noria", "serve", "/app/model"]' in dockerfile
    assert "EXPOSE 8080" in dockerfile
    assert "    NORIA_HOME=/var/lib/noria" in dockerfile  # the prediction log, writable by noria

    pins = lock_pins(out / "requirements.lock")
    for name in ("scikit-learn", "numpy", "pandas", "pydantic", "sqlalchemy", "scipy"):
        assert pins[name] == metadata.version(name), name
    assert pins["noria"] == noria.__version__
    assert pins == report["package"]["requirements"]
    assert (out / "wheels" / f"noria-{noria.__version__}-py3-none-any.whl").is_file()
    assert (out / "model" / "noria-model.yaml").is_file()
    readme = (out / "README.md").read_text()
    assert "| `petal width (cm)` | float64 | no |" in readme
    assert "docker build -t" in readme

    verify = report["verify"]
    assert (verify["ok"], verify["problem"], verify["comparison"]) == (True, None, "exact")
    assert [step["name"] for step in verify["steps"]] == VERIFY_STEPS
    assert verify["warnings"] == [] and verify["server_log"] == []
    # The server in the fresh environment answered the input example as the model does here.
    assert verify["actual"] == {"predict": model.predict(example).tolist()}
    assert verify["actual"] == verify["expected"]

    # Packaging again into the same folder replaces the previous package.
    wheel = shutil.copy2(out / "wheels" / f"noria-{noria.__version__}-py3-none-any.whl", tmp_path)
    again = noria_slow(home, "models", "package", uri, "--out", str(out), "--noria-wheel",
                       str(wheel), "--json")  # fmt: skip
    assert again.code == 0, again.err
    assert again.json()["package"]["replaced_previous"] is True
    assert {path.name for path in out.iterdir()} == PACKAGE_FILES
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_package_refuses_a_bad_uri(tmp_path: Path) -> None:
    out = tmp_path / "package"
    result = noria_cli(tmp_path / "home", "models", "package", "models:/iris@", "--out", str(out))
    assert_one_line_error(result, "Invalid URI 'models:/iris@'")
    assert not out.exists()


def test_package_refuses_a_folder_holding_something_else(
    logged: tuple[Path, str, Any, Any], tmp_path: Path
) -> None:
    home, uri, _, _ = logged
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    result = noria_cli(home, "models", "package", uri, "--out", str(out))
    assert_one_line_error(result, f"--out {out} is not empty", "noria-package.json is missing")
    assert [path.name for path in out.iterdir()] == ["notes.txt"]

    not_a_wheel = tmp_path / "noria.zip"
    not_a_wheel.write_text("")
    result = noria_cli(home, "models", "package", uri, "--out", str(tmp_path / "new"),
                       "--noria-wheel", str(not_a_wheel))  # fmt: skip
    assert_one_line_error(result, "is not a Noria wheel")
    assert not (tmp_path / "new").exists()


def test_verify_refuses_a_folder_that_is_no_package(tmp_path: Path) -> None:
    with pytest.raises(NotFound, match="is not a Noria package"):
        verify_package(tmp_path)


def test_a_failing_pip_is_reported_by_its_last_error_line(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "pip", "install", "--no-index", "--dry-run",
               "--find-links", str(tmp_path), "noria-no-such-package==1.0"]  # fmt: skip
    with pytest.raises(StepFailed) as failure:
        run_step("install requirements.lock", command)
    message = failure.value.message
    assert message.startswith("install requirements.lock failed (exit 1): ERROR: ")
    assert "noria-no-such-package==1.0" in message and "\n" not in message
    assert failure.value.timing.ok is False


def test_predictions_are_compared_exactly_or_within_the_tolerance() -> None:
    here = {"predict": [0, 1], "predict_proba": [[0.25, 0.75], [0.5, float("nan")]]}
    same = json.loads(json.dumps(here))
    assert first_difference(here, same, exact=True) is None
    nudged = {"predict": [0, 1], "predict_proba": [[0.25, 0.75], [0.5 + 1e-12, float("nan")]]}
    assert first_difference(here, nudged, exact=False) is None
    assert first_difference(here, nudged, exact=True) == (
        "predict_proba[1][0]: the fresh environment gave 0.500000000001, this process gave 0.5"
    )
    assert first_difference(here, {**here, "predict": [0, 2]}, exact=False) == (
        "predict[1]: the fresh environment gave 2, this process gave 1"
    )
    assert "the length of predict" in str(first_difference(here, {**here, "predict": [0]},
                                                           exact=True))  # fmt: skip


def test_the_lock_keeps_the_models_pins_and_says_where_they_differ() -> None:
    lock = lock_requirements({"Scikit_Learn": "0.0.1", "numpy": metadata.version("numpy")},
                             noria_version="9.9.9")  # fmt: skip
    pins = lock.pins()
    assert (pins["scikit-learn"], pins["noria"]) == ("0.0.1", "9.9.9")
    assert pins["threadpoolctl"] == metadata.version("threadpoolctl")  # scikit-learn's need
    assert pins["pydantic"] == metadata.version("pydantic")  # Noria's need
    assert lock.notes == (
        f"scikit-learn: the model was saved with 0.0.1, {metadata.version('scikit-learn')} is "
        "installed here; the lock keeps the model's 0.0.1",
    )


def test_the_base_image_follows_the_models_python() -> None:
    spec = ImageSpec(python_version="3.12.4", noria_version="0.1.0", model_uri="m", flavor="x")
    assert "FROM python:3.12-slim\n" in dockerfile_text(spec)
    with pytest.raises(InvalidArgument, match="is not a version like"):
        _ = ImageSpec(
            python_version="cpython", noria_version="0", model_uri="m", flavor="x"
        ).base_image


def image_folder(tmp_path: Path, model: Any, example: Any) -> Path:
    """A package's Dockerfile and model/ (all the server check reads), without the lock."""
    out = tmp_path / "package"
    save_model(model, out / "model", input_example=example)
    spec = ImageSpec(python_version="3.11.7", noria_version="0.1.0", model_uri="m", flavor="x")
    (out / "Dockerfile").write_text(dockerfile_text(spec))
    return out


def test_the_images_command_serves_the_example_from_an_environment(tmp_path: Path) -> None:
    frame = load_iris(as_frame=True).frame
    features = frame.drop(columns=["target"])
    model = LogisticRegression(max_iter=500).fit(features, frame["target"])
    out = image_folder(tmp_path, model, features.head(3))
    steps: list[StepTiming] = []
    body = example_body(features.head(3))
    answer = predict_through_server(
        out, Path(sys.executable).parent, tmp_path, body, steps, env=dict(os.environ)
    )
    assert answer == model.predict(features.head(3)).tolist()
    assert [step.name for step in steps] == VERIFY_STEPS[4:]
    assert all(step.ok for step in steps)
    assert as_answer_rows({"columns": ["a", "b"], "data": [[1, float("nan")]]}) == [
        {"a": 1, "b": None}
    ]


def test_a_server_that_cannot_start_is_shown_by_its_last_log_lines(tmp_path: Path) -> None:
    out = image_folder(tmp_path, LogisticRegression().fit([[0.0], [1.0]], [0, 1]), [[0.5]])
    manifest = out / "model" / "noria-model.yaml"
    manifest.write_text(manifest.read_text().replace("flavor: sklearn", "flavor: [broken"))
    steps: list[StepTiming] = []
    with pytest.raises(ServerFailed) as failure:
        predict_through_server(out, Path(sys.executable).parent, tmp_path, {}, steps,
                               env=dict(os.environ))  # fmt: skip
    assert re.match(
        r"start noria serve \(the image's command\) failed: the server exited with code \d+ "
        r"before it was ready; the server's last log lines:\n",
        failure.value.message,
    )
    assert any("noria-model.yaml" in line for line in failure.value.log)
    assert failure.value.timing.ok is False and steps == []


def test_the_dockerfile_must_run_noria_serve_in_exec_form(tmp_path: Path) -> None:
    spec = ImageSpec(python_version="3.11.7", noria_version="0.1.0", model_uri="m", flavor="x")
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text(dockerfile_text(spec))
    commands = read_image_commands(dockerfile)
    assert commands.server_command(bin_dir=Path("/v/bin"), model_dir=Path("/p/model"),
                                   port=5) == [
        "/v/bin/noria", "serve", "/p/model", "--host", "127.0.0.1", "--port", "5"
    ]  # fmt: skip
    health = commands.health_command(bin_dir=Path("/v/bin"), port=5)
    assert health[0] == "/v/bin/python" and "http://127.0.0.1:5/health/ready" in health[-1]
    dockerfile.write_text(dockerfile_text(spec).replace('CMD ["--host"', "CMD --host ["))
    with pytest.raises(InvalidArgument, match=r"CMD '--host .* is not in exec form"):
        read_image_commands(dockerfile)
