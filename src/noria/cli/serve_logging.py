"""uvicorn's logging for ``noria serve``: its own configuration, with a failed start told in
one line. uvicorn logs an app whose startup raised with the whole traceback, while what went
wrong (a model that cannot load or warm up, say) is its last line; ``--debug`` keeps it all.
"""

from __future__ import annotations

import copy
import logging
import re
from typing import Any

_NORIA_ERROR = re.compile(r"^noria(?:\.\w+)+\.\w+: ")


class LastLineOfTraceback(logging.Filter):
    """Turns a logged traceback into its last line (a Noria error's message alone)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if message.startswith("Traceback (most recent call last)"):
            record.msg = _NORIA_ERROR.sub("", message.rstrip().splitlines()[-1])
            record.args = ()
        return True


def uvicorn_log_config(*, debug: bool) -> dict[str, Any]:
    """uvicorn's default logging configuration, with tracebacks cut unless ``debug``."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    if not debug:
        config["filters"] = {"last_line": {"()": f"{__name__}.LastLineOfTraceback"}}
        config["handlers"]["default"]["filters"] = ["last_line"]
    return config
