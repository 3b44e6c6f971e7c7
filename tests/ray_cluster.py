"""A real local Ray cluster for tests: `ray start --head` on 127.0.0.1 with a free port.

The cluster runs in its own session (``start_new_session``) and its own temp folder, so it
is stopped by signalling exactly the processes of that session — never `ray stop`, which
would also stop every other Ray on the machine (another test run's, say) — and so that
`ray.init()` elsewhere on the machine never finds it by accident.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.conftest import free_port, require_service

_STOP_GRACE_S = 5.0


@dataclass(frozen=True)
class RayCluster:
    address: str  # HOST:PORT of the head's GCS, what `ray:HOST:PORT` names

    @property
    def spec(self) -> str:
        return f"ray:{self.address}"


def _ray_command() -> str:
    command = Path(sys.executable).with_name("ray")
    if not command.exists():
        require_service("Ray", "the `ray` command is not installed: pip install 'noria[ray]'")
    return str(command)


def _session_members(session: int) -> list[int]:
    import psutil  # a dependency of ray[default]

    members = []
    for pid in psutil.pids():
        with contextlib.suppress(OSError):
            if os.getsid(pid) == session:
                members.append(pid)
    return members


def _signal_all(pids: list[int], signum: signal.Signals) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signum)


def _stop_session(session: int) -> None:
    """SIGTERM every process of the cluster's session, then SIGKILL what is left."""
    _signal_all(_session_members(session), signal.SIGTERM)
    deadline = time.monotonic() + _STOP_GRACE_S
    while (left := _session_members(session)) and time.monotonic() < deadline:
        time.sleep(0.2)
    _signal_all(left, signal.SIGKILL)


@contextmanager
def ray_cluster(num_cpus: int = 2) -> Iterator[RayCluster]:
    """Start a head node, yield its address, and always stop it (even after a failure)."""
    port, client_port = free_port(), free_port()
    # Short: Ray puts Unix sockets under it, and their paths are limited to ~107 bytes.
    temp_dir = Path(tempfile.mkdtemp(prefix="noria-ray-", dir="/tmp"))
    env = {key: value for key, value in os.environ.items() if not key.startswith("NORIA_")}
    # The driver joins by explicit address, which never turns on Ray's token auth; a token
    # left in ~/.ray by an earlier local Ray must not turn it on for this cluster either.
    env["RAY_AUTH_MODE"] = "disabled"
    command = [
        _ray_command(),
        "start",
        "--head",
        f"--port={port}",
        "--node-ip-address=127.0.0.1",
        f"--num-cpus={num_cpus}",
        "--include-dashboard=false",
        "--disable-usage-stats",
        f"--temp-dir={temp_dir}",
        # Not the default 10001, which another cluster on the machine may hold.
        f"--ray-client-server-port={client_port}",
    ]
    log = temp_dir / "ray-start.log"
    with log.open("wb") as out:
        starter = subprocess.Popen(
            command, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        if starter.wait(timeout=90) != 0:
            raise RuntimeError(f"`ray start` failed ({starter.returncode}):\n{log.read_text()}")
        yield RayCluster(address=f"127.0.0.1:{port}")
    finally:
        _stop_session(starter.pid)  # the session is named after `ray start`'s own pid
        with contextlib.suppress(subprocess.TimeoutExpired):
            starter.wait(timeout=10)
        shutil.rmtree(temp_dir, ignore_errors=True)
