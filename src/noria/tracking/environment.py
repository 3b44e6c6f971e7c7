"""What a run records about where it ran: code version, entry point, Python, packages, host.

Captured once per process: the package list and git state do not change between
the runs of one script, and reading them costs tens of milliseconds.
"""

from __future__ import annotations

import functools
import os
import platform
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from noria.settings import os_user

MAX_DIFF_BYTES = 5 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class GitState:
    commit: str
    dirty: bool
    diff: bytes  # `git diff HEAD` when dirty, else empty


@dataclass(frozen=True, slots=True)
class RunEnvironment:
    entry_point: str
    python: str
    platform: str
    host: str
    os_user: str
    packages: tuple[str, ...]  # "name==version", sorted
    git: GitState | None

    def tags(self) -> dict[str, str]:
        tags = {
            "noria.source.entry_point": self.entry_point,
            "noria.python": self.python,
            "noria.platform": self.platform,
            "noria.host": self.host,
            "noria.os_user": self.os_user,
        }
        if self.git is not None:
            tags["noria.source.git.commit"] = self.git.commit
            tags["noria.source.git.dirty"] = "true" if self.git.dirty else "false"
        return tags

    def requirements(self) -> bytes:
        return ("\n".join(self.packages) + "\n").encode()


def _entry_point() -> str:
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    if path:
        return str(Path(path).resolve())
    return sys.argv[0] or "<interactive>"


def _git(args: list[str], cwd: Path) -> bytes | None:
    try:
        done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None  # no git here: the run simply records no code version
    return done.stdout if done.returncode == 0 else None


def git_state(directory: Path) -> GitState | None:
    commit = _git(["rev-parse", "HEAD"], directory)
    if commit is None:
        return None
    status = _git(["status", "--porcelain", "--untracked-files=no"], directory) or b""
    dirty = bool(status.strip())
    diff = (_git(["diff", "HEAD"], directory) or b"")[:MAX_DIFF_BYTES] if dirty else b""
    return GitState(commit=commit.decode().strip(), dirty=dirty, diff=diff)


def _packages() -> tuple[str, ...]:
    from importlib.metadata import distributions

    found = {
        f"{dist.metadata['Name']}=={dist.version}"
        for dist in distributions()
        if dist.metadata["Name"]
    }
    return tuple(sorted(found, key=str.lower))


@functools.cache
def capture_environment() -> RunEnvironment:
    entry = _entry_point()
    folder = Path(entry).parent if os.path.isfile(entry) else Path.cwd()
    return RunEnvironment(
        entry_point=entry,
        python=platform.python_version(),
        platform=platform.platform(),
        host=socket.gethostname(),
        os_user=os_user(),
        packages=_packages(),
        git=git_state(folder),
    )
