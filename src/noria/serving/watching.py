"""What the alias and deployment watchers share: a check repeated every few seconds for as
long as the server runs, which outlives any one failure, and the replaced versions being
retired in the background (each finishes its requests), awaited at shutdown."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from noria.serving.endpoints import retire
from noria.serving.state import ModelEndpoint

logger = logging.getLogger("noria.serving")


class Watch:
    """Runs ``check`` every ``interval_s`` seconds once started (never with 0); ``what``
    names the check in the log when it fails."""

    def __init__(self, check: Callable[[], Awaitable[None]], interval_s: float, what: str) -> None:
        self.interval_s = interval_s
        self._check = check
        self._what = what
        self._task: asyncio.Task[None] | None = None
        self._retiring: set[asyncio.Task[None]] = set()

    def start(self) -> None:
        if self.interval_s > 0 and self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._forever())

    def retire(self, endpoint: ModelEndpoint) -> None:
        """Close ``endpoint`` in the background once its queued requests are answered."""
        task = asyncio.get_running_loop().create_task(retire(endpoint))
        self._retiring.add(task)
        task.add_done_callback(self._retiring.discard)

    async def aclose(self) -> None:
        """Stop checking; the versions being retired finish their requests first."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._retiring:
            await asyncio.gather(*self._retiring)

    async def _forever(self) -> None:
        while True:
            await asyncio.sleep(self.interval_s)
            try:
                await self._check()
            except Exception:  # the watch must outlive any one failure; serving goes on
                logger.exception("%s failed; trying again", self._what)
