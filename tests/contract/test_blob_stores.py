"""The blob and artifact contracts against every in-process blob store."""

from __future__ import annotations

import io
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, cast

import fsspec
import fsspec.core
import pytest

from noria.artifacts import ArtifactStore
from noria.backends.blobs.fsspec import FsspecBlobStore
from noria.backends.blobs.local import LocalBlobStore
from noria.backends.blobs.memory import MemoryBlobStore
from noria.errors import Conflict
from noria.ports.blobs import BlobStore
from noria.testing.contracts.artifacts import ArtifactStoreContract
from noria.testing.contracts.blobs import BlobStoreContract, FailingReader, MiB, SourceFailed


class LocalStore:
    @pytest.fixture
    def blob_store(self, tmp_path: Path) -> BlobStore:
        return LocalBlobStore(tmp_path / "blobs")


class MemoryStore:
    @pytest.fixture
    def blob_store(self) -> BlobStore:
        return MemoryBlobStore("memory://contract")


class FsspecFileStore:
    @pytest.fixture
    def blob_store(self, tmp_path: Path) -> BlobStore:
        return FsspecBlobStore((tmp_path / "blobs").as_uri())


class FsspecMemoryStore:
    @pytest.fixture
    def blob_store(self) -> Iterator[BlobStore]:
        # fsspec's memory filesystem is one process-wide dict: give each test its own
        # folder and empty it afterwards.
        root = f"/noria-test-{uuid.uuid4().hex}"
        yield FsspecBlobStore(f"memory://{root}")
        memory = fsspec.filesystem("memory")
        if memory.exists(root):
            memory.rm(root, recursive=True)


class TestLocalBlobStore(LocalStore, BlobStoreContract):
    pass


class TestMemoryBlobStore(MemoryStore, BlobStoreContract):
    pass


class TestFsspecFileBlobStore(FsspecFileStore, BlobStoreContract):
    pass


class TestFsspecMemoryBlobStore(FsspecMemoryStore, BlobStoreContract):
    pass


class TestLocalArtifactStore(LocalStore, ArtifactStoreContract):
    pass


class TestMemoryArtifactStore(MemoryStore, ArtifactStoreContract):
    pass


class TestFsspecFileArtifactStore(FsspecFileStore, ArtifactStoreContract):
    pass


class TestFsspecMemoryArtifactStore(FsspecMemoryStore, ArtifactStoreContract):
    pass


def test_every_store_satisfies_the_port(tmp_path: Path) -> None:
    stores = [
        LocalBlobStore(tmp_path),
        MemoryBlobStore("memory://x"),
        FsspecBlobStore(tmp_path.as_uri()),
    ]
    assert all(isinstance(store, BlobStore) for store in stores)


def test_memory_stores_do_not_share_contents() -> None:
    first, second = MemoryBlobStore("memory://same"), MemoryBlobStore("memory://same")
    first.put("k", io.BytesIO(b"v"))
    assert not second.exists("k")


def test_fsspec_store_does_no_io_until_used(tmp_path: Path) -> None:
    store = FsspecBlobStore((tmp_path / "later").as_uri())
    assert store.uri.endswith("/later")
    assert not (tmp_path / "later").exists()


class _FakeUpload:
    """An object-store upload: bytes become visible only when close() commits them."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []
        self.committed = False
        self.discarded = False
        self.closed = False

    def write(self, data: bytes) -> int:
        self.parts.append(data)
        return len(data)

    def close(self) -> None:
        self.committed = True
        self.closed = True

    def discard(self) -> None:
        self.discarded = True


class _FakeObjectStore:
    protocol = ("s3", "s3a")

    def __init__(self) -> None:
        self.uploads: dict[str, _FakeUpload] = {}

    def open(self, path: str, mode: str) -> _FakeUpload:
        self.uploads[path] = _FakeUpload()
        return self.uploads[path]


@pytest.fixture
def object_store(monkeypatch: pytest.MonkeyPatch) -> _FakeObjectStore:
    fake = _FakeObjectStore()
    monkeypatch.setattr(fsspec.core, "url_to_fs", lambda uri, **options: (fake, "bucket/pre"))
    return fake


def test_object_store_put_is_one_direct_upload(object_store: _FakeObjectStore) -> None:
    store = FsspecBlobStore("s3://bucket/pre")
    assert store.put("a/b", io.BytesIO(b"data")) == 4
    upload = object_store.uploads["bucket/pre/a/b"]
    assert list(object_store.uploads) == ["bucket/pre/a/b"]  # no .tmp detour
    assert (b"".join(upload.parts), upload.committed) == (b"data", True)


def test_object_store_failed_put_is_discarded_not_committed(
    object_store: _FakeObjectStore,
) -> None:
    store = FsspecBlobStore("s3://bucket/pre")
    with pytest.raises(SourceFailed):
        store.put("a/b", cast(BinaryIO, FailingReader(3 * MiB)))
    upload = object_store.uploads["bucket/pre/a/b"]
    assert upload.discarded
    assert not upload.committed


class _ChangesFileOnExists(MemoryBlobStore):
    """Rewrites ``victim`` when asked whether a blob exists: the moment between
    ArtifactStore.put_file's hash pass and its upload."""

    def __init__(self, victim: Path) -> None:
        super().__init__("memory://racy")
        self.victim = victim

    def exists(self, key: str) -> bool:
        self.victim.write_bytes(b"changed behind our back")
        return super().exists(key)


def test_put_file_of_a_changing_file_stores_nothing(tmp_path: Path) -> None:
    victim = tmp_path / "data.bin"
    victim.write_bytes(b"original content")
    blobs = _ChangesFileOnExists(victim)
    with pytest.raises(Conflict, match="changed while it was being stored"):
        ArtifactStore(blobs).put_file(victim)
    assert list(blobs.list()) == []
