"""Prometheus metrics of one serving app, in a registry of its own (scraped at ``/metrics``).

Every series is listed in docs/serving.md. Labels never carry request data: a request for a
model that is not served is counted under ``model="_unknown"``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)
from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from noria.serving.batching import DispatchReason

UNKNOWN_MODEL = "_unknown"
_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_WAIT_BUCKETS = (0.0001, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0)
_ROW_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096, 16384)


def version_label(version: int | None) -> str:
    return "" if version is None else str(version)


class ServingMetrics:
    """The series the server exports; one instance per app."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        ProcessCollector(registry=self.registry)  # process_cpu_seconds_total, memory, fds
        PlatformCollector(registry=self.registry)  # python_info
        labels = ["model", "version"]
        self.requests = Counter(
            "noria_serving_requests",
            "Prediction requests answered, by HTTP status code.",
            [*labels, "protocol", "code"],
            registry=self.registry,
        )
        self.errors = Counter(
            "noria_serving_errors",
            "Prediction requests that failed, by HTTP status and error code.",
            [*labels, "code", "error_code"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "noria_serving_request_duration_seconds",
            "Time from receiving a prediction request to answering it.",
            labels,
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.predict_latency = Histogram(
            "noria_serving_predict_duration_seconds",
            "Time the model's predict took per batch.",
            labels,
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.batch_rows = Histogram(
            "noria_serving_batch_size_rows",
            "Rows per predict call.",
            labels,
            buckets=_ROW_BUCKETS,
            registry=self.registry,
        )
        self.queue_wait = Histogram(
            "noria_serving_queue_wait_seconds",
            "Time a request (or a chunk of a split one) waited for its batch to leave.",
            labels,
            buckets=_WAIT_BUCKETS,
            registry=self.registry,
        )
        self.batches = Counter(
            "noria_serving_batches",
            "Batches dispatched, by reason: full, idle (nothing else arriving) or timeout.",
            [*labels, "reason"],
            registry=self.registry,
        )
        self.queue_depth = Gauge(
            "noria_serving_queue_depth_rows",
            "Rows waiting for a batch.",
            labels,
            registry=self.registry,
        )
        self.in_flight = Gauge(
            "noria_serving_requests_in_flight",
            "Prediction requests being handled.",
            labels,
            registry=self.registry,
        )
        self.model_info = Gauge(
            "noria_serving_model_info",
            "The models served (value 1): name, registered version, flavor and URI.",
            [*labels, "flavor", "uri"],
            registry=self.registry,
        )
        self.dropped_predictions = Counter(
            "noria_serving_predictions_dropped",
            "Answered requests the prediction log refused (its queue was full).",
            ["model"],
            registry=self.registry,
        )
        self.swaps = Counter(
            "noria_serving_swaps",
            "Hot swaps done: the model now serves this version, its alias having moved.",
            labels,
            registry=self.registry,
        )
        self.swap_failures = Counter(
            "noria_serving_swap_failures",
            "Versions an alias moved to that could not be loaded; the old version kept serving.",
            labels,
            registry=self.registry,
        )
        self.watch_errors = Counter(
            "noria_serving_watch_errors",
            "Looks at a served alias that failed (registry unreachable, alias deleted).",
            ["model"],
            registry=self.registry,
        )
        self.deployment_requests = Counter(
            "noria_serving_deployment_requests",
            "Prediction requests to a deployment, by the route that answered (role and "
            "version; empty when none was chosen) and HTTP status code.",
            ["deployment", "role", "version", "code"],
            registry=self.registry,
        )
        self.shadow_predictions = Counter(
            "noria_serving_shadow_predictions",
            "Copies of answered requests sent to shadow routes, by outcome: answered (logged), "
            "failed (invalid for the shadow, or the model raised) or dropped (too many waiting).",
            ["deployment", "model", "version", "outcome"],
            registry=self.registry,
        )
        self.deployment_watch_errors = Counter(
            "noria_serving_deployment_watch_errors",
            "Looks at a served deployment that failed (store unreachable, deployment deleted).",
            ["deployment"],
            registry=self.registry,
        )
        self.feedback_labels = Counter(
            "noria_serving_feedback_labels",
            "Ground-truth labels accepted by POST /v1/feedback.",
            registry=self.registry,
        )

    def observer(self, model: str, version: int | None) -> ModelBatchMetrics:
        """The batch series of one model, with its labels bound."""
        labels = (model, version_label(version))
        return ModelBatchMetrics(
            depth=self.queue_depth.labels(*labels),
            rows=self.batch_rows.labels(*labels),
            wait=self.queue_wait.labels(*labels),
            reasons={
                reason: self.batches.labels(*labels, reason)
                for reason in ("full", "idle", "timeout")
            },
        )

    def endpoint_series(self, model: str, version: int | None) -> EndpointSeries:
        """The request series of one served model version, with their labels bound."""
        return EndpointSeries(self, model, version_label(version))

    def show_log(self, log: LogCounters) -> None:
        """Export the prediction log's own counters (read at each scrape)."""
        self.registry.register(PredictionLogCollector(log))

    def exposition(self) -> tuple[bytes, str]:
        """The text format and its content type."""
        return generate_latest(self.registry), CONTENT_TYPE_LATEST


class EndpointSeries:
    """One model version's per-request series with their labels looked up once, not on
    every request (each lookup takes a lock and builds a key)."""

    def __init__(self, metrics: ServingMetrics, model: str, version: str) -> None:
        self._metrics = metrics
        self._labels = (model, version)
        self.in_flight = metrics.in_flight.labels(model, version)
        self.latency = metrics.latency.labels(model, version)
        self._answers: dict[tuple[str, int], Counter] = {}

    def answered(self, protocol: str, status: int, seconds: float) -> None:
        key = (protocol, status)
        counter = self._answers.get(key)
        if counter is None:
            counter = self._answers[key] = self._metrics.requests.labels(
                *self._labels, protocol, str(status)
            )
        counter.inc()
        self.latency.observe(seconds)

    def failed(self, status: int, error_code: str) -> None:
        self._metrics.errors.labels(*self._labels, str(status), error_code).inc()


class LogCounters(Protocol):
    """What :class:`~noria.predictions.log.ParquetPredictionLog` counts."""

    @property
    def written(self) -> int: ...
    @property
    def dropped(self) -> int: ...
    @property
    def segments(self) -> int: ...
    @property
    def write_errors(self) -> int: ...
    @property
    def queue_depth(self) -> int: ...


class PredictionLogCollector(Collector):
    """The prediction log's counters as Prometheus series, read when scraped."""

    def __init__(self, log: LogCounters) -> None:
        self._log = log

    def collect(self) -> Iterator[Metric]:
        log = self._log
        prefix = "noria_serving_prediction_log"
        yield _counter(f"{prefix}_written", "Answered requests stored in a segment.", log.written)
        yield _counter(
            f"{prefix}_dropped",
            "Answered requests lost: queue full, log closed, or a failed segment write.",
            log.dropped,
        )
        yield _counter(f"{prefix}_segments", "Parquet segments written.", log.segments)
        yield _counter(
            f"{prefix}_write_errors", "Segment writes that failed after retries.", log.write_errors
        )
        yield GaugeMetricFamily(
            f"{prefix}_queue_depth", "Answered requests waiting for the writer.", log.queue_depth
        )


def _counter(name: str, documentation: str, value: int) -> CounterMetricFamily:
    return CounterMetricFamily(name, documentation, value=value)


@dataclass(frozen=True, slots=True)
class ModelBatchMetrics:
    """A :class:`~noria.serving.batching.BatchObserver` writing one model's series."""

    depth: Gauge
    rows: Histogram
    wait: Histogram
    reasons: dict[str, Counter]

    def queued(self, rows: int) -> None:
        self.depth.set(rows)

    def dispatched(self, rows: int, reason: DispatchReason, waits: Sequence[float]) -> None:
        self.rows.observe(rows)
        self.reasons[reason].inc()
        for seconds in waits:
            self.wait.observe(seconds)
