"""``POST /v1/feedback``: ground-truth labels for answered requests, by request id.

The labels go to the feedback log (:class:`~noria.predictions.feedback.FeedbackLog`)
beside the prediction log, where :func:`~noria.predictions.join.join_feedback` joins them
back to the predictions. The whole body is checked first and every bad entry listed (422); a
feedback queue that stays full answers 503, storing nothing, so the sender retries.
"""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from noria.errors import InvalidArgument, NotFound
from noria.predictions.feedback import Label, labels_from_body, to_label
from noria.serving.calls import read_body, require_json, serving_state
from noria.serving.errors import FeedbackRejected, Problem
from noria.serving.json_response import JsonResponse
from noria.serving.payloads import parse_json

router = APIRouter()

_LABEL = {
    "type": "object",
    "required": ["request_id", "label"],
    "properties": {
        "request_id": {"type": "string", "minLength": 1, "maxLength": 200},
        "row": {"type": "integer", "minimum": 0},
        "label": {"oneOf": [{"type": "string"}, {"type": "number"}, {"type": "boolean"}]},
    },
    "additionalProperties": False,
}
_FEEDBACK_BODY = {
    "required": True,
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "required": ["labels"],
                "properties": {"labels": {"type": "array", "items": _LABEL, "minItems": 1}},
                "additionalProperties": False,
            },
            "example": {"labels": [{"request_id": "0193a5c1f2e07d3c9b1e4a6f8d2c0b7e", "label": 1}]},
        }
    },
}
_SHAPE = '{"request_id": <id>, "row": <index, optional>, "label": <text, number or boolean>}'


@router.post(
    "/v1/feedback",
    tags=["feedback"],
    status_code=202,
    openapi_extra={"requestBody": _FEEDBACK_BODY},
    summary="Ground-truth labels for earlier predictions, by request id",
)
async def feedback(request: Request) -> Response:
    """``{"labels": [{"request_id", "row"?, "label"}]}``; answers 202 with the count."""
    state = serving_state(request)
    if state.feedback is None:
        raise NotFound(
            "this server keeps no prediction log (it was started with --no-prediction-log), "
            "so it takes no feedback; send labels to a server that logs its predictions"
        )
    require_json(request)
    body = parse_json(await read_body(request, state.config.max_body_bytes))
    labels = checked_labels(body)
    # append may wait (up to a second) for room in the queue: not on the event loop.
    count = await asyncio.to_thread(state.feedback.append, labels)
    state.metrics.feedback_labels.inc(count)
    return JsonResponse({"accepted": count}, status_code=202)


def checked_labels(body: Any) -> list[Label]:
    """The body's labels, or FeedbackRejected (422) listing every entry that is wrong."""
    try:
        return labels_from_body(body)
    except InvalidArgument as first:
        entries = body.get("labels") if isinstance(body, dict) and set(body) == {"labels"} else None
        if not isinstance(entries, list) or not entries:
            raise FeedbackRejected([Problem("body", '{"labels": [...]}', first.message)]) from None
    problems = []
    for index, entry in enumerate(entries):
        try:
            to_label(entry, index)
        except InvalidArgument as exc:
            problems.append(Problem(f"labels[{index}]", _SHAPE, exc.message))
    raise FeedbackRejected(problems)
