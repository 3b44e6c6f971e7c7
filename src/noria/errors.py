"""One error vocabulary for all of Noria.

Every error a user can cause is a :class:`NoriaError` subclass with a stable
``error_code``. Entry points translate them once: the CLI prints one line, the
server answers a JSON body ``{"error_code", "message"}`` with the class's HTTP status.
"""

from __future__ import annotations


class NoriaError(Exception):
    """Base of every error Noria raises on purpose."""

    error_code = "INTERNAL_ERROR"
    http_status = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidArgument(NoriaError):
    """The caller passed a value Noria cannot accept."""

    error_code = "INVALID_ARGUMENT"
    http_status = 400


class InvalidUri(InvalidArgument):
    error_code = "INVALID_URI"


class NotFound(NoriaError):
    error_code = "NOT_FOUND"
    http_status = 404


class AlreadyExists(NoriaError):
    error_code = "ALREADY_EXISTS"
    http_status = 409


class Conflict(NoriaError):
    """The request is well formed but clashes with the current state."""

    error_code = "CONFLICT"
    http_status = 409


class PolicyViolation(Conflict):
    """A governance rule refuses the change: an unapproved promotion, self-approval, …"""

    error_code = "POLICY_VIOLATION"
    http_status = 409


class Unsupported(NoriaError):
    """The backend or configuration cannot do what was asked."""

    error_code = "UNSUPPORTED"
    http_status = 501


class BackendError(NoriaError):
    """A storage or network backend failed in a way the caller did not cause."""

    error_code = "BACKEND_ERROR"
    http_status = 503


class SchemaOutdated(BackendError):
    """The metadata store was written by an older Noria and needs `noria db upgrade`."""

    error_code = "SCHEMA_OUTDATED"


class SchemaTooNew(BackendError):
    """The metadata store was written by a newer Noria; this version will not touch it."""

    error_code = "SCHEMA_TOO_NEW"


class StoreNotInitialized(BackendError):
    """The metadata store has no Noria schema yet; `noria init` creates it."""

    error_code = "STORE_NOT_INITIALIZED"


class CorruptedArtifact(BackendError):
    """A stored blob no longer matches its content digest."""

    error_code = "CORRUPTED_ARTIFACT"
    http_status = 500


ALL_ERRORS: tuple[type[NoriaError], ...] = (
    NoriaError,
    InvalidArgument,
    InvalidUri,
    NotFound,
    AlreadyExists,
    Conflict,
    PolicyViolation,
    Unsupported,
    BackendError,
    SchemaOutdated,
    SchemaTooNew,
    StoreNotInitialized,
    CorruptedArtifact,
)


def error_class_for(code: str) -> type[NoriaError]:
    """The error class for a wire ``error_code`` (``NoriaError`` when unknown)."""
    for cls in ALL_ERRORS:
        if cls.error_code == code:
            return cls
    return NoriaError
