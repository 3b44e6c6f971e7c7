"""Directory trees: the JSON manifest format and safe walking of local folders."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from noria.domain.artifacts import TREE_MEDIA_TYPE, Digest, TreeEntry
from noria.errors import InvalidArgument


def encode_manifest(entries: Iterable[TreeEntry]) -> bytes:
    """Canonical JSON (sorted entries and keys), so equal folders get equal digests.

    ``{"format": TREE_MEDIA_TYPE, "entries": [{"path", "digest", "size"}, ...]}``.
    Paths are not checked here; :func:`decode_manifest` checks them on the way out.
    """
    body = {
        "format": TREE_MEDIA_TYPE,
        "entries": [
            {"path": entry.path, "digest": str(entry.digest), "size": entry.size}
            for entry in sorted(entries, key=lambda entry: entry.path)
        ],
    }
    return json.dumps(body, sort_keys=True, separators=(",", ":")).encode()


def decode_manifest(data: bytes, digest: Digest) -> list[TreeEntry]:
    """The entries of a manifest; InvalidArgument if ``data`` is not one."""
    not_a_tree = f"Artifact {digest} is not a directory tree manifest"
    try:
        body = json.loads(data)
    except ValueError as exc:  # UnicodeDecodeError is a ValueError too
        raise InvalidArgument(f"{not_a_tree}: it is not JSON.") from exc
    if not isinstance(body, dict) or body.get("format") != TREE_MEDIA_TYPE:
        raise InvalidArgument(f"{not_a_tree}: it lacks the format {TREE_MEDIA_TYPE!r}.")
    raw_entries = body.get("entries")
    if not isinstance(raw_entries, list):
        raise InvalidArgument(f"{not_a_tree}: 'entries' is not a list.")
    return [_decode_entry(raw, not_a_tree) for raw in raw_entries]


def _decode_entry(raw: Any, not_a_tree: str) -> TreeEntry:
    if not isinstance(raw, dict):
        raise InvalidArgument(f"{not_a_tree}: an entry is not an object.")
    path, digest, size = raw.get("path"), raw.get("digest"), raw.get("size")
    if (
        not isinstance(path, str)
        or not isinstance(digest, str)
        or not isinstance(size, int)
        or isinstance(size, bool)
        or size < 0
    ):
        raise InvalidArgument(f"{not_a_tree}: bad entry {raw!r}.")
    return TreeEntry(path=check_tree_path(path), digest=Digest.parse(digest), size=size)


def check_tree_path(path: str) -> str:
    """Return ``path`` if it is relative, '/'-separated and stays inside its tree."""
    parts = path.split("/")
    if "\\" in path or "\x00" in path or any(part in ("", ".", "..") for part in parts):
        raise InvalidArgument(
            f"Tree path {path!r} is not allowed: paths must be relative and '/'-separated, "
            "without empty, '.' or '..' segments, backslashes or NUL characters."
        )
    return path


def destination(dest: Path, path: str) -> Path:
    """Where tree entry ``path`` goes under ``dest``, refusing anything that escapes it."""
    target = dest.joinpath(*check_tree_path(path).split("/"))
    # resolve() also sees through symlinks already in dest that point elsewhere.
    if not target.resolve().is_relative_to(dest.resolve()):
        raise InvalidArgument(f"Tree path {path!r} would be written outside {dest}.")
    return target


def list_files(root: Path) -> list[tuple[str, Path]]:
    """Regular files under ``root`` as (relative posix path, path), sorted by path.

    Symlinks are followed when their target lies inside ``root``; one pointing outside,
    a dangling one or a loop of linked folders is refused with InvalidArgument.
    """
    base = root.resolve()
    found: list[tuple[str, Path]] = []
    _walk(base, root, "", frozenset({base}), found)
    return sorted(found)


def _walk(
    base: Path, folder: Path, prefix: str, ancestors: frozenset[Path], found: list[tuple[str, Path]]
) -> None:
    with os.scandir(folder) as scan:
        entries = sorted(scan, key=lambda entry: entry.name)
    for entry in entries:
        relative = check_tree_path(f"{prefix}{entry.name}")
        path = Path(entry.path)
        if entry.is_symlink():
            _check_link(base, path, relative)
        if entry.is_dir():
            real = path.resolve()
            if real in ancestors:
                raise InvalidArgument(f"Symlink loop at {relative!r} in {base}.")
            _walk(base, path, f"{relative}/", ancestors | {real}, found)
        elif entry.is_file():
            found.append((relative, path))


def _check_link(base: Path, path: Path, relative: str) -> None:
    try:
        target = path.resolve()
    except (RuntimeError, OSError) as exc:  # a loop of links: RuntimeError before 3.13
        raise InvalidArgument(f"Symlink {relative!r} in {base} cannot be resolved.") from exc
    if not target.is_relative_to(base):
        raise InvalidArgument(
            f"Symlink {relative!r} in {base} points outside the directory (to {target}); "
            "copy the file in or remove the link."
        )
    if not target.exists():
        raise InvalidArgument(f"Symlink {relative!r} in {base} points to nothing.")
