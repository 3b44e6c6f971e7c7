"""The local executors: a thread per step (default), or a process per step.

Threads share the driver's open stores and start in microseconds; a step that runs past
its timeout is interrupted at its next Python instruction (a call blocked in C code
finishes first, and its result is ignored). Processes isolate steps and can be killed
on timeout; each starts from a fork server that has Noria already imported.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
import threading
from concurrent.futures import Future
from multiprocessing.connection import Connection
from multiprocessing.context import ForkServerContext
from typing import Any

from noria.domain.pipelines import StepOutcome, StepTask
from noria.errors import BackendError, InvalidArgument
from noria.ports.executors import StepWork

_KILL_GRACE_S = 2.0


def default_workers() -> int:
    return min(32, (os.cpu_count() or 1) + 4)


def _check_workers(max_workers: int | None, default: int) -> int:
    workers = default if max_workers is None else max_workers
    if workers < 1:
        raise InvalidArgument(f"max_workers={workers} must be at least 1.")
    return workers


def _interrupt(thread_id: int) -> None:
    """Raise TimeoutError in another thread at its next Python instruction."""
    ctypes.pythonapi.PyThreadState_SetAsyncExc(
        ctypes.c_ulong(thread_id), ctypes.py_object(TimeoutError)
    )


def _checkpoint() -> None:
    """Nothing: entering a Python function is where a pending interrupt is raised.

    (Clearing one with ``PyThreadState_SetAsyncExc(id, NULL)`` instead would leave the
    interpreter's "async exception pending" flag set for good, slowing every thread.)
    """


class ThreadExecutor:
    """Each submitted task in its own daemon thread (the runner bounds how many)."""

    name = "local"
    in_process = True

    def __init__(self, max_workers: int | None = None) -> None:
        self.capacity = _check_workers(max_workers, default_workers())
        self._lock = threading.Lock()
        self._threads: dict[Future[StepOutcome], int] = {}

    def submit(self, work: StepWork, task: StepTask) -> Future[StepOutcome]:
        future: Future[StepOutcome] = Future()
        future.set_running_or_notify_cancel()
        registered = threading.Event()

        def run() -> None:
            with self._lock:
                self._threads[future] = threading.get_ident()
            registered.set()
            outcome: StepOutcome | None = None
            failure: BaseException | None = None
            try:
                try:
                    outcome = work(task)
                finally:
                    with self._lock:  # from here on, cancel() can no longer interrupt us
                        self._threads.pop(future, None)
                    _checkpoint()  # an interrupt that came too late is raised here, and caught
            except BaseException as exc:  # noqa: BLE001 - handed to the runner via the future
                failure = exc
            if future.done():
                return
            if failure is not None:
                future.set_exception(failure)
            elif outcome is not None:
                future.set_result(outcome)

        threading.Thread(target=run, name=f"noria-step-{task.step_name}", daemon=True).start()
        registered.wait()  # so that cancel() right after submit() finds the thread
        return future

    def cancel(self, future: Future[StepOutcome]) -> None:
        with self._lock:  # held while interrupting: the thread cannot leave work() meanwhile
            thread_id = self._threads.pop(future, None)
            if thread_id is not None:
                _interrupt(thread_id)

    def close(self) -> None:
        with self._lock:
            running = list(self._threads)
        for future in running:
            self.cancel(future)


def _child(work: StepWork, task: StepTask, connection: Connection) -> None:
    """The body of a step process: run the work and send its outcome back."""
    try:
        connection.send(work(task))
    finally:
        connection.close()


# Imported once in the fork server, so each step process starts with them loaded
# (names, not imports: a missing optional one is skipped by the fork server).
_PRELOAD = (
    "noria.pipelines.worker",
    "noria.client",
    "noria.fluent",
    "noria.backends.sql.store",
    "noria.backends.blobs.local",
    "noria.backends.http.metadata",
    "pandas",
    "pyarrow.parquet",
)


class _ForkServer:
    """One fork server per driver process, with Noria's worker imported before forking."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._context: ForkServerContext | None = None

    def context(self) -> ForkServerContext:
        with self._lock:
            if self._context is None:
                context = multiprocessing.get_context("forkserver")
                context.set_forkserver_preload(list(_PRELOAD))
                self._context = context
            return self._context


_fork_server = _ForkServer()


class ProcessExecutor:
    """Each submitted task in its own process, killed if the runner gives up on it."""

    name = "local:processes"
    in_process = False

    def __init__(self, max_workers: int | None = None) -> None:
        self.capacity = _check_workers(max_workers, os.cpu_count() or 1)
        self._lock = threading.Lock()
        self._processes: dict[Future[StepOutcome], Any] = {}

    def submit(self, work: StepWork, task: StepTask) -> Future[StepOutcome]:
        context = _fork_server.context()
        receiver, sender = context.Pipe(duplex=False)
        process = context.Process(
            target=_child, args=(work, task, sender), name=f"noria-step-{task.step_name}"
        )
        process.daemon = True
        future: Future[StepOutcome] = Future()
        future.set_running_or_notify_cancel()
        with self._lock:
            process.start()
            self._processes[future] = process
        sender.close()
        threading.Thread(
            target=self._watch, args=(process, receiver, future, task), daemon=True
        ).start()
        return future

    def _watch(
        self, process: Any, receiver: Connection, future: Future[StepOutcome], task: StepTask
    ) -> None:
        try:
            outcome: StepOutcome = receiver.recv()
        except (EOFError, OSError):
            process.join()
            if not future.done():
                future.set_exception(
                    BackendError(
                        f"The process running step {task.step_name!r} exited with code "
                        f"{process.exitcode} before reporting (killed, or out of memory?)."
                    )
                )
        else:
            process.join()
            if not future.done():
                future.set_result(outcome)
        finally:
            receiver.close()
            with self._lock:
                self._processes.pop(future, None)

    def cancel(self, future: Future[StepOutcome]) -> None:
        with self._lock:
            process = self._processes.get(future)
        if process is None or not process.is_alive():
            return
        process.terminate()
        process.join(_KILL_GRACE_S)
        if process.is_alive() and process.pid is not None:
            os.kill(process.pid, signal.SIGKILL)

    def close(self) -> None:
        with self._lock:
            running = list(self._processes)
        for future in running:
            self.cancel(future)
