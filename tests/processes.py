"""Run one function in several spawned processes at once and collect what each reports."""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Sequence
from typing import Any


def run_workers(
    target: Callable[..., None], worker_args: Sequence[tuple[Any, ...]], *, timeout: float
) -> list[Any]:
    """Start ``target(*args, barrier, results)`` per entry; return the reports, sorted.

    The barrier lets every worker start writing at the same moment; each worker puts
    exactly one report on ``results``.
    """
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(len(worker_args))
    results = context.Queue()
    processes = [
        context.Process(target=target, args=(*args, barrier, results)) for args in worker_args
    ]
    for process in processes:
        process.start()
    try:
        outcomes = [results.get(timeout=timeout) for _ in processes]
    finally:
        for process in processes:
            process.join(timeout=30)
            if process.is_alive():
                process.kill()
                process.join()
            process.close()
        results.close()
        results.join_thread()
    return sorted(outcomes)
