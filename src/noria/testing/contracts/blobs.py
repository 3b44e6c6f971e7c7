"""The BlobStore contract: subclass it and provide a ``blob_store`` fixture.

It uses only the port, and only keys under a fresh uuid prefix, so it also runs
against a shared or remote store that already holds data.
"""

from __future__ import annotations

import hashlib
import io
import random
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, BinaryIO, ClassVar, cast

import pytest

from noria.errors import InvalidArgument, NoriaError, NotFound
from noria.ports.blobs import BlobStore

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

MiB = 1024 * 1024
INVALID_KEYS = ["", "/abs", "a//b", "a/", "./a", "a/./b", "a/../b", "..", "a\\b", ".tmp/x"]


class GeneratedReader(io.RawIOBase):
    """``size`` pseudo-random bytes made on demand; records how callers read them.

    ``largest_request`` is the biggest ``read(n)`` asked for and ``unbounded_reads``
    counts ``read()``/``read(-1)`` calls, so a test can tell a streamed consumer from
    one that swallows the whole source at once.
    """

    def __init__(self, size: int, *, seed: int = 0) -> None:
        self._remaining = size
        self._random = random.Random(seed)
        self._pending = b""
        self._hasher = hashlib.sha256()
        self.largest_request = 0
        self.unbounded_reads = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        if size is None or size < 0:
            self.unbounded_reads += 1
            size = self._remaining + len(self._pending)
        self.largest_request = max(self.largest_request, size)
        while len(self._pending) < size and self._remaining:
            block = self._random.randbytes(min(64 * 1024, self._remaining))
            self._remaining -= len(block)
            self._hasher.update(block)
            self._pending += block
        data, self._pending = self._pending[:size], self._pending[size:]
        return data

    def readinto(self, buffer: WriteableBuffer) -> int:
        view = memoryview(buffer).cast("B")
        data = self.read(len(view))
        view[: len(data)] = data
        return len(data)

    def hexdigest(self) -> str:
        """sha256 of everything generated so far (all of it once fully read)."""
        return self._hasher.hexdigest()


class SourceFailed(RuntimeError):
    """Raised by :class:`FailingReader` part-way through."""


class FailingReader(io.RawIOBase):
    """Yields ``good_bytes`` bytes, then raises SourceFailed: a writer dying mid-upload."""

    def __init__(self, good_bytes: int) -> None:
        self._remaining = good_bytes

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer) -> int:
        view = memoryview(buffer).cast("B")
        if self._remaining <= 0:
            raise SourceFailed("the source broke mid-way")
        count = min(len(view), self._remaining)
        view[:count] = b"x" * count
        self._remaining -= count
        return count


def as_source(data: bytes | io.RawIOBase) -> BinaryIO:
    """A source for ``BlobStore.put``."""
    return cast(BinaryIO, io.BytesIO(data) if isinstance(data, bytes) else data)


def read_all(store: BlobStore, key: str) -> bytes:
    with store.open(key) as stream:
        return stream.read()


def sha256_of(store: BlobStore, key: str) -> str:
    hasher = hashlib.sha256()
    with store.open(key) as stream:
        while chunk := stream.read(MiB):
            hasher.update(chunk)
    return hasher.hexdigest()


class BlobStoreContract:
    """What every BlobStore must do. Subclasses provide the ``blob_store`` fixture."""

    #: False for stores that pass keys through unchecked (the invalid-key test skips).
    validates_keys: ClassVar[bool] = True

    @pytest.fixture
    def prefix(self) -> str:
        return f"contract-{uuid.uuid4().hex}"

    def test_uri_is_a_non_empty_string(self, blob_store: BlobStore) -> None:
        assert isinstance(blob_store.uri, str)
        assert blob_store.uri

    def test_put_then_open_round_trips(self, blob_store: BlobStore, prefix: str) -> None:
        data = b"hello \x00\xff blob" * 100
        blob_store.put(f"{prefix}/a.bin", as_source(data))
        assert read_all(blob_store, f"{prefix}/a.bin") == data

    def test_put_returns_the_byte_count(self, blob_store: BlobStore, prefix: str) -> None:
        assert blob_store.put(f"{prefix}/a", as_source(b"12345")) == 5

    def test_put_overwrites_the_whole_value(self, blob_store: BlobStore, prefix: str) -> None:
        blob_store.put(f"{prefix}/k", as_source(b"a much longer first value"))
        blob_store.put(f"{prefix}/k", as_source(b"short"))
        assert read_all(blob_store, f"{prefix}/k") == b"short"

    def test_large_put_is_streamed(self, blob_store: BlobStore, prefix: str) -> None:
        source = GeneratedReader(20 * MiB, seed=7)
        assert blob_store.put(f"{prefix}/big", as_source(source)) == 20 * MiB
        assert source.unbounded_reads == 0
        assert 0 < source.largest_request <= 16 * MiB
        assert sha256_of(blob_store, f"{prefix}/big") == source.hexdigest()

    def test_empty_blob(self, blob_store: BlobStore, prefix: str) -> None:
        assert blob_store.put(f"{prefix}/empty", as_source(b"")) == 0
        assert blob_store.exists(f"{prefix}/empty")
        assert read_all(blob_store, f"{prefix}/empty") == b""

    def test_exists(self, blob_store: BlobStore, prefix: str) -> None:
        assert not blob_store.exists(f"{prefix}/k")
        blob_store.put(f"{prefix}/k", as_source(b"v"))
        assert blob_store.exists(f"{prefix}/k")
        assert not blob_store.exists(prefix)  # a folder-like prefix is not a blob

    def test_list_by_prefix_with_nested_keys(self, blob_store: BlobStore, prefix: str) -> None:
        keys = [f"{prefix}/a", f"{prefix}/b/c", f"{prefix}/b/d/e", f"{prefix}/bb"]
        for key in keys:
            blob_store.put(key, as_source(key.encode()))
        assert sorted(blob_store.list(f"{prefix}/")) == sorted(keys)
        assert sorted(blob_store.list(f"{prefix}/b/")) == [f"{prefix}/b/c", f"{prefix}/b/d/e"]
        # A prefix is a plain string prefix, not only a folder.
        assert sorted(blob_store.list(f"{prefix}/b")) == sorted(keys[1:])
        assert set(keys) <= set(blob_store.list())

    def test_list_of_an_unknown_prefix_is_empty(self, blob_store: BlobStore, prefix: str) -> None:
        assert list(blob_store.list(f"{prefix}/nothing/")) == []

    def test_delete_is_idempotent(self, blob_store: BlobStore, prefix: str) -> None:
        blob_store.put(f"{prefix}/k", as_source(b"v"))
        blob_store.delete(f"{prefix}/k")
        assert not blob_store.exists(f"{prefix}/k")
        assert list(blob_store.list(f"{prefix}/")) == []
        blob_store.delete(f"{prefix}/k")
        blob_store.delete(f"{prefix}/never-there")

    def test_open_missing_raises_not_found(self, blob_store: BlobStore, prefix: str) -> None:
        with pytest.raises(NotFound) as caught:
            blob_store.open(f"{prefix}/missing")
        assert f"{prefix}/missing" in str(caught.value)

    @pytest.mark.parametrize("key", INVALID_KEYS)
    def test_invalid_keys_are_rejected(self, blob_store: BlobStore, key: str) -> None:
        if not self.validates_keys:
            pytest.skip("this store does not validate keys")
        with pytest.raises(InvalidArgument) as caught:
            blob_store.put(key, as_source(b"v"))
        assert repr(key) in str(caught.value)
        with pytest.raises(InvalidArgument):
            blob_store.open(key)

    def test_failed_put_keeps_the_previous_value(self, blob_store: BlobStore, prefix: str) -> None:
        with pytest.raises((SourceFailed, NoriaError)):
            blob_store.put(f"{prefix}/new", as_source(FailingReader(3 * MiB)))
        assert not blob_store.exists(f"{prefix}/new")
        blob_store.put(f"{prefix}/old", as_source(b"old"))
        with pytest.raises((SourceFailed, NoriaError)):
            blob_store.put(f"{prefix}/old", as_source(FailingReader(3 * MiB)))
        assert read_all(blob_store, f"{prefix}/old") == b"old"

    def test_concurrent_puts_leave_one_whole_value(
        self, blob_store: BlobStore, prefix: str
    ) -> None:
        key = f"{prefix}/contended"
        values = {bytes([n]) * (3 * MiB + n) for n in range(8)}
        done = threading.Event()
        with ThreadPoolExecutor(max_workers=len(values) + 1) as pool:
            reader = pool.submit(_partial_reads, blob_store, key, values, done)
            writers = [
                pool.submit(blob_store.put, key, as_source(value))
                for _ in range(3)
                for value in values
            ]
            try:
                for writer in writers:
                    writer.result()  # re-raises a writer's error here
            finally:
                done.set()
            # Readers racing the writers saw a missing key or one whole value, never a part.
            assert reader.result() == []
        assert read_all(blob_store, key) in values


def _partial_reads(
    store: BlobStore, key: str, values: set[bytes], done: threading.Event
) -> list[int]:
    """Read ``key`` until ``done``; returns the sizes of reads that matched no value."""
    partial = []
    while not done.is_set():
        try:
            data = read_all(store, key)
        except NotFound:
            continue
        if data not in values:
            partial.append(len(data))
    return partial
