"""How the quickstart tells what it does: one numbered line per stage on stdout, indented
details under it, and a transient progress bar on stderr while a long stage works.

``Narrator(quiet=True)`` says nothing (``--json`` prints only the final document).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)

STAGES = (
    "ingest",
    "validate",
    "train",
    "gate",
    "champion",
    "package",
    "deploy",
    "serve",
    "traffic",
    "drift",
    "monitor",
    "retrain",
    "challenge",
    "shadow",
    "promote",
)
Advance = Callable[[int], None]


class Narrator:
    def __init__(self, *, quiet: bool = False, out: Console | None = None) -> None:
        self.quiet = quiet
        self._out = out or Console(highlight=False, soft_wrap=True)
        self._err = Console(stderr=True, highlight=False)
        self._started = time.monotonic()

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self._started

    def headline(self, text: str) -> None:
        self._print(f"[bold]{_escape(text)}[/bold]")

    def stage(self, name: str, text: str) -> None:
        """The line of stage ``name`` (one of :data:`STAGES`), numbered."""
        number = STAGES.index(name) + 1
        self._print(
            f"[cyan]{number:>2}/{len(STAGES)}[/cyan] [bold]{name:<9}[/bold] {_escape(text)}"
        )

    def detail(self, text: str) -> None:
        """A further line of the current stage."""
        for line in text.splitlines():
            self._print(f"                {_escape(line)}")

    def print(self, text: str = "", *, markup: bool = False) -> None:
        if not self.quiet:
            self._out.print(text, markup=markup)

    @contextlib.contextmanager
    def progress(self, description: str, total: int | None = None) -> Iterator[Advance]:
        """A bar (a spinner when ``total`` is None) on stderr while the block runs; the
        block calls the yielded function with the units done since its last call."""
        if self.quiet or not self._err.is_terminal:
            yield lambda _done: None
            return
        columns = [SpinnerColumn(), TextColumn("{task.description}")]
        if total is not None:
            columns += [BarColumn(), MofNCompleteColumn()]
        with Progress(*columns, TimeElapsedColumn(), console=self._err, transient=True) as bar:
            task = bar.add_task(description, total=total)
            yield lambda done: bar.advance(task, done)

    def _print(self, text: str) -> None:
        if not self.quiet:
            self._out.print(text)


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)
