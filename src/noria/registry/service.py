"""The model registry as users see it: every change audited, lineage recorded, and the alias
history answering "which version was champion on date X".

>>> version = client.registry.register("runs:/<run-id>/model", "credit-risk")
>>> client.registry.set_alias("credit-risk", "champion", version.version)
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime

from noria.audit import AuditLog
from noria.domain.audit import AuditEvent, AuditQuery
from noria.domain.entities import EntityKind, EntityRef
from noria.domain.lineage import Relation
from noria.domain.logged_models import logged_model_id
from noria.domain.paging import Page
from noria.domain.registry import (
    ApprovalPolicy,
    GateRecord,
    ModelVersion,
    NewModelVersion,
    RegisteredModel,
    check_model_name,
)
from noria.domain.tracking import RunArtifact
from noria.domain.uris import ModelAliasUri, ModelVersionUri, RunUri, parse_uri
from noria.errors import Conflict, InvalidArgument, NotFound
from noria.lineage import LineageService
from noria.ports.metadata import MetadataStore

ALIAS_ACTIONS = ("model.alias_set", "model.alias_deleted")
_HISTORY_PAGE = 500


def _model_ref(name: str) -> EntityRef:
    return EntityRef(EntityKind.REGISTERED_MODEL, name)


class ModelRegistry:
    """Registered models over one metadata store."""

    def __init__(
        self,
        metadata: MetadataStore,
        lineage: LineageService,
        audit: AuditLog,
        *,
        user: str,
        versions_in_use: Callable[[str], Mapping[int, list[str]]] | None = None,
    ) -> None:
        self._store = metadata
        self._lineage = lineage
        self._audit = audit
        self._user = user
        # Deployments sit above the registry; the client passes their lookup in.
        self._versions_in_use = versions_in_use

    # -- models --------------------------------------------------------------------

    def create_model(
        self, name: str, *, description: str = "", tags: dict[str, str] | None = None
    ) -> RegisteredModel:
        model = self._store.models.create_model(name, description=description, tags=tags)
        self._audit.record("model.created", model.entity(), after={"description": description})
        return model

    def get_model(self, name: str) -> RegisteredModel:
        return self._store.models.get_model(name)

    def search_models(
        self, *, name_like: str | None = None, limit: int = 100, page_token: str | None = None
    ) -> Page[RegisteredModel]:
        return self._store.models.search_models(
            name_like=name_like, limit=limit, page_token=page_token
        )

    def delete_model(self, name: str, *, force: bool = False) -> RegisteredModel:
        if not force:
            self._refuse_if_served(name, None)
        model = self._store.models.delete_model(name, force=force)
        before = {"aliases": model.aliases, "latest_version": model.latest_version}
        self._audit.record("model.deleted", model.entity(), before=before)
        return model

    def set_policy(self, name: str, policy: ApprovalPolicy) -> RegisteredModel:
        before = self._store.models.get_model(name).policy
        model = self._store.models.set_policy(name, policy)
        self._audit.record(
            "model.policy_set", model.entity(), before=_policy(before), after=_policy(policy)
        )
        return model

    # -- versions ------------------------------------------------------------------

    def register(
        self,
        source: str,
        name: str,
        *,
        description: str = "",
        tags: dict[str, str] | None = None,
        signature_json: str = "",
    ) -> ModelVersion:
        """A new version of ``name`` (created on first use) from ``runs:/<id>/<path>``.

        The version keeps the run's latest metrics and a digest of the model's files.
        """
        check_model_name(name)
        parsed = parse_uri(source) if source.startswith("runs:") else None
        run_id = parsed.run_id if isinstance(parsed, RunUri) else None
        digest = ""
        if isinstance(parsed, RunUri):
            files = self._store.run_data.list_artifacts(parsed.run_id, parsed.path)
            digest = _files_digest(files, parsed.path, f"Run {parsed.run_id}")
        elif (model_id := logged_model_id(source)) is not None:
            run_id = self._store.logged_models.get(model_id).source_run_id
            files = self._store.logged_models.list_files(model_id)
            digest = _files_digest(files, "", f"Logged model {model_id}")
        metrics: dict[str, float] = {}
        if run_id is not None:
            run = self._store.runs.get_run(run_id)
            metrics = {key: metric.value for key, metric in run.metrics.items()}
        try:
            self._store.models.get_model(name)
        except NotFound:
            self.create_model(name)
        new = NewModelVersion(
            name=name,
            source=source,
            created_by=self._user,
            run_id=run_id,
            digest=digest,
            description=description,
            tags=dict(tags or {}),
            metrics=metrics,
            signature_json=signature_json,
        )
        version = self._store.model_versions.create_version(new)
        self._audit.record(
            "model.version_registered",
            version.entity(),
            after={"source": source, "run_id": run_id, "digest": digest},
        )
        self._lineage.record(_model_ref(name), Relation.PRODUCED, version.entity())
        if run_id is not None:
            self._lineage.record(
                EntityRef(EntityKind.RUN, run_id), Relation.PRODUCED, version.entity()
            )
        return version

    def get_version(self, name: str, version: int) -> ModelVersion:
        return self._store.model_versions.get_version(name, version)

    def resolve(self, uri: str) -> ModelVersion:
        """``models:/name/3``, ``models:/name@champion`` or ``models:/name@latest``."""
        parsed = parse_uri(uri)
        if isinstance(parsed, ModelVersionUri):
            return self.get_version(parsed.name, parsed.version)
        if isinstance(parsed, ModelAliasUri):
            return self._store.promotion.version_by_alias(parsed.name, parsed.alias)
        raise InvalidArgument(
            f"{uri!r} does not name one model version: use models:/<name>/<version> "
            "or models:/<name>@<alias>."
        )

    def search_versions(
        self, *, name: str | None = None, run_id: str | None = None, limit: int = 100
    ) -> Page[ModelVersion]:
        return self._store.model_versions.search_versions(name=name, run_id=run_id, limit=limit)

    def delete_version(self, name: str, version: int, *, force: bool = False) -> ModelVersion:
        if not force:
            self._refuse_if_served(name, version)
        deleted = self._store.model_versions.delete_version(name, version, force=force)
        before = {"source": deleted.source, "aliases": list(deleted.aliases)}
        self._audit.record("model.version_deleted", deleted.entity(), before=before)
        return deleted

    def _refuse_if_served(self, name: str, version: int | None) -> None:
        """Deleting what a deployment serves needs ``force`` (``version=None``: any)."""
        if self._versions_in_use is None:
            return
        used = self._versions_in_use(name)
        served = sorted(used) if version is None else [version] if used.get(version) else []
        if served:
            users = sorted({deployment for v in served for deployment in used[v]})
            shown = ", ".join(f"v{v}" for v in served)
            raise Conflict(
                f"Model {name!r} {shown} is served by deployment(s) {', '.join(users)}: "
                "change their routes first (noria deploy), or pass --force."
            )

    def record_gate(self, name: str, version: int, *, passed: bool, verdict: str) -> ModelVersion:
        gate = GateRecord(
            passed=passed,
            verdict_json=verdict,
            recorded_at=_now_ms(),
            recorded_by=self._user,
        )
        updated = self._store.model_versions.record_gate(name, version, gate)
        self._audit.record("model.gate_recorded", updated.entity(), after={"passed": passed})
        return updated

    def approve(self, name: str, version: int) -> ModelVersion:
        approved = self._store.promotion.approve(name, version, approver=self._user)
        self._audit.record("model.version_approved", approved.entity(), after={"by": self._user})
        return approved

    # -- aliases -------------------------------------------------------------------

    def set_alias(self, name: str, alias: str, version: int) -> int | None:
        """Point ``alias`` at ``version``; returns the version it pointed at before."""
        previous = self._store.promotion.set_alias(name, alias, version)
        self._audit.record(
            "model.alias_set",
            _model_ref(name),
            before={"alias": alias, "version": previous},
            after={"alias": alias, "version": version},
        )
        return previous

    def delete_alias(self, name: str, alias: str) -> int:
        previous = self._store.promotion.delete_alias(name, alias)
        self._audit.record(
            "model.alias_deleted",
            _model_ref(name),
            before={"alias": alias, "version": previous},
            after={"alias": alias, "version": None},
        )
        return previous

    def history(self, name: str, *, limit: int = 100) -> list[AuditEvent]:
        """The audit trail of the model and its versions, newest first."""
        refs = [_model_ref(name)]
        refs += [v.entity() for v in self.search_versions(name=name, limit=1000).items]
        events = [
            event
            for ref in refs
            for event in self._audit.events(AuditQuery(entity=ref), limit=limit).items
        ]
        events.sort(key=lambda event: (event.occurred_at, event.seq or 0), reverse=True)
        return events[:limit]

    def alias_at(self, name: str, alias: str, moment: datetime) -> int | None:
        """The version ``alias`` pointed at, at ``moment`` (``None``: it was not set)."""
        query = AuditQuery(entity=_model_ref(name), until=moment)
        token: str | None = None
        while True:
            page = self._audit.events(query, limit=_HISTORY_PAGE, page_token=token)
            for event in page.items:  # newest first: the first move of this alias decides
                if event.action in ALIAS_ACTIONS and (event.after or {}).get("alias") == alias:
                    version = (event.after or {}).get("version")
                    return int(version) if version is not None else None
            if page.next_page_token is None:
                return None
            token = page.next_page_token


def _policy(policy: ApprovalPolicy) -> dict[str, object]:
    return {
        "protected_aliases": list(policy.protected_aliases),
        "require_gate": policy.require_gate,
        "require_approval": policy.require_approval,
    }


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


def _files_digest(files: Sequence[RunArtifact], folder: str, owner: str) -> str:
    """One digest for the model's files (their paths inside it and their digests)."""
    prefix = f"{folder}/" if folder else ""
    entries = [(item.path[len(prefix) :], item.digest) for item in files]
    if not entries:
        raise NotFound(
            f"{owner} has no files under {folder!r}: log the model first "
            "(noria.log_model) or check the path."
        )
    canonical = json.dumps(sorted(entries), separators=(",", ":")).encode()
    return hashlib.sha256(canonical).hexdigest()
