"""Shared fixtures. Services that CI must really exercise fail there when missing."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

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
