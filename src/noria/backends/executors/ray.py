"""The Ray executor: each step attempt a Ray task, on a local Ray or on a cluster.

Specs (``--executor …``):

- ``ray`` — Ray's own discovery: ``RAY_ADDRESS``, else a cluster ``ray start`` started on
  this machine, else a local Ray started in this process;
- ``ray:local`` — always a new local Ray in this process (``--max-workers`` CPUs);
- ``ray:auto`` — a running cluster on this machine, or fail;
- ``ray:HOST:PORT`` — the cluster whose head (GCS) listens there (``ray start --head
  --port=PORT``); this process joins it as a driver;
- ``ray://HOST:PORT`` — the same through Ray Client (the head's client port, 10001 by default).

A task gets only the :class:`~noria.domain.pipelines.StepTask` (references and the store
address) and hands back a :class:`~noria.domain.pipelines.StepOutcome` (references): values
go through the artifact store, never through Ray's object store or the driver. Ray is
imported on first use, and one connection serves every Ray executor of the process.
"""

from __future__ import annotations

import contextlib
import importlib.util
import logging
import threading
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

from noria.domain.pipelines import StepOutcome, StepTask
from noria.errors import BackendError, Conflict, InvalidArgument, Unsupported
from noria.ports.executors import StepWork

RAY_HINT = "pip install 'noria[ray]'"
_SPEC_HELP = (
    "use ray, ray:local, ray:auto, ray:HOST:PORT (a cluster's head) or ray://HOST:PORT (Ray Client)"
)


@dataclass(frozen=True)
class RayTarget:
    """Where to run: the ``address`` handed to ``ray.init`` (``None``: Ray's discovery)."""

    spec: str
    address: str | None
    start_cpus: int | None = None  # only when this process starts its own Ray


def parse_ray_spec(spec: str, *, max_workers: int | None = None) -> RayTarget:
    """``ray``, ``ray:local``, ``ray:auto``, ``ray:HOST:PORT`` or ``ray://HOST:PORT``."""
    text = spec.strip()
    if text.lower() == "ray":
        return RayTarget("ray", None)
    if text.lower().startswith("ray://"):
        if not _has_port(text.removeprefix("ray://")):
            raise InvalidArgument(f"Invalid Ray executor {spec!r}: {_SPEC_HELP}.")
        return RayTarget(text, text)
    scheme, _, rest = text.partition(":")
    if scheme.lower() != "ray" or not rest:
        raise InvalidArgument(f"Invalid Ray executor {spec!r}: {_SPEC_HELP}.")
    if rest.lower() == "local":
        return RayTarget("ray:local", "local", start_cpus=max_workers)
    if rest.lower() == "auto":
        return RayTarget("ray:auto", "auto")
    if not _has_port(rest):
        raise InvalidArgument(f"Invalid Ray executor {spec!r}: {_SPEC_HELP}.")
    return RayTarget(f"ray:{rest}", rest)


def _has_port(address: str) -> bool:
    host, _, port = address.rpartition(":")
    return bool(host) and port.isdigit()


def import_ray() -> Any:
    try:
        import ray
    except ImportError:
        raise Unsupported(
            f"The ray executor needs Ray, which is not installed: {RAY_HINT}."
        ) from None
    return ray


class _Connection:
    """The process's Ray connection, shared by every Ray executor in it.

    ``ray.init`` is process-wide, so executors count themselves in and out. A Ray the
    caller connected (``ray.init`` before running) is used as is and left alone; one this
    module connected or started is shut down when the last executor using it closes.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._users = 0
        self._ours: RayTarget | None = None

    def acquire(self, target: RayTarget) -> Any:
        with self._lock:
            ray = import_ray()
            if not ray.is_initialized():
                self._init(ray, target)
                self._ours = target
            elif self._ours is not None and self._ours.address != target.address:
                raise Conflict(
                    f"This process is already connected to Ray for executor "
                    f"{self._ours.spec!r}; executor {target.spec!r} needs another connection. "
                    "Run one Ray target per process, or wait for the other runs to finish."
                )
            self._users += 1
            return ray

    @staticmethod
    def _init(ray: Any, target: RayTarget) -> None:
        options: dict[str, Any] = {
            "address": target.address,
            # Steps' output is captured per step; Ray's start-up lines would break the
            # CLI's promise of quiet output.
            "log_to_driver": False,
            "logging_level": logging.ERROR,
        }
        if target.address in (None, "local"):  # may start a Ray here: no dashboard for it
            options["include_dashboard"] = False
        if target.start_cpus is not None:
            options["num_cpus"] = target.start_cpus
        try:
            ray.init(**options)
        except (ConnectionError, ValueError, RuntimeError) as exc:
            detail = str(exc).strip().splitlines()
            raise BackendError(
                f"Cannot connect to Ray for executor {target.spec!r}: "
                f"{detail[0] if detail else type(exc).__name__}. Is the cluster running "
                "(`ray status`), and does RAY_AUTH_MODE match its authentication?"
            ) from None

    def release(self) -> None:
        with self._lock:
            self._users = max(0, self._users - 1)
            if self._users == 0 and self._ours is not None:
                self._ours = None
                ray = import_ray()
                if ray.is_initialized():
                    ray.shutdown()


_connection = _Connection()


def _run_work(work: StepWork, task: StepTask) -> StepOutcome:
    """The body of every Ray task (module level, so Ray ships it by reference)."""
    return work(task)


def _task_options(task: StepTask) -> dict[str, Any]:
    options: dict[str, Any] = {
        # Retries and timeouts belong to the runner: Ray must not run an attempt twice.
        "max_retries": 0,
        "retry_exceptions": False,
        "name": f"noria:{task.step_name}",
    }
    hints = task.resources
    if hints.num_cpus is not None:
        options["num_cpus"] = hints.num_cpus
    if hints.num_gpus is not None:
        options["num_gpus"] = hints.num_gpus
    if hints.memory is not None:
        options["memory"] = hints.memory
    return options


class RayExecutor:
    """Each submitted attempt a Ray task with the step's ``num_cpus``, ``num_gpus`` and
    ``memory`` hints; a timed-out attempt is force-cancelled (its worker process killed)."""

    in_process = False

    def __init__(self, target: RayTarget, *, max_workers: int | None = None) -> None:
        if max_workers is not None and max_workers < 1:
            raise InvalidArgument(f"max_workers={max_workers} must be at least 1.")
        self.target = target
        self._max_workers = max_workers
        self._lock = threading.Lock()
        self._ray: Any = None
        self._remote: Any = None
        self._capacity: int | None = None
        self._running: dict[Future[StepOutcome], Any] = {}

    @property
    def name(self) -> str:
        return self.target.spec

    @property
    def capacity(self) -> int:
        """The cluster's CPUs when connected (capped by ``max_workers``): a submitted task
        should start at once, since the runner's timeout counts from submission."""
        ray = self._connect()
        if self._capacity is None:
            cpus = int(ray.cluster_resources().get("CPU", 1))
            limit = self._max_workers if self._max_workers is not None else cpus
            self._capacity = max(1, min(cpus, limit))
        return self._capacity

    def _connect(self) -> Any:
        with self._lock:
            if self._ray is None:
                self._ray = _connection.acquire(self.target)
                self._remote = self._ray.remote(_run_work)
            return self._ray

    def submit(self, work: StepWork, task: StepTask) -> Future[StepOutcome]:
        self._connect()
        ref = self._remote.options(**_task_options(task)).remote(work, task)
        future: Future[StepOutcome] = Future()
        future.set_running_or_notify_cancel()
        with self._lock:
            self._running[future] = ref
        ref.future().add_done_callback(lambda done: self._settle(future, done, task))
        return future

    def _settle(
        self, future: Future[StepOutcome], done: Future[StepOutcome], task: StepTask
    ) -> None:
        with self._lock:
            self._running.pop(future, None)
        if future.done():
            return
        failure = done.exception()
        if failure is None:
            future.set_result(done.result())
            return
        lines = str(failure).strip().splitlines()
        detail = lines[0] if lines else ""
        future.set_exception(
            BackendError(
                f"The Ray task running step {task.step_name!r} (attempt {task.attempt}) "
                f"failed: {type(failure).__name__}: {detail}".rstrip(": ")
            )
        )

    def cancel(self, future: Future[StepOutcome]) -> None:
        with self._lock:
            ref = self._running.pop(future, None)
        if ref is None or self._ray is None:
            return
        # A task that already finished has nothing to stop, and its result is ignored.
        with contextlib.suppress(ValueError, self._ray.exceptions.RayError):
            self._ray.cancel(ref, force=True)

    def close(self) -> None:
        with self._lock:
            running = list(self._running)
        for future in running:
            self.cancel(future)
        with self._lock:
            connected, self._ray, self._remote = self._ray is not None, None, None
        if connected:
            _connection.release()


def ray_executor(spec: str, *, max_workers: int | None = None) -> RayExecutor:
    """The executor ``spec`` names; nothing connects until the first task."""
    if importlib.util.find_spec("ray") is None:
        raise Unsupported(f"Executor {spec!r} needs Ray, which is not installed: {RAY_HINT}.")
    return RayExecutor(parse_ray_spec(spec, max_workers=max_workers), max_workers=max_workers)
