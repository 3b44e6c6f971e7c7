"""A writer killed with SIGKILL mid-put must leave no visible blob behind."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import noria
from noria.artifacts import ArtifactStore
from noria.backends.blobs.fsspec import FsspecBlobStore
from noria.backends.blobs.local import LocalBlobStore
from noria.errors import NotFound
from noria.ports.blobs import BlobStore

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(sys.platform == "win32", reason="needs SIGKILL"),
]

KEY = "crash/big.bin"

# The child streams 512 MiB at about 100 MiB/s, far longer than the parent waits.
WRITER = """
import io, sys, time
from pathlib import Path

class Slow(io.RawIOBase):
    def __init__(self, size):
        self.left = size
    def readable(self):
        return True
    def readinto(self, buffer):
        if self.left <= 0:
            return 0
        time.sleep(0.01)
        count = min(len(buffer), self.left, 1 << 20)
        buffer[:count] = b"z" * count
        self.left -= count
        return count

kind, root = sys.argv[1], sys.argv[2]
if kind == "local":
    from noria.backends.blobs.local import LocalBlobStore
    store = LocalBlobStore(Path(root))
else:
    from noria.backends.blobs.fsspec import FsspecBlobStore
    store = FsspecBlobStore(Path(root).as_uri())
store.put("crash/big.bin", Slow(512 << 20))
"""


def _store(kind: str, root: Path) -> BlobStore:
    return LocalBlobStore(root) if kind == "local" else FsspecBlobStore(root.as_uri())


def _kill_mid_write(kind: str, root: Path) -> None:
    """Start a writer, wait until its temp file has grown past 4 MiB, then SIGKILL it."""
    src = str(Path(noria.__file__).resolve().parents[1])
    paths = [src, *filter(None, [os.environ.get("PYTHONPATH")])]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(paths)}
    child = subprocess.Popen([sys.executable, "-c", WRITER, kind, str(root)], env=env)
    try:
        deadline = time.monotonic() + 20
        while not _temp_grew(root / ".tmp", 4 << 20):
            assert child.poll() is None, f"the writer exited early ({child.returncode})"
            assert time.monotonic() < deadline, "the writer never started writing"
            time.sleep(0.02)
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=10)
    assert child.returncode == -signal.SIGKILL


def _temp_grew(tmp_dir: Path, size: int) -> bool:
    try:
        with os.scandir(tmp_dir) as entries:
            return any(entry.stat().st_size > size for entry in entries)
    except FileNotFoundError:
        return False


@pytest.mark.parametrize("kind", ["local", "fsspec-file"])
def test_killed_writer_leaves_no_visible_blob(tmp_path: Path, kind: str) -> None:
    root = tmp_path / "blobs"
    _kill_mid_write(kind, root)

    store = _store(kind, root)
    assert not store.exists(KEY)
    assert list(store.list()) == []
    with pytest.raises(NotFound):
        store.open(KEY)
    assert len(os.listdir(root / ".tmp")) == 1  # the dead writer's partial file, hidden

    # A fresh store on the same root works as if nothing happened.
    artifacts = ArtifactStore(_store(kind, root))
    ref = artifacts.put_bytes(b"after the crash")
    assert artifacts.get_bytes(ref.digest) == b"after the crash"
    assert list(store.list()) == [ref.digest.blob_key]


def test_stale_temp_files_of_a_killed_writer_can_be_removed(tmp_path: Path) -> None:
    root = tmp_path / "blobs"
    _kill_mid_write("local", root)
    store = LocalBlobStore(root)
    assert store.remove_stale_temp_files() == 0  # too recent to be sure the writer died
    assert store.remove_stale_temp_files(older_than_seconds=0) == 1
    assert os.listdir(root / ".tmp") == []
    store.put(KEY, io.BytesIO(b"whole"))
    assert store.exists(KEY)
