"""Run the whole lifecycle once, in order, on the stores of ``client``.

>>> with noria.connect() as client:
...     facts = run_quickstart(client, QuickstartOptions(fast=True), Narrator())

The model server runs in the background from the ``serve`` stage to the promotion and is
stopped however the run ends; so is the package verification. A home that already holds a
quickstart is refused (one line saying how to start afresh): the quickstart's names are
fixed so that the commands it suggests work, and it never changes what a user built.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from noria.errors import AlreadyExists, BackendError, NotFound
from noria.quickstart import retrain, stages, watch
from noria.quickstart.flows import MODEL_NAME
from noria.quickstart.narration import Narrator
from noria.quickstart.options import DEPLOYMENT, QuickstartOptions
from noria.quickstart.server_process import check_port_free, free_port, serving
from noria.quickstart.session import Session
from noria.quickstart.summary import Facts

if TYPE_CHECKING:
    from noria.client import Client

REQUEST_TIMEOUT_S = 60.0


def refuse_used_home(client: Client) -> None:
    """One clear line when this store already holds the quickstart's model or deployment."""
    found = []
    for kind, lookup in (
        (f"model '{MODEL_NAME}'", lambda: client.registry.get_model(MODEL_NAME)),
        (f"deployment '{DEPLOYMENT}'", lambda: client.deployments.get(DEPLOYMENT)),
    ):
        try:
            lookup()
        except NotFound:
            continue
        found.append(kind)
    if found:
        home = client.settings.home.expanduser().absolute()
        raise AlreadyExists(
            f"{home} already holds a quickstart ({' and '.join(found)}); explore it with "
            f"`noria deploy show {DEPLOYMENT}`, or run the quickstart in a fresh home: "
            f"`noria --home /tmp/noria-quickstart quickstart`, or remove {home} first."
        )


def run_quickstart(client: Client, options: QuickstartOptions, say: Narrator) -> Facts:
    """Every stage, narrated by ``say``; returns what was found (the summary's facts)."""
    from noria.client import set_default_client

    refuse_used_home(client)
    port = free_port() if options.port is None else check_port_free(options.port)
    session = Session(client, options, say)
    session.facts = Facts(home=str(session.home), seed=options.seed, drift=options.drift,
                          fast=options.fast)  # fmt: skip
    say.headline(
        f"Noria quickstart: credit risk, seed {options.seed}, drift {options.drift:g}"
        f"{', --fast' if options.fast else ''}; everything goes to {session.home}"
    )
    previous = set_default_client(client)  # what the pipeline's steps call noria.* on
    try:
        for stage in (stages.ingest, stages.validate, stages.train, stages.gate,
                      stages.champion, stages.package, watch.deploy):  # fmt: skip
            _timed(session, stage)
        _serve_and_close_the_loop(session, port)
        _finish_verification(session)
    finally:
        if session.verify is not None:
            session.verify.stop()
        set_default_client(previous)
    session.facts.seconds = round(say.elapsed, 1)
    return session.facts


def _serve_and_close_the_loop(session: Session, port: int) -> None:
    import httpx

    log = session.home / "logs" / "quickstart-serve.log"
    started = time.monotonic()
    with serving(session.client.settings, DEPLOYMENT, port, log) as server:
        session.facts.server_url = server.url
        session.facts.timings["serve"] = round(time.monotonic() - started, 2)
        session.say.stage(
            "serve",
            f"noria serve --deployment {DEPLOYMENT} on {server.url} (pid {server.pid}, in the "
            f"background; log {log})",
        )
        with httpx.Client(base_url=server.url, timeout=REQUEST_TIMEOUT_S) as http:
            session.http = http
            try:
                for stage in (watch.traffic, watch.drift, watch.monitor, retrain.retrain,
                              retrain.challenge, retrain.shadow, retrain.promote):  # fmt: skip
                    _timed(session, stage)
            finally:
                session.http = None
    session.say.print(f"Stopped the model server (pid {server.pid}).")


def _timed(session: Session, stage: Callable[[Session], None]) -> None:
    started = time.monotonic()
    stage(session)
    session.facts.timings[stage.__name__] = round(time.monotonic() - started, 2)


def _finish_verification(session: Session) -> None:
    if session.verify is None:
        return
    with session.say.progress("waiting for the package verification"):
        result = session.verify.result()
    session.facts.package.update(verified=result.ok, verify_seconds=result.seconds)
    if result.ok:
        session.say.print(
            f"Package verified: a fresh virtualenv served {session.facts.package['out']} and "
            f"answered as this process predicts ({result.seconds:.0f} s, in the background)."
        )
        return
    session.facts.package["problem"] = result.problem
    raise BackendError(f"The package did not verify: {result.problem}")
