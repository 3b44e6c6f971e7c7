"""Naming the Ray executor: the spec forms, and the errors for bad ones or a missing Ray."""

from __future__ import annotations

import sys

import pytest

from noria.backends.executors.ray import RayTarget, parse_ray_spec
from noria.backends.schemes import executor_for
from noria.errors import InvalidArgument, Unsupported
from noria.settings import Settings


@pytest.mark.parametrize(
    ("spec", "target"),
    [
        ("ray", RayTarget("ray", None)),
        ("RAY", RayTarget("ray", None)),
        ("ray:local", RayTarget("ray:local", "local", start_cpus=3)),
        ("ray:auto", RayTarget("ray:auto", "auto")),
        ("ray:10.0.0.5:6379", RayTarget("ray:10.0.0.5:6379", "10.0.0.5:6379")),
        (
            "ray://head.example:10001",
            RayTarget("ray://head.example:10001", "ray://head.example:10001"),
        ),
    ],
)
def test_spec_forms(spec: str, target: RayTarget) -> None:
    assert parse_ray_spec(spec, max_workers=3 if target.start_cpus else None) == target


@pytest.mark.parametrize("spec", ["ray:", "ray:head", "ray:head:port", "ray://head", "rayon"])
def test_a_malformed_spec_names_the_forms(spec: str) -> None:
    with pytest.raises(InvalidArgument, match=r"ray:HOST:PORT .* ray://HOST:PORT"):
        parse_ray_spec(spec)


def test_executor_for_builds_it_without_connecting(settings: Settings) -> None:
    # Nothing listens on port 1: building and closing it must not try to connect.
    executor = executor_for("ray:127.0.0.1:1", settings, max_workers=2)
    assert (executor.name, executor.in_process) == ("ray:127.0.0.1:1", False)
    executor.close()


def test_max_workers_must_be_positive(settings: Settings) -> None:
    with pytest.raises(InvalidArgument, match="max_workers=0 must be at least 1"):
        executor_for("ray", settings, max_workers=0)


def test_a_missing_ray_says_what_to_install(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # how Python marks a module as absent
    with pytest.raises(Unsupported) as raised:
        executor_for("ray", settings)
    assert raised.value.message == (
        "Executor 'ray' needs Ray, which is not installed: pip install 'noria[ray]'."
    )
