"""uvicorn's logging for ``noria serve``: its own configuration, with a failed start told in
one line. uvicorn logs an app whose startup raised with the whole traceback, while what went
wrong (a model that cannot load or warm up, say) is the final exception's text;
``--debug`` keeps it all.
"""

from __future__ import annotations

import copy
import logging
import re
from typing import Any

_NORIA_ERROR = re.compile(r"^noria(?:\.\w+)+\.\w+: ")
# Where an exception's text starts: its class (module path optional), a colon, a space.
_EXCEPTION = re.compile(r"^(?:\w+\.)*[A-Z]\w*: ")


class OneLineTraceback(logging.Filter):
    """Turns a logged traceback into one line: the final exception's text (a Noria error's
    message alone), its own lines joined."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if message.startswith("Traceback (most recent call last)"):
            record.msg = final_error(message)
            record.args = ()
        return True


def final_error(traceback: str) -> str:
    """The last exception of a formatted traceback, on one line."""
    lines = traceback.rstrip().splitlines()
    starts = [index for index, line in enumerate(lines) if _EXCEPTION.match(line)]
    if not starts:
        return lines[-1].strip()
    # A message may span lines (a YAML error points at its column with a caret line).
    parts = [line.strip() for line in lines[starts[-1] :] if line.strip(" ^~")]
    return _NORIA_ERROR.sub("", " ".join(parts))


def uvicorn_log_config(*, debug: bool) -> dict[str, Any]:
    """uvicorn's default logging configuration, with tracebacks cut unless ``debug``."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    if not debug:
        config["filters"] = {"one_line": {"()": f"{__name__}.OneLineTraceback"}}
        config["handlers"]["default"]["filters"] = ["one_line"]
    return config
