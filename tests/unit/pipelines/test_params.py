"""Pipeline parameters: typed, from defaults, a YAML config, run() and --param."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import noria
from noria.errors import NotFound
from noria.pipelines.params import resolve_params


@noria.step
def use(value: Any) -> int:
    return 1


@noria.pipeline
def typed(  # type: ignore[no-untyped-def]  # `anything` is untyped on purpose: parsed as JSON
    *,
    lr: float = 0.1,
    epochs: int = 3,
    layers: list[int] | None = None,
    name: str = "base",
    fast: bool = False,
    anything=None,
) -> None:
    use(lr)


def resolve(**kwargs: Any) -> dict[str, Any]:
    values, problems = resolve_params(typed, params=kwargs.pop("params", {}), **kwargs)
    assert problems == []
    return values


def test_defaults_apply() -> None:
    assert resolve() == {
        "lr": 0.1,
        "epochs": 3,
        "layers": None,
        "name": "base",
        "fast": False,
        "anything": None,
    }


def test_cli_strings_are_parsed_to_each_parameters_type() -> None:
    values = resolve(
        cli_params=[
            "lr=0.5",
            "epochs=10",
            "layers=[64, 32]",
            "name=42",
            "fast=yes",
            'anything={"a": 1}',
        ]
    )
    assert values == {
        "lr": 0.5,
        "epochs": 10,
        "layers": [64, 32],
        "name": "42",
        "fast": True,
        "anything": {"a": 1},
    }
    assert resolve(cli_params=["anything=plain text", "layers=null"])["anything"] == "plain text"


def test_precedence_is_config_then_run_then_cli(tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    config.write_text("params:\n  lr: 0.2\n  epochs: 5\n  name: from-config\n")
    values = resolve(
        config=config, params={"epochs": 7, "name": "from-run"}, cli_params=["name=cli"]
    )
    assert (values["lr"], values["epochs"], values["name"]) == (0.2, 7, "cli")


def test_config_file_problems(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("params:\n  lr: [1,\n")
    _, problems = resolve_params(typed, params={}, config=broken)
    assert len(problems) == 1 and str(problems[0]).startswith(f"{broken}:")
    assert "not valid YAML" in str(problems[0])
    shapeless = tmp_path / "shapeless.yaml"
    shapeless.write_text("lr: 0.1\n")
    _, problems = resolve_params(typed, params={}, config=shapeless)
    assert "a config file holds one mapping, params:" in str(problems[0])
    with pytest.raises(NotFound, match="does not exist"):
        resolve_params(typed, params={}, config=tmp_path / "missing.yaml")


def test_a_param_without_equals_is_a_problem() -> None:
    _, problems = resolve_params(typed, params={}, cli_params=["lr"])
    assert "--param 'lr' is not NAME=VALUE" in str(problems[0])
