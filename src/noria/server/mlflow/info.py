"""``/api/3.0/mlflow/server-info``: what MLflow's client asks a server before some calls."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

router = APIRouter(tags=["mlflow"])


@router.get("/api/3.0/mlflow/server-info")
def server_info() -> dict[str, Any]:
    """Capabilities the client checks; every optional feature is off, so the client uses
    plain proxied uploads and downloads and sends no workspace header."""
    return {
        "store_type": "NoriaStore",
        "workspaces_enabled": False,
        "trace_archival_enabled": False,
        "multipart_uploads_enabled": False,
        "multipart_downloads_enabled": False,
        "presigned_upload_run_id_supported": False,
        "presigned_upload_model_id_supported": False,
        "features_enabled": {"gateway": False},
    }
