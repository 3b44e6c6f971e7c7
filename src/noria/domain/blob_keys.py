"""The one rule for blob keys, shared by every blob store (local, memory, fsspec, http)."""

from __future__ import annotations

from noria.errors import InvalidArgument

TMP_DIR = ".tmp"


def check_key(key: str) -> str:
    """Return ``key`` if it is a safe relative '/'-separated key, else raise InvalidArgument.

    Keys become file paths in some stores, so anything that could escape the root
    or land in the store's own temporary folder is refused everywhere alike.
    """
    problem = _key_problem(key)
    if problem is not None:
        raise InvalidArgument(f"Invalid blob key {key!r}: {problem}.")
    return key


def _key_problem(key: str) -> str | None:
    if not key:
        return "it is empty"
    if "\\" in key or "\x00" in key:
        return "backslashes and NUL characters are not allowed"
    if key.startswith(TMP_DIR):
        return f"keys starting with {TMP_DIR!r} are reserved for unfinished writes"
    if any(part in ("", ".", "..") for part in key.split("/")):
        return "it must be relative, without empty, '.' or '..' segments"
    return None
