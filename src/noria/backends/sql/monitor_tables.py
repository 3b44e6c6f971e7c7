"""Tables of monitors, their per-window results and their alerts (migration 0010).

Times are integer milliseconds since the epoch. A window's figures are rows of their own
(``monitor_figures``), keyed by figure then window, so one figure's time series is one index
range; the window's details (per-feature test names, anomaly messages) are one JSON text.
Rules and action outcomes are small and always read whole: JSON text too.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Double,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from noria.backends.sql.tables import SERIAL, metadata

NAME_LENGTH = 128
REFERENCE_LENGTH = 300
FIGURE_LENGTH = 400
RULE_LENGTH = 200
SHORT_LENGTH = 16
ACTOR_LENGTH = 256
ID_LENGTH = 32

monitors = Table(
    "monitors",
    metadata,
    Column("id", SERIAL, primary_key=True, autoincrement=True),
    Column("name", String(NAME_LENGTH), nullable=False),
    Column("deployment", String(NAME_LENGTH), nullable=False),
    Column("reference", String(REFERENCE_LENGTH), nullable=False),
    Column("window_ms", BigInteger, nullable=False),
    Column("start_ms", BigInteger, nullable=False),
    Column("delay_ms", BigInteger, nullable=False),
    Column("label_horizon_ms", BigInteger, nullable=False),
    Column("label_column", String(FIGURE_LENGTH), nullable=True),
    Column("task", String(SHORT_LENGTH), nullable=True),
    Column("features", Text, nullable=False),  # JSON list
    Column("rules", Text, nullable=False),  # JSON list of AlertRule.to_dict()
    Column("description", Text, nullable=False, server_default=""),
    Column("created_by", String(ACTOR_LENGTH), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    # Who is evaluating it, until when (migration 0013); NULL when nobody is.
    Column("lease_owner", String(NAME_LENGTH), nullable=True),
    Column("lease_until", BigInteger, nullable=True),
    UniqueConstraint("name", name="uq_monitors_name"),
    Index("ix_monitors_deployment", "deployment"),
)

monitor_results = Table(
    "monitor_results",
    metadata,
    Column("monitor_id", SERIAL, ForeignKey("monitors.id", ondelete="CASCADE"), nullable=False),
    Column("window_start", BigInteger, nullable=False),
    Column("window_end", BigInteger, nullable=False),
    Column("row_count", BigInteger, nullable=False),
    Column("label_count", BigInteger, nullable=False),
    Column("computed_at", BigInteger, nullable=False),
    Column("revision", Integer, nullable=False),
    Column("details", Text, nullable=False),  # JSON object
    PrimaryKeyConstraint("monitor_id", "window_start", name="pk_monitor_results"),
)

monitor_figures = Table(
    "monitor_figures",
    metadata,
    Column("monitor_id", SERIAL, ForeignKey("monitors.id", ondelete="CASCADE"), nullable=False),
    Column("figure", String(FIGURE_LENGTH), nullable=False),
    Column("window_start", BigInteger, nullable=False),
    Column("value", Double, nullable=False),
    PrimaryKeyConstraint("monitor_id", "figure", "window_start", name="pk_monitor_figures"),
    Index("ix_monitor_figures_monitor_id_window_start", "monitor_id", "window_start"),
)

alerts = Table(
    "alerts",
    metadata,
    Column("id", String(ID_LENGTH), primary_key=True),
    Column("monitor_id", SERIAL, ForeignKey("monitors.id", ondelete="CASCADE"), nullable=False),
    Column("rule", String(RULE_LENGTH), nullable=False),
    Column("figure", String(FIGURE_LENGTH), nullable=False),
    Column("operator", String(SHORT_LENGTH), nullable=False),
    Column("threshold", Double, nullable=False),
    Column("severity", String(SHORT_LENGTH), nullable=False),
    Column("status", String(SHORT_LENGTH), nullable=False),
    Column("value", Double, nullable=False),
    Column("window_start", BigInteger, nullable=False),
    Column("window_end", BigInteger, nullable=False),
    Column("last_window_end", BigInteger, nullable=False),
    Column("last_value", Double, nullable=False),
    Column("occurrences", Integer, nullable=False),
    Column("resolved_window_end", BigInteger, nullable=True),
    Column("fired_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    Column("message", Text, nullable=False),
    Column("actions", Text, nullable=False),  # JSON list of ActionOutcome.to_dict()
    Index("ix_alerts_monitor_id_rule_window_end", "monitor_id", "rule", "window_end"),
    Index("ix_alerts_monitor_id_window_end", "monitor_id", "window_end"),
)
