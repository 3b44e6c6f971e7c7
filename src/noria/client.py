"""The SDK's composition root: settings → backends → services.

>>> with noria.connect() as client:
...     client.lineage.record(run, Relation.PRODUCED, model_version)
"""

from __future__ import annotations

import threading
from functools import cached_property
from types import TracebackType
from typing import TYPE_CHECKING, Any

from noria.artifacts import ArtifactStore
from noria.audit import AuditLog
from noria.backends.schemes import Backends, open_backends
from noria.domain.entities import EntityKind, EntityRef
from noria.domain.schema import SchemaState, SchemaStatus
from noria.lineage import LineageService
from noria.ports.blobs import BlobStore
from noria.ports.metadata import MetadataStore
from noria.settings import Settings, load_settings

if TYPE_CHECKING:
    from noria.datasets.service import DatasetService
    from noria.deployments.service import DeploymentService
    from noria.monitoring.service import MonitorService
    from noria.promotion import PromotionService
    from noria.registry.service import ModelRegistry
    from noria.tracking import Tracker
    from noria.triggers import ScheduleService, TriggerService


class Client:
    """Noria's services over one metadata store and one artifact store.

    Build it with :func:`connect`; the constructor only stores what it is given.
    """

    def __init__(self, settings: Settings, backends: Backends) -> None:
        self.settings = settings
        self._backends = backends
        self.artifacts = ArtifactStore(backends.blobs)
        self.lineage = LineageService(backends.metadata.lineage)
        self.audit = AuditLog(backends.metadata.audit, settings.user)

    @cached_property
    def tracker(self) -> Tracker:
        """Experiments and runs; its metric writer starts on the first logged point."""
        from noria.tracking import Tracker

        return Tracker(self.metadata, self.artifacts, self.lineage, user=self.settings.user)

    @cached_property
    def datasets(self) -> DatasetService:
        """Dataset versions: ingest, load, schemas and profiles."""
        from noria.datasets.service import DatasetService

        return DatasetService(
            self.metadata.datasets,
            self.artifacts,
            self.lineage,
            self.audit,
            user=self.settings.user,
            cache_dir=self.settings.home.expanduser().absolute() / "cache",
        )

    @cached_property
    def registry(self) -> ModelRegistry:
        """Registered models, versions, aliases and approvals; every change audited."""
        from noria.registry.service import ModelRegistry

        return ModelRegistry(
            self.metadata,
            self.lineage,
            self.audit,
            user=self.settings.user,
            # A lambda, not the bound method: deployments are built from the registry.
            versions_in_use=lambda name: self.deployments.versions_in_use(name),  # noqa: PLW0108
        )

    @cached_property
    def deployments(self) -> DeploymentService:
        """Deployments: routes, canary and shadow traffic, promotion and rollback; audited."""
        from noria.deployments.service import DeploymentService

        return DeploymentService(
            self.metadata, self.registry, self.lineage, self.audit, user=self.settings.user
        )

    @cached_property
    def monitors(self) -> MonitorService:
        """Monitors of deployments: windows, drift, performance, alerts and their actions."""
        from noria.monitoring.service import MonitorService

        return MonitorService(
            self.metadata,
            self.artifacts,
            datasets=self.datasets,
            deployments=self.deployments,
            registry=self.registry,
            lineage=self.lineage,
            audit=self.audit,
            user=self.settings.user,
            raise_event=self.triggers.raise_event,  # trigger actions: the pipelines' events
        )

    @cached_property
    def promotions(self) -> PromotionService:
        """Challengers: gate a candidate into ``@challenger``, then promote it by policy."""
        from noria.promotion import PromotionService
        from noria.promotion.gating import Gatekeeper

        cache = self.settings.home.expanduser().absolute() / "cache" / "models"
        return PromotionService(
            artifacts=self.artifacts,
            datasets=self.datasets,
            deployments=self.deployments,
            registry=self.registry,
            lineage=self.lineage,
            audit=self.audit,
            # A lambda: run_due never needs the tracker, so it is not built for it.
            gatekeeper=Gatekeeper(lambda: self.tracker, cache),
        )

    @cached_property
    def triggers(self) -> TriggerService:
        """Raise named events (``raise_event``); the scheduler fires the event triggers."""
        from noria.triggers import TriggerService

        return TriggerService(self.metadata, self.lineage, user=self.settings.user)

    @cached_property
    def schedules(self) -> ScheduleService:
        """Cron, dataset and event triggers of pipelines; ``noria scheduler`` fires them."""
        from noria.triggers import ScheduleService

        return ScheduleService(self.metadata, self.audit, user=self.settings.user)

    @property
    def metadata(self) -> MetadataStore:
        return self._backends.metadata

    @property
    def blobs(self) -> BlobStore:
        return self._backends.blobs

    def initialize(self) -> SchemaState:
        """Create a brand-new store at the current schema, or check an existing one."""
        was_empty = self.metadata.schema_state().status is SchemaStatus.EMPTY
        state = self.metadata.initialize()
        if was_empty:
            self.audit.record(
                "store.created",
                EntityRef(EntityKind.STORE, "metadata"),
                after={"revision": state.revision, "uri": self.metadata.uri},
            )
        return state

    def upgrade(self) -> tuple[SchemaState, SchemaState]:
        """Migrate the store to this code's schema; returns (before, after)."""
        before = self.metadata.schema_state()
        after = self.metadata.upgrade()
        if before.revision != after.revision:
            self.audit.record(
                "store.upgraded",
                EntityRef(EntityKind.STORE, "metadata"),
                before={"revision": before.revision},
                after={"revision": after.revision},
            )
        return before, after

    def close(self) -> None:
        """Write any waiting metric points, then release the stores."""
        try:
            if "tracker" in self.__dict__:
                self.tracker.close()
        finally:
            self._backends.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def connect(
    settings: Settings | None = None, *, initialize: bool = True, **overrides: Any
) -> Client:
    """Open the stores named by ``settings`` (or ``NORIA_*`` / ``noria.toml`` plus overrides).

    ``initialize=True`` creates a new store or checks an existing one's schema.
    """
    resolved = settings if settings is not None else load_settings(**overrides)
    client = Client(resolved, open_backends(resolved))
    if initialize:
        try:
            client.initialize()
        except BaseException:
            client.close()
            raise
    return client


class _DefaultClient:
    """The client behind ``noria.start_run()`` and the other module-level calls.

    The one process-wide store handle, made on first use from ``NORIA_*`` settings;
    explicit :class:`Client` objects never touch it.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._client: Client | None = None

    def get(self) -> Client:
        with self._lock:
            if self._client is None:
                self._client = connect()
            return self._client

    def replace(self, client: Client | None) -> Client | None:
        with self._lock:
            previous, self._client = self._client, client
            return previous


_default = _DefaultClient()


def default_client() -> Client:
    return _default.get()


def set_default_client(client: Client | None) -> Client | None:
    """Make ``client`` the one module-level calls use; returns the previous one (not closed)."""
    return _default.replace(client)
