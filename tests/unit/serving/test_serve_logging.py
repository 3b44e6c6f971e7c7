"""A failed start of `noria serve`, logged by uvicorn as a traceback, told in one line."""

from __future__ import annotations

import logging
import traceback

from noria.cli.serve_logging import OneLineTraceback, final_error
from noria.errors import InvalidArgument, Unsupported


def formatted(exc: BaseException) -> str:
    try:
        raise exc
    except BaseException as raised:
        return traceback.format_exc() if raised else ""


def chained() -> str:
    try:
        try:
            raise Unsupported("no class probabilities")
        except Unsupported as cause:
            raise InvalidArgument(
                "model 'reg' could not predict: no class probabilities"
            ) from cause
    except InvalidArgument:
        return traceback.format_exc()


def test_the_final_noria_error_is_its_message_alone() -> None:
    assert final_error(chained()) == "model 'reg' could not predict: no class probabilities"


def test_a_message_over_several_lines_is_joined_without_its_caret_line() -> None:
    text = formatted(
        ValueError("not valid YAML at line 7:\n  flavor: [broken\n          ^\nexpected ','")
    )
    assert final_error(text) == "ValueError: not valid YAML at line 7: flavor: [broken expected ','"


def test_an_exception_without_a_message_is_its_name() -> None:
    assert final_error(formatted(KeyboardInterrupt())) == "KeyboardInterrupt"


def test_the_filter_rewrites_only_tracebacks() -> None:
    one_line = OneLineTraceback()
    record = logging.LogRecord("uvicorn.error", logging.ERROR, "", 0, chained(), None, None)
    assert one_line.filter(record)
    assert record.getMessage() == "model 'reg' could not predict: no class probabilities"
    plain = logging.LogRecord("uvicorn.error", logging.INFO, "", 0, "Started %s", ("it",), None)
    assert one_line.filter(plain) and plain.getMessage() == "Started it"
