"""The commands a package's Dockerfile runs, read back from the Dockerfile itself and adapted
to run here: the server (``ENTRYPOINT`` + ``CMD``) and its ``HEALTHCHECK``.

``--verify`` runs these very command lines from a fresh virtual environment, so that a
Dockerfile whose entrypoint or health check does not work fails verification, not a
deployment. Only the paths and the address change: the model folder is the package's
``model/``, the server listens on 127.0.0.1 on a free port, and the health check asks that port.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from noria.errors import InvalidArgument
from noria.packaging.dockerfile import MODEL_DIR, PORT


@dataclass(frozen=True, slots=True)
class ImageCommands:
    """The exec-form command lines of a Dockerfile."""

    entrypoint: tuple[str, ...]
    cmd: tuple[str, ...]
    healthcheck: tuple[str, ...]

    def server_command(self, *, bin_dir: Path, model_dir: Path, port: int) -> list[str]:
        """``ENTRYPOINT`` + ``CMD`` with the fresh environment's executable, the package's
        model folder, and 127.0.0.1:``port``."""
        command = [*self.entrypoint, *self.cmd]
        if command[:2] != ["noria", "serve"]:
            raise InvalidArgument(
                f"the Dockerfile's ENTRYPOINT and CMD run {command[:3]}, not `noria serve`; "
                "package the model again"
            )
        local = {MODEL_DIR: str(model_dir), "0.0.0.0": "127.0.0.1", str(PORT): str(port)}
        return [str(bin_dir / "noria"), *(local.get(part, part) for part in command[1:])]

    def health_command(self, *, bin_dir: Path, port: int) -> list[str]:
        """``HEALTHCHECK``'s command, run by the fresh environment's Python on ``port``."""
        if not self.healthcheck or self.healthcheck[0] != "python":
            raise InvalidArgument(
                f"the Dockerfile's HEALTHCHECK runs {list(self.healthcheck[:2])}, not Python; "
                "package the model again"
            )
        local = [part.replace(f":{PORT}/", f":{port}/") for part in self.healthcheck[1:]]
        return [str(bin_dir / "python"), *local]


def read_image_commands(dockerfile: Path) -> ImageCommands:
    """ENTRYPOINT, CMD and HEALTHCHECK of ``dockerfile``, each in exec (JSON) form."""
    found: dict[str, tuple[str, ...]] = {}
    for instruction in _instructions(dockerfile.read_text(encoding="utf-8")):
        keyword, _, rest = instruction.partition(" ")
        keyword = keyword.upper()
        if keyword == "HEALTHCHECK":
            _, _, rest = rest.partition(" CMD ")
        if keyword in ("ENTRYPOINT", "CMD", "HEALTHCHECK"):
            found[keyword] = _exec_form(rest, keyword, dockerfile)
    missing = [name for name in ("ENTRYPOINT", "CMD", "HEALTHCHECK") if name not in found]
    if missing:
        raise InvalidArgument(
            f"{dockerfile} has no {', '.join(missing)}; package the model again to rewrite it"
        )
    return ImageCommands(found["ENTRYPOINT"], found["CMD"], found["HEALTHCHECK"])


def _instructions(text: str) -> list[str]:
    """The Dockerfile's instructions, continuation lines joined, comments left out."""
    instructions, current = [], ""
    for line in text.splitlines():
        stripped = line.strip()
        if not current and (not stripped or stripped.startswith("#")):
            continue
        if stripped.endswith("\\"):
            current += stripped[:-1].strip() + " "
            continue
        instructions.append(current + stripped)
        current = ""
    return instructions


def _exec_form(text: str, keyword: str, dockerfile: Path) -> tuple[str, ...]:
    try:
        parts = json.loads(text)
    except ValueError:
        parts = None
    if not isinstance(parts, list) or not all(isinstance(part, str) for part in parts):
        raise InvalidArgument(
            f"{dockerfile}: {keyword} {text[:60]!r} is not in exec form (a JSON list of "
            "strings); package the model again to rewrite it"
        )
    return tuple(parts)
