"""LocalBlobStore behaviour beyond the port: layout, key checks, the .tmp folder."""

from __future__ import annotations

import io
import os
import time
from pathlib import Path
from typing import BinaryIO, cast

import pytest

from noria.backends.blobs.local import LocalBlobStore
from noria.errors import InvalidArgument, NotFound
from noria.testing.contracts.blobs import FailingReader, MiB, SourceFailed


def test_constructor_does_no_io(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path / "not-yet")
    assert store.uri == str(tmp_path / "not-yet")
    assert not (tmp_path / "not-yet").exists()
    assert list(store.list()) == []
    assert not store.exists("a/b")
    store.delete("a/b")
    assert store.remove_stale_temp_files() == 0
    assert not (tmp_path / "not-yet").exists()


def test_blobs_are_plain_files_under_the_root(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path)
    store.put("sha256/ab/cd/blob", io.BytesIO(b"bytes"))
    assert (tmp_path / "sha256" / "ab" / "cd" / "blob").read_bytes() == b"bytes"
    assert os.listdir(tmp_path / ".tmp") == []  # the temp file became the blob


def test_not_found_names_the_key_and_the_store(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path)
    with pytest.raises(NotFound) as caught:
        store.open("some/key")
    assert "'some/key'" in str(caught.value)
    assert str(tmp_path) in str(caught.value)


@pytest.mark.parametrize(
    "key", ["/etc/passwd", "../outside", "a/../../outside", "a\\b", ".tmp", ".tmp/x", "a//b", ""]
)
def test_unsafe_keys_are_refused_by_every_operation(tmp_path: Path, key: str) -> None:
    store = LocalBlobStore(tmp_path / "root")
    for operation in (store.open, store.exists, store.delete):
        with pytest.raises(InvalidArgument, match="Invalid blob key"):
            operation(key)
    with pytest.raises(InvalidArgument):
        store.put(key, io.BytesIO(b"x"))
    assert not (tmp_path / "outside").exists()


def test_temp_files_never_show_up(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path)
    store.put("visible", io.BytesIO(b"v"))
    (tmp_path / ".tmp" / "leftover").write_bytes(b"half a blob")
    assert list(store.list()) == ["visible"]
    assert list(store.list(".tmp")) == []
    assert list(store.list(".tmp/")) == []


def test_failed_put_leaves_no_temp_file(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path)
    with pytest.raises(SourceFailed):
        store.put("k", cast(BinaryIO, FailingReader(2 * MiB)))
    assert os.listdir(tmp_path / ".tmp") == []
    assert not store.exists("k")


def test_remove_stale_temp_files_spares_recent_ones(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path)
    tmp_dir = tmp_path / ".tmp"
    tmp_dir.mkdir()
    old, fresh = tmp_dir / "old", tmp_dir / "fresh"
    old.write_bytes(b"crashed writer")
    fresh.write_bytes(b"running writer")
    two_hours_ago = time.time() - 7200
    os.utime(old, (two_hours_ago, two_hours_ago))
    assert store.remove_stale_temp_files() == 1
    assert sorted(os.listdir(tmp_dir)) == ["fresh"]
    assert store.remove_stale_temp_files(older_than_seconds=0) == 1
    assert os.listdir(tmp_dir) == []


def test_blob_that_is_a_folder_is_not_found(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path)
    store.put("a/b", io.BytesIO(b"v"))
    assert not store.exists("a")
    with pytest.raises(NotFound):
        store.open("a")
    store.delete("a")
    assert store.exists("a/b")
