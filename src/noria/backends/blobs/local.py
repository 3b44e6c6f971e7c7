"""Blobs as files under a local folder, written atomically through ``<root>/.tmp``."""

from __future__ import annotations

import contextlib
import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from noria.domain.blob_keys import TMP_DIR, check_key
from noria.errors import BackendError, InvalidArgument, NotFound

CHUNK_SIZE = 1024 * 1024
# Windows would otherwise translate newlines in the temp file.
_O_BINARY: int = getattr(os, "O_BINARY", 0)


class LocalBlobStore:
    """A :class:`~noria.ports.blobs.BlobStore` keeping each blob as ``<root>/<key>``.

    A put streams into ``<root>/.tmp/<random>`` and renames it onto the key, so a writer
    killed mid-way leaves only a file in ``.tmp`` (see :meth:`remove_stale_temp_files`).
    """

    def __init__(self, root: Path) -> None:
        # No I/O here: building the store must be free; folders appear on first put.
        self._root = Path(root)

    @property
    def uri(self) -> str:
        return str(self._root)

    @property
    def root(self) -> Path:
        return self._root

    def put(self, key: str, source: BinaryIO) -> int:
        """Stream ``source`` to a temp file, fsync it, then atomically rename it onto ``key``."""
        target = self._path(key)
        tmp_path = self._root / TMP_DIR / uuid.uuid4().hex
        try:
            size = _write_synced(tmp_path, source)
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(tmp_path, target)
        except OSError as exc:
            _discard(tmp_path)
            raise self._backend_error("write", key, exc) from exc
        except BaseException:
            _discard(tmp_path)
            raise
        return size

    def open(self, key: str) -> BinaryIO:
        try:
            return self._path(key).open("rb")
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError) as exc:
            raise NotFound(f"Blob {key!r} not found in the blob store at {self.uri}.") from exc
        except OSError as exc:
            raise self._backend_error("read", key, exc) from exc

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def list(self, prefix: str = "") -> Iterator[str]:
        """Keys starting with ``prefix``; never anything under ``.tmp``."""
        # Walk only the deepest folder the prefix names instead of the whole store.
        folder, _, _ = prefix.rpartition("/")
        start = self._root
        if folder:
            try:
                start = self._path(folder)
            except InvalidArgument:
                start = self._root
        for dirpath, dirnames, filenames in os.walk(start):
            here = Path(dirpath)
            if here == self._root and TMP_DIR in dirnames:
                dirnames.remove(TMP_DIR)
            for name in filenames:
                key = (here / name).relative_to(self._root).as_posix()
                if key.startswith(prefix):
                    yield key

    def delete(self, key: str) -> None:
        try:
            self._path(key).unlink(missing_ok=True)
        except IsADirectoryError:
            return
        except OSError as exc:
            raise self._backend_error("delete", key, exc) from exc

    def remove_stale_temp_files(self, older_than_seconds: float = 3600) -> int:
        """Delete leftovers of crashed writers in ``.tmp``; returns how many were removed.

        Only files older than ``older_than_seconds`` go, so running writers are spared.
        """
        cutoff = time.time() - older_than_seconds
        removed = 0
        try:
            with os.scandir(self._root / TMP_DIR) as scan:
                entries = list(scan)
        except FileNotFoundError:
            return 0
        for entry in entries:
            with contextlib.suppress(FileNotFoundError):
                if entry.is_file(follow_symlinks=False) and entry.stat().st_mtime <= cutoff:
                    os.unlink(entry.path)
                    removed += 1
        return removed

    def _path(self, key: str) -> Path:
        return self._root.joinpath(*check_key(key).split("/"))

    def _backend_error(self, action: str, key: str, exc: OSError) -> BackendError:
        return BackendError(
            f"Could not {action} blob {key!r} in the blob store at {self.uri}: {exc}"
        )


def _write_synced(path: Path, source: BinaryIO) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    # os.open with 0o666 (not mkstemp's 0o600) so blobs get the umask's usual permissions.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _O_BINARY, 0o666)
    size = 0
    with os.fdopen(fd, "wb") as out:
        while chunk := source.read(CHUNK_SIZE):
            out.write(chunk)
            size += len(chunk)
        out.flush()
        os.fsync(out.fileno())
    return size


def _discard(path: Path) -> None:
    with contextlib.suppress(OSError):
        path.unlink()
