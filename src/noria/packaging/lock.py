"""``requirements.lock``: exact versions of everything a packaged model needs to run.

Two sets of roots are pinned, each with everything it needs in turn:

- the model's own pins (its ``requirements.txt``: the versions it was saved with), which win
  when they differ from what is installed here;
- Noria's runtime dependencies, at the versions installed here (the ones this Noria is
  tested with), and Noria itself, whose wheel ships in ``wheels/``.

The walk reads the installed distributions' metadata, so it needs no index. A dependency
behind an environment marker (``; sys_platform == "win32"``) is followed when it is installed
here, as pip decided when it installed this environment; the container runs the same Python
minor version on Linux, so that is the same decision. Extras are followed only when asked
for (``uvicorn[standard]``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from importlib import metadata

NORIA = "noria"
MODEL = "model"

_REQUIREMENT = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[([^\]]*)\])?")
_EXTRA_MARKER = re.compile(r"""extra\s*==\s*['"]([^'"]+)['"]""")


@dataclass(frozen=True, slots=True)
class LockEntry:
    """One pinned distribution and which roots need it (``model``, ``noria`` or both)."""

    name: str
    version: str
    needed_by: tuple[str, ...]

    def line(self) -> str:
        return f"{self.name}=={self.version}  # {', '.join(self.needed_by)}"


@dataclass(frozen=True, slots=True)
class RequirementsLock:
    entries: tuple[LockEntry, ...]  # sorted by name
    notes: tuple[str, ...]  # what could not be pinned, or where the model's pin won

    def pins(self) -> dict[str, str]:
        return {entry.name: entry.version for entry in self.entries}

    def text(self, *, model_uri: str) -> str:
        header = (
            f"# Exact versions for serving {model_uri} with Noria.\n"
            "# Written by `noria models package`. noria itself comes from wheels/:\n"
            "#   pip install --find-links wheels -r requirements.lock\n"
            "# 'model': pinned in model/requirements.txt (the versions the model was saved\n"
            "# with) or needed by those; 'noria': what Noria needs, as installed when packaged.\n"
        )
        notes = "".join(f"# note: {note}\n" for note in self.notes)
        return header + notes + "".join(entry.line() + "\n" for entry in self.entries)


def canonical_name(name: str) -> str:
    """PEP 503 normalised: ``Scikit_Learn`` → ``scikit-learn``."""
    return re.sub(r"[-_.]+", "-", name).lower()


def lock_requirements(model_pins: Mapping[str, str], *, noria_version: str) -> RequirementsLock:
    """The lock for a model saved with ``model_pins`` (distribution → exact version), served
    by Noria ``noria_version`` (the wheel shipped with the package)."""
    pinned = {canonical_name(name): version for name, version in model_pins.items()}
    model_roots = list(pinned)
    pinned[NORIA] = noria_version
    notes: list[str] = []
    needed_by: dict[str, set[str]] = {}
    for root, names in ((NORIA, [NORIA]), (MODEL, model_roots)):
        for name in _closure(names, notes):
            needed_by.setdefault(name, set()).add(root)
    entries = []
    for name in sorted(needed_by):
        installed = _installed_version(name)
        version = pinned.get(name, installed)
        if version is None:
            continue  # a model pin is always a version; _closure keeps only installed names
        if name in pinned and name != NORIA and installed not in (None, version):
            notes.append(
                f"{name}: the model was saved with {version}, {installed} is installed here; "
                f"the lock keeps the model's {version}"
            )
        entries.append(LockEntry(name, version, tuple(sorted(needed_by[name]))))
    return RequirementsLock(tuple(entries), tuple(dict.fromkeys(notes)))


def _closure(roots: list[str], notes: list[str]) -> list[str]:
    """``roots`` and every installed distribution they need, transitively."""
    extras_seen: dict[str, set[str]] = {}
    pending: list[tuple[str, frozenset[str]]] = [(canonical_name(r), frozenset()) for r in roots]
    while pending:
        name, extras = pending.pop()
        seen = extras_seen.get(name)
        if seen is not None and extras <= seen:
            continue
        extras_seen.setdefault(name, set()).update(extras)
        if _installed_version(name) is None:  # a model pin: pinned all the same
            notes.append(
                f"{name} is not installed here, so what it needs is not pinned; "
                "pip will choose those versions"
            )
            continue
        for dependency, wanted, conditional in _requirements(name, extras):
            if _installed_version(dependency) is not None:
                pending.append((dependency, wanted))
            elif not conditional:
                notes.append(
                    f"{dependency} (needed by {name}) is not installed here, so it is not "
                    "pinned; pip will choose its version"
                )
    return list(extras_seen)


def _requirements(name: str, extras: frozenset[str]) -> Iterator[tuple[str, frozenset[str], bool]]:
    """(dependency, its extras, whether a marker guards it) for ``name`` with ``extras``."""
    for line in metadata.requires(name) or []:
        specifier, _, marker = line.partition(";")
        match = _REQUIREMENT.match(specifier)
        if match is None:
            continue
        marker_extras = {canonical_name(extra) for extra in _EXTRA_MARKER.findall(marker)}
        if marker_extras and not marker_extras & extras:
            continue  # belongs to an extra nobody asked for
        wanted = frozenset(
            canonical_name(extra) for extra in (match[2] or "").split(",") if extra.strip()
        )
        yield canonical_name(match[1]), wanted, bool(marker.strip())


def _installed_version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None
