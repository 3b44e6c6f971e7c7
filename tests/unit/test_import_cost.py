"""`import noria` must stay cheap: no heavy library may load with it."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = (
    "sqlalchemy",
    "alembic",
    "fastapi",
    "starlette",
    "uvicorn",
    "pydantic",
    "pydantic_settings",
    "httpx",
    "fsspec",
    "typer",
    "rich",
    "pandas",
    "numpy",
    "pyarrow",
    "sklearn",
    "ray",
    "psycopg",
)


def _modules_after(statement: str) -> list[str]:
    code = f"import json, sys; {statement}; print(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    loaded: list[str] = json.loads(out.stdout)
    return loaded


def test_import_noria_loads_no_heavy_module() -> None:
    loaded = _modules_after("import noria")
    offenders = sorted({name.split(".")[0] for name in loaded} & set(HEAVY))
    assert offenders == [], f"`import noria` pulled in {offenders}"


def test_public_names_resolve_lazily() -> None:
    loaded = _modules_after("import noria; noria.EntityRef; noria.parse_uri")
    assert "noria.domain.uris" in loaded
    assert "sqlalchemy" not in loaded
