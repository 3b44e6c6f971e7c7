"""Shared fixtures. Services that CI must really exercise fail there when missing."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from noria.settings import Settings

POSTGRES_URI = os.environ.get(
    "NORIA_TEST_POSTGRES_URI", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def require_service(name: str, problem: str) -> None:
    """Fail under CI (the service must be there); skip with the reason elsewhere."""
    message = f"{name} is not reachable ({problem})"
    if _in_ci():
        pytest.fail(f"{message}; CI=true requires it.", pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def postgres_server_uri() -> str:
    try:
        import psycopg
    except ImportError as exc:
        require_service("PostgreSQL", f"psycopg is not installed: {exc}")
    plain = POSTGRES_URI.replace("postgresql+psycopg://", "postgresql://")
    try:
        with psycopg.connect(plain, connect_timeout=3) as conn:
            conn.execute("SELECT 1")
    except psycopg.OperationalError as exc:
        require_service("PostgreSQL", str(exc).strip().splitlines()[0])
    return POSTGRES_URI


@pytest.fixture
def postgres_uri(postgres_server_uri: str) -> Iterator[str]:
    """A store URI whose tables live in a fresh PostgreSQL schema, dropped afterwards."""
    import psycopg

    schema = f"noria_test_{uuid.uuid4().hex[:12]}"
    plain = postgres_server_uri.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield f"{postgres_server_uri}?options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(plain, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings rooted in a temporary NORIA_HOME, untouched by the caller's environment."""
    return Settings(home=tmp_path / "home", user="tester")


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for key in list(os.environ):
        if key.startswith("NORIA_") and key != "NORIA_TEST_POSTGRES_URI":
            monkeypatch.delenv(key)
    monkeypatch.setenv("NORIA_CONFIG", str(tmp_path / "absent-noria.toml"))


@dataclass(frozen=True)
class RunningServer:
    url: str
    home: Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wait_healthy(url: str, process: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"noria server exited early with code {process.returncode}")
        try:
            if httpx.get(f"{url}/health", timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError(f"noria server at {url} did not become healthy in {timeout} s")


@contextmanager
def running_server(home: Path, *extra_args: str) -> Iterator[RunningServer]:
    """A real `noria server` process on a free loopback port, stopped afterwards."""
    port = free_port()
    command = [sys.executable, "-m", "noria.cli.main", "--home", str(home), "server"]
    command += ["--port", str(port), "--log-level", "warning", *extra_args]
    env = {key: value for key, value in os.environ.items() if not key.startswith("NORIA_")}
    process = subprocess.Popen(command, env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, process)
        yield RunningServer(url=url, home=home)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="module")
def noria_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    with running_server(tmp_path_factory.mktemp("server-home")) as server:
        yield server
