"""The model server's own failures, as Noria errors with the HTTP status each one answers."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

from noria.errors import InvalidArgument, NoriaError


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a request: which field, what was expected, what came."""

    field: str
    expected: str
    got: str

    def as_json(self) -> dict[str, str]:
        return asdict(self)


class InputRejected(InvalidArgument):
    """The request does not fit the model's signature; every problem is listed."""

    error_code = "INVALID_INPUT"
    http_status = 422

    def __init__(self, model: str, problems: Sequence[Problem]) -> None:
        self.problems = tuple(problems)
        count = len(self.problems)
        listed = "; ".join(
            f"{problem.field}: expected {problem.expected}, got {problem.got}"
            for problem in self.problems[:5]
        )
        more = f"; and {count - 5} more" if count > 5 else ""
        super().__init__(
            f"the request does not fit model {model!r} ({count} problem"
            f"{'s' if count != 1 else ''}): {listed}{more}; see 'problems' for each field"
        )


class FeedbackRejected(InvalidArgument):
    """A ``POST /v1/feedback`` body with wrong entries; every one is listed."""

    error_code = "INVALID_FEEDBACK"
    http_status = 422

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = tuple(problems)
        # Each problem's text names its entry already (labels[2].row must be ...).
        listed = "; ".join(problem.got.rstrip(".") for problem in self.problems[:3])
        more = f"; and {len(self.problems) - 3} more" if len(self.problems) > 3 else ""
        super().__init__(
            f"the feedback was not stored ({len(self.problems)} problem"
            f"{'s' if len(self.problems) != 1 else ''}): {listed}{more}; see 'problems'"
        )


class MalformedBody(InvalidArgument):
    """The body is not JSON, or not in the media type the route takes."""

    error_code = "MALFORMED_BODY"
    http_status = 400


class PayloadTooLarge(InvalidArgument):
    error_code = "PAYLOAD_TOO_LARGE"
    http_status = 413


class UnsupportedMediaType(InvalidArgument):
    error_code = "UNSUPPORTED_MEDIA_TYPE"
    http_status = 415


class ModelFailed(NoriaError):
    """The model raised (or returned something unusable) while predicting a valid batch.

    This is the only error the server answers with 500: the request was valid, the model
    (the server's side) failed. Every request of that batch gets it; other batches do not.
    """

    error_code = "MODEL_ERROR"
    http_status = 500


class ModelNotReady(NoriaError):
    error_code = "MODEL_NOT_READY"
    http_status = 503


class DeploymentPaused(NoriaError):
    """The deployment is paused (``noria deploy pause``): nothing predicts until it resumes."""

    error_code = "DEPLOYMENT_PAUSED"
    http_status = 503
