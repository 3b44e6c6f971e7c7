"""The SQL metadata store: SQLite for one machine, PostgreSQL for a team."""

from __future__ import annotations

from types import TracebackType

from sqlalchemy import Connection

from noria.backends.sql import migrator
from noria.backends.sql.alerts import SqlAlertRepo
from noria.backends.sql.audit import SqlAuditRepo
from noria.backends.sql.database import SqlDatabase
from noria.backends.sql.datasets import SqlDatasetRepo
from noria.backends.sql.deployments import SqlDeploymentRepo
from noria.backends.sql.experiments import SqlExperimentRepo
from noria.backends.sql.lineage import SqlLineageRepo
from noria.backends.sql.logged_models import SqlLoggedModelRepo
from noria.backends.sql.monitors import SqlMonitorRepo
from noria.backends.sql.pipelines import SqlPipelineRepo
from noria.backends.sql.registry_models import SqlRegisteredModelRepo
from noria.backends.sql.registry_promotion import SqlPromotionRepo
from noria.backends.sql.registry_versions import SqlModelVersionRepo
from noria.backends.sql.run_data import SqlRunDataRepo
from noria.backends.sql.runs import SqlRunRepo
from noria.backends.sql.schedules import SqlScheduleRepo
from noria.backends.sql.trigger_events import SqlEventRepo
from noria.domain.schema import SchemaState, SchemaStatus


class SqlMetadataStore:
    """A :class:`~noria.ports.metadata.MetadataStore` on SQLAlchemy.

    ``SqlMetadataStore("sqlite:///.noria/noria.db")`` or
    ``SqlMetadataStore("postgresql://user@host/db")``. Nothing is opened until first use.
    """

    def __init__(self, uri: str) -> None:
        self._db = SqlDatabase(uri)
        self._lineage = SqlLineageRepo(self._db)
        self._audit = SqlAuditRepo(self._db)
        self._experiments = SqlExperimentRepo(self._db)
        self._runs = SqlRunRepo(self._db)
        self._run_data = SqlRunDataRepo(self._db)
        self._datasets = SqlDatasetRepo(self._db)
        self._models = SqlRegisteredModelRepo(self._db)
        self._model_versions = SqlModelVersionRepo(self._db)
        self._promotion = SqlPromotionRepo(self._db)
        self._pipelines = SqlPipelineRepo(self._db)
        self._logged_models = SqlLoggedModelRepo(self._db)
        self._deployments = SqlDeploymentRepo(self._db)
        self._monitors = SqlMonitorRepo(self._db)
        self._alerts = SqlAlertRepo(self._db)
        self._schedules = SqlScheduleRepo(self._db)
        self._events = SqlEventRepo(self._db)

    @property
    def uri(self) -> str:
        """The store URI with any password masked."""
        return self._db.display_uri

    @property
    def lineage(self) -> SqlLineageRepo:
        return self._lineage

    @property
    def audit(self) -> SqlAuditRepo:
        return self._audit

    @property
    def experiments(self) -> SqlExperimentRepo:
        return self._experiments

    @property
    def runs(self) -> SqlRunRepo:
        return self._runs

    @property
    def run_data(self) -> SqlRunDataRepo:
        return self._run_data

    @property
    def datasets(self) -> SqlDatasetRepo:
        return self._datasets

    @property
    def models(self) -> SqlRegisteredModelRepo:
        return self._models

    @property
    def model_versions(self) -> SqlModelVersionRepo:
        return self._model_versions

    @property
    def promotion(self) -> SqlPromotionRepo:
        return self._promotion

    @property
    def pipelines(self) -> SqlPipelineRepo:
        return self._pipelines

    @property
    def logged_models(self) -> SqlLoggedModelRepo:
        return self._logged_models

    @property
    def deployments(self) -> SqlDeploymentRepo:
        return self._deployments

    @property
    def monitors(self) -> SqlMonitorRepo:
        return self._monitors

    @property
    def alerts(self) -> SqlAlertRepo:
        return self._alerts

    @property
    def schedules(self) -> SqlScheduleRepo:
        return self._schedules

    @property
    def events(self) -> SqlEventRepo:
        return self._events

    def schema_state(self) -> SchemaState:
        return self._db.read(migrator.schema_state)

    def initialize(self) -> SchemaState:
        """Create a brand-new store at head, or check an existing one.

        Raises ``SchemaOutdated`` or ``SchemaTooNew`` for a revision other than head.
        """
        state = self.schema_state()
        if state.status is SchemaStatus.EMPTY:
            state = self._db.write(_create_if_empty)
        return self._db.check_state(state)

    def upgrade(self) -> SchemaState:
        """Migrate an empty or outdated store to head; refuses one from a newer Noria."""
        return self._db.check_state(self._db.write(_upgrade_unless_too_new))

    def close(self) -> None:
        """Release the connections; the store reopens them if used again."""
        self._db.close()

    def __enter__(self) -> SqlMetadataStore:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"SqlMetadataStore({self.uri!r})"


def _create_if_empty(connection: Connection) -> SchemaState:
    # Re-checked under the migration lock: another process may have created it meanwhile.
    migrator.lock_for_migration(connection)
    state = migrator.schema_state(connection)
    if state.status is not SchemaStatus.EMPTY:
        return state
    migrator.upgrade_connection(connection)
    return migrator.schema_state(connection)


def _upgrade_unless_too_new(connection: Connection) -> SchemaState:
    migrator.lock_for_migration(connection)
    state = migrator.schema_state(connection)
    if state.status in (SchemaStatus.EMPTY, SchemaStatus.OUTDATED):
        migrator.upgrade_connection(connection)
        return migrator.schema_state(connection)
    return state
