"""MLflow's logged-model endpoints, as far as a server without them must answer.

MLflow 3's client looks for a logged model named like the first folder of an artifact
path whenever it lists or downloads run artifacts. Noria records no MLflow logged models
yet (the model registry will), so every search is answered with none.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from noria.server.mlflow import messages

router = APIRouter(prefix="/logged-models", tags=["mlflow"])


@router.post("/search")
def search_logged_models(body: messages.SearchLoggedModels) -> dict[str, Any]:
    return {"models": []}
