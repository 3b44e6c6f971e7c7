"""The model registry: registered models, numbered versions, aliases and approval policies."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum

from noria.domain.entities import EntityKind, EntityRef
from noria.errors import InvalidArgument

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
_ALIAS = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,63}")
MAX_DESCRIPTION_LENGTH = 5000
MAX_TAG_KEY_LENGTH = 250
MAX_TAG_VALUE_LENGTH = 5000
RESERVED_ALIASES = ("latest",)  # resolves to the newest version; cannot be set


class VersionStatus(StrEnum):
    """MLflow's registration states; Noria registers synchronously, so versions are READY."""

    PENDING_REGISTRATION = "PENDING_REGISTRATION"
    FAILED_REGISTRATION = "FAILED_REGISTRATION"
    READY = "READY"


@dataclass(frozen=True, slots=True)
class ApprovalPolicy:
    """Aliases in ``protected_aliases`` move only to versions that passed their gate (when
    ``require_gate``) and were approved by someone other than their author."""

    protected_aliases: tuple[str, ...] = ()
    require_gate: bool = True
    require_approval: bool = True

    @property
    def enabled(self) -> bool:
        return bool(self.protected_aliases)


@dataclass(frozen=True, slots=True)
class RegisteredModel:
    name: str
    description: str
    created_at: int  # ms since the epoch, as MLflow's registry has them
    updated_at: int
    tags: dict[str, str] = field(default_factory=dict)
    aliases: dict[str, int] = field(default_factory=dict)  # alias -> version
    policy: ApprovalPolicy = ApprovalPolicy()
    latest_version: int | None = None

    def entity(self) -> EntityRef:
        return EntityRef(EntityKind.REGISTERED_MODEL, self.name)


@dataclass(frozen=True, slots=True)
class GateRecord:
    """The evaluation gate's verdict stored on a version (the full verdict is JSON)."""

    passed: bool
    verdict_json: str
    recorded_at: int
    recorded_by: str


@dataclass(frozen=True, slots=True)
class ModelVersion:
    name: str
    version: int
    source: str  # where the model files are: runs:/<id>/<path> or an artifact URI
    run_id: str | None
    digest: str  # the model directory's artifact tree digest ("" when unknown, e.g. MLflow)
    status: VersionStatus
    description: str
    created_by: str
    created_at: int
    updated_at: int
    tags: dict[str, str] = field(default_factory=dict)
    aliases: tuple[str, ...] = ()
    metrics: dict[str, float] = field(default_factory=dict)  # the run's, at registration
    signature_json: str = ""
    gate: GateRecord | None = None
    approved_by: str | None = None
    approved_at: int | None = None

    @property
    def uri(self) -> str:
        return f"models:/{self.name}/{self.version}"

    def entity(self) -> EntityRef:
        return EntityRef(EntityKind.MODEL_VERSION, f"{self.name}/{self.version}")


@dataclass(frozen=True, slots=True)
class NewModelVersion:
    name: str
    source: str
    created_by: str
    run_id: str | None = None
    digest: str = ""
    description: str = ""
    tags: dict[str, str] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    signature_json: str = ""


def check_model_name(name: str) -> str:
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise InvalidArgument(
            f"Invalid model name {name!r}: use 1 to 128 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit."
        )
    return name


def check_alias(alias: str) -> str:
    if not isinstance(alias, str) or not _ALIAS.fullmatch(alias):
        raise InvalidArgument(
            f"Invalid alias {alias!r}: use a letter, then up to 63 letters, digits, '_' or '-'."
        )
    if alias.lower() in RESERVED_ALIASES:
        raise InvalidArgument(
            f"Alias {alias!r} is reserved: it always means the newest version. Pick another."
        )
    return alias


def check_description(description: str) -> str:
    if len(description) > MAX_DESCRIPTION_LENGTH:
        raise InvalidArgument(
            f"Description has {len(description)} characters; the limit is {MAX_DESCRIPTION_LENGTH}."
        )
    return description


def check_tag(key: str, value: str) -> tuple[str, str]:
    if not key or len(key) > MAX_TAG_KEY_LENGTH:
        raise InvalidArgument(f"Invalid tag key {key!r}: use 1 to {MAX_TAG_KEY_LENGTH} characters.")
    if len(value) > MAX_TAG_VALUE_LENGTH:
        raise InvalidArgument(
            f"Tag {key!r} has a value of {len(value)} characters; "
            f"the limit is {MAX_TAG_VALUE_LENGTH}."
        )
    return key, value


def check_promotion(policy: ApprovalPolicy, alias: str, version: ModelVersion) -> None:
    """Refuse moving a protected alias to a version the policy does not allow."""
    from noria.errors import PolicyViolation

    if alias not in policy.protected_aliases:
        return
    where = f"Alias @{alias} of {version.name!r} is protected by the model's approval policy"
    if policy.require_gate and (version.gate is None or not version.gate.passed):
        state = "has no gate verdict" if version.gate is None else "failed its gate"
        raise PolicyViolation(
            f"{where}: version {version.version} {state}. Run `noria models evaluate "
            f"{version.uri} --data … --gate policy.yaml` and promote a version that passes."
        )
    if policy.require_approval and version.approved_by is None:
        raise PolicyViolation(
            f"{where}: version {version.version} is not approved. Someone other than its "
            f"author ({version.created_by}) must run `noria models approve {version.uri}`."
        )
