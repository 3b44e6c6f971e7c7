"""The REST API itself: routes, error bodies, streaming, OpenAPI."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator

import httpx
import pytest

from noria import __version__
from tests.conftest import RunningServer

pytestmark = pytest.mark.slow


@pytest.fixture
def http(noria_server: RunningServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=noria_server.url, timeout=30) as client:
        yield client


def assert_error(response: httpx.Response, status: int, code: str, *fragments: str) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error_code", "message"}
    assert body["error_code"] == code
    for fragment in fragments:
        assert fragment in body["message"]


def test_health_version_and_openapi(http: httpx.Client) -> None:
    assert http.get("/health").json() == {"status": "ok"}
    version = http.get("/api/v1/version").json()
    assert version["noria_version"] == __version__
    assert version["schema_state"]["status"] == "current"
    spec = http.get("/openapi.json").json()
    for path in ("/api/v1/lineage", "/api/v1/audit/events", "/api/v1/artifacts/{digest}"):
        assert path in spec["paths"]
    # Two wire models of one name get module-qualified schema names (noria__wire__x__Y),
    # which generated clients turn into odd class names: every name is plain.
    schemas = spec["components"]["schemas"]
    assert not [name for name in schemas if "__" in name]
    assert {"DatasetVersionBody", "ModelVersionBody", "ServerVersionBody"} <= set(schemas)


def test_errors_have_one_shape(http: httpx.Client) -> None:
    assert_error(http.get("/api/v1/nothing-here"), 404, "NOT_FOUND", "/api/v1/nothing-here")
    assert_error(
        http.get("/api/v1/lineage", params={"entity": "models:/m/1", "depth": 500}),
        400,
        "INVALID_ARGUMENT",
        "depth",
        "500",
    )
    assert_error(
        http.get("/api/v1/lineage", params={"entity": "models:/m@prod"}),
        400,
        "INVALID_URI",
        "alias",
    )
    assert_error(
        http.post("/api/v1/lineage/edges", json={"edges": [{"upstream": 1}]}),
        400,
        "INVALID_ARGUMENT",
    )
    assert_error(http.get("/api/v1/artifacts/sha256:1234"), 400, "INVALID_ARGUMENT", "'1234'")
    missing = "sha256:" + "0" * 64
    assert_error(http.get(f"/api/v1/artifacts/{missing}"), 404, "NOT_FOUND")
    assert_error(
        http.get("/api/v1/audit/events", params={"page_token": "abc"}),
        400,
        "INVALID_ARGUMENT",
        "'abc'",
    )


def test_upload_then_download_streams_and_verifies(http: httpx.Client) -> None:
    payload = os.urandom(3 * 1024 * 1024 + 17)
    digest = hashlib.sha256(payload).hexdigest()

    def chunks() -> Iterator[bytes]:
        for start in range(0, len(payload), 65536):
            yield payload[start : start + 65536]

    created = http.post("/api/v1/artifacts", content=chunks(), headers={"content-type": "x/y"})
    assert created.status_code == 201, created.text
    assert created.json() == {
        "digest": f"sha256:{digest}",
        "size": len(payload),
        "media_type": "x/y",
    }
    with http.stream("GET", f"/api/v1/artifacts/sha256:{digest}") as response:
        assert response.status_code == 200
        received = b"".join(response.iter_bytes())
    assert received == payload


def test_a_content_key_must_match_its_bytes(http: httpx.Client) -> None:
    digest = hashlib.sha256(b"right").hexdigest()
    key = f"sha256/{digest[:2]}/{digest[2:4]}/{digest}"
    assert_error(http.put(f"/api/v1/blobs/{key}", content=b"wrong"), 400, "INVALID_ARGUMENT")
    assert http.head(f"/api/v1/blobs/{key}").status_code == 404
    assert http.put(f"/api/v1/blobs/{key}", content=b"right").status_code == 200
    assert http.head(f"/api/v1/blobs/{key}").status_code == 200


def test_audit_events_cannot_carry_their_own_seq(http: httpx.Client) -> None:
    event = {
        "seq": 7,
        "actor": "mallory",
        "action": "store.created",
        "entity": {"kind": "store", "key": "metadata"},
        "occurred_at": "2026-11-23T18:00:00+00:00",
    }
    assert_error(http.post("/api/v1/audit/events", json=event), 400, "INVALID_ARGUMENT", "seq")
    event.pop("seq")
    event["occurred_at"] = "2026-11-23T18:00:00"
    assert_error(http.post("/api/v1/audit/events", json=event), 400, "INVALID_ARGUMENT", "timezone")
