"""Run the whole lifecycle once, in order, on the stores of ``client``.

>>> with noria.connect() as client:
...     facts = run_quickstart(client, QuickstartOptions(fast=True), Narrator())

The model server runs in the background from the ``serve`` stage to the promotion and is
stopped however the run ends; so is the package verification. Run again in the same home,
it adds new runs and versions: what earlier runs left is brought back to the starting shape
(:mod:`noria.quickstart.earlier`); a name taken by something a user made is refused in one
line, before anything changes.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from noria.errors import BackendError
from noria.quickstart import earlier, retrain, stages, watch
from noria.quickstart.narration import Narrator
from noria.quickstart.options import DEPLOYMENT, QuickstartOptions
from noria.quickstart.server_process import check_port_free, free_port, serving
from noria.quickstart.session import Session
from noria.quickstart.summary import Facts

if TYPE_CHECKING:
    from noria.client import Client

REQUEST_TIMEOUT_S = 60.0


def run_quickstart(client: Client, options: QuickstartOptions, say: Narrator) -> Facts:
    """Every stage, narrated by ``say``; returns what was found (the summary's facts)."""
    from noria.client import set_default_client

    found = earlier.inspect(client)
    port = free_port() if options.port is None else check_port_free(options.port)
    session = Session(client, options, say, earlier=found)
    session.facts = Facts(home=str(session.home), seed=options.seed, drift=options.drift,
                          fast=options.fast, earlier_versions=found.versions)  # fmt: skip
    say.headline(
        f"Noria quickstart: credit risk, seed {options.seed}, drift {options.drift:g}"
        f"{', --fast' if options.fast else ''}; everything goes to {session.home}"
    )
    if found.found:
        _say_running_again(say, found)
    earlier.claim_model(client, found)
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


def _say_running_again(say: Narrator, found: earlier.Earlier) -> None:
    champion = None if found.model is None else found.model.aliases.get("champion")
    left = f"credit-risk up to version {found.versions}" if found.versions else "no version"
    say.print(
        f"Running again: earlier runs here left {left}"
        + ("" if champion is None else f" (champion: version {champion})")
        + "; this run registers new versions, brings credit-api and the retrain-credit "
        "schedule back to the starting shape by audited updates and makes the monitor afresh."
    )


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
