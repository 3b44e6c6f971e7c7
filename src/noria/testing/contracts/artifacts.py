"""The ArtifactStore contract over a blob store: provide ``blob_store`` (and maybe
``artifact_store``) fixtures in a subclass.

Every test stores content unique to it (uuid salted), so a non-empty or shared
store does not disturb the counts and corruption checks.
"""

from __future__ import annotations

import hashlib
import io
import os
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, ClassVar

import pytest

from noria.artifacts import ArtifactStore
from noria.artifacts.trees import encode_manifest
from noria.domain.artifacts import DEFAULT_MEDIA_TYPE, TREE_MEDIA_TYPE, Digest, TreeEntry
from noria.errors import CorruptedArtifact, InvalidArgument, NotFound
from noria.ports.blobs import BlobStore
from noria.testing.contracts.blobs import GeneratedReader, MiB, as_source


class CountingBlobStore:
    """A BlobStore passing everything through while counting puts per key."""

    def __init__(self, inner: BlobStore) -> None:
        self.inner = inner
        self.puts: Counter[str] = Counter()

    @property
    def uri(self) -> str:
        return self.inner.uri

    def put(self, key: str, source: BinaryIO) -> int:
        self.puts[key] += 1
        return self.inner.put(key, source)

    def open(self, key: str) -> BinaryIO:
        return self.inner.open(key)

    def exists(self, key: str) -> bool:
        return self.inner.exists(key)

    def list(self, prefix: str = "") -> Iterator[str]:
        return self.inner.list(prefix)

    def delete(self, key: str) -> None:
        self.inner.delete(key)


def unique(label: str = "") -> bytes:
    """Content no other test (or earlier run) has stored."""
    return f"{label}:{uuid.uuid4().hex}".encode() * 50


def digest_of(data: bytes) -> Digest:
    return Digest(hashlib.sha256(data).hexdigest())


class ArtifactStoreContract:
    """What an ArtifactStore must do over a blob store."""

    #: False where raw puts under content keys are checked (e.g. through a server),
    #: so a blob cannot be corrupted on purpose and the corruption tests skip.
    can_corrupt_blobs: ClassVar[bool] = True

    @pytest.fixture
    def artifact_store(self, blob_store: BlobStore) -> ArtifactStore:
        return ArtifactStore(blob_store)

    def test_put_bytes_round_trips(self, artifact_store: ArtifactStore) -> None:
        data = unique("bytes")
        ref = artifact_store.put_bytes(data)
        assert ref.digest == digest_of(data)
        assert (ref.size, ref.media_type) == (len(data), DEFAULT_MEDIA_TYPE)
        assert artifact_store.exists(ref.digest)
        assert artifact_store.get_bytes(ref.digest) == data

    def test_media_type_is_kept(self, artifact_store: ArtifactStore) -> None:
        ref = artifact_store.put_bytes(unique(), media_type="text/plain")
        assert ref.media_type == "text/plain"

    def test_same_bytes_are_stored_once(
        self, artifact_store: ArtifactStore, blob_store: BlobStore
    ) -> None:
        data = unique("dedupe")
        first = artifact_store.put_bytes(data)
        second = artifact_store.put_stream(as_source(data))
        assert first.digest == second.digest
        assert list(blob_store.list(first.digest.blob_key)) == [first.digest.blob_key]

    def test_known_content_is_not_uploaded_again(self, blob_store: BlobStore) -> None:
        counting = CountingBlobStore(blob_store)
        store = ArtifactStore(counting)
        data = unique("upload once")
        digest = store.put_bytes(data).digest
        store.put_bytes(data)
        store.put_stream(as_source(data))
        assert counting.puts[digest.blob_key] == 1

    def test_put_stream_round_trips_in_bounded_reads(self, artifact_store: ArtifactStore) -> None:
        source = GeneratedReader(5 * MiB, seed=uuid.uuid4().int)
        ref = artifact_store.put_stream(as_source(source))
        assert source.unbounded_reads == 0
        assert source.largest_request <= 16 * MiB
        assert (str(ref.digest), ref.size) == (f"sha256:{source.hexdigest()}", 5 * MiB)
        hasher = hashlib.sha256()
        with artifact_store.open(ref.digest) as reader:
            while chunk := reader.read(MiB):
                hasher.update(chunk)
        assert hasher.hexdigest() == source.hexdigest()

    def test_put_stream_accepts_the_expected_digest(self, artifact_store: ArtifactStore) -> None:
        data = unique("expected")
        ref = artifact_store.put_stream(as_source(data), expected=digest_of(data))
        assert artifact_store.get_bytes(ref.digest) == data

    def test_put_stream_with_wrong_expected_digest_stores_nothing(
        self, artifact_store: ArtifactStore, blob_store: BlobStore
    ) -> None:
        data = unique("mismatch")
        wrong = digest_of(b"something else")
        with pytest.raises(InvalidArgument) as caught:
            artifact_store.put_stream(as_source(data), expected=wrong)
        assert str(wrong) in str(caught.value)
        assert str(digest_of(data)) in str(caught.value)
        assert not artifact_store.exists(digest_of(data))
        assert not blob_store.exists(digest_of(data).blob_key)

    def test_put_file_round_trips(self, artifact_store: ArtifactStore, tmp_path: Path) -> None:
        data = unique("file")
        source = tmp_path / "model.json"
        source.write_bytes(data)
        ref = artifact_store.put_file(source)
        assert (ref.digest, ref.size) == (digest_of(data), len(data))
        assert ref.media_type == "application/json"
        out = artifact_store.get_file(ref.digest, tmp_path / "out" / "deep" / "copy.json")
        assert out == tmp_path / "out" / "deep" / "copy.json"
        assert out.read_bytes() == data

    def test_put_file_of_a_missing_path_raises_not_found(
        self, artifact_store: ArtifactStore, tmp_path: Path
    ) -> None:
        with pytest.raises(NotFound) as caught:
            artifact_store.put_file(tmp_path / "absent.bin")
        assert "absent.bin" in str(caught.value)

    def test_missing_artifact_raises_not_found(
        self, artifact_store: ArtifactStore, tmp_path: Path
    ) -> None:
        digest = digest_of(unique("never stored"))
        assert not artifact_store.exists(digest)
        with pytest.raises(NotFound):
            artifact_store.get_bytes(digest)
        with pytest.raises(NotFound):
            artifact_store.get_file(digest, tmp_path / "download" / "out.bin")
        assert not (tmp_path / "download").exists()

    def test_put_dir_round_trips(self, artifact_store: ArtifactStore, tmp_path: Path) -> None:
        source = tmp_path / "src"
        files = {"a.txt": unique("a"), "sub/b.bin": unique("b"), "sub/deeper/c": b""}
        for relative, data in files.items():
            (source / relative).parent.mkdir(parents=True, exist_ok=True)
            (source / relative).write_bytes(data)
        ref = artifact_store.put_dir(source)
        assert ref.media_type == TREE_MEDIA_TYPE
        assert artifact_store.put_dir(source).digest == ref.digest
        entries = artifact_store.read_tree(ref.digest)
        assert [entry.path for entry in entries] == sorted(files)
        assert all(entry.digest == digest_of(files[entry.path]) for entry in entries)
        assert all(entry.size == len(files[entry.path]) for entry in entries)
        out = artifact_store.get_dir(ref.digest, tmp_path / "out")
        for relative, data in files.items():
            assert (out / relative).read_bytes() == data

    def test_put_dir_rejects_symlinks_leading_outside(
        self, artifact_store: ArtifactStore, tmp_path: Path
    ) -> None:
        (tmp_path / "secret").write_bytes(b"outside")
        (tmp_path / "src").mkdir()
        _symlink_or_skip(tmp_path / "secret", tmp_path / "src" / "link")
        with pytest.raises(InvalidArgument) as caught:
            artifact_store.put_dir(tmp_path / "src")
        assert "link" in str(caught.value)

    def test_put_dir_follows_symlinks_inside(
        self, artifact_store: ArtifactStore, tmp_path: Path
    ) -> None:
        (tmp_path / "src").mkdir()
        (tmp_path / "src" / "real").write_bytes(b"inside")
        _symlink_or_skip(tmp_path / "src" / "real", tmp_path / "src" / "alias")
        entries = artifact_store.read_tree(artifact_store.put_dir(tmp_path / "src").digest)
        assert [(entry.path, entry.size) for entry in entries] == [("alias", 6), ("real", 6)]

    def test_read_tree_rejects_other_blobs(self, artifact_store: ArtifactStore) -> None:
        ref = artifact_store.put_bytes(unique("not a tree"))
        with pytest.raises(InvalidArgument):
            artifact_store.read_tree(ref.digest)

    @pytest.mark.parametrize("bad_path", ["../escape", "/abs/path", "a/../../escape"])
    def test_get_dir_refuses_paths_leaving_dest(
        self, artifact_store: ArtifactStore, tmp_path: Path, bad_path: str
    ) -> None:
        inner = artifact_store.put_bytes(unique("payload"))
        entries = [TreeEntry(path=bad_path, digest=inner.digest, size=inner.size)]
        manifest = artifact_store.put_bytes(encode_manifest(entries), media_type=TREE_MEDIA_TYPE)
        with pytest.raises(InvalidArgument):
            artifact_store.get_dir(manifest.digest, tmp_path / "out" / "dest")
        assert not (tmp_path / "out").exists()

    @pytest.mark.parametrize("change", ["same length", "shorter", "longer"])
    def test_corruption_is_detected_on_every_read(
        self, artifact_store: ArtifactStore, blob_store: BlobStore, tmp_path: Path, change: str
    ) -> None:
        if not self.can_corrupt_blobs:
            pytest.skip("this store refuses raw writes under content keys")
        data = unique("victim")
        digest = artifact_store.put_bytes(data).digest
        bad = {"same length": b"X" + data[1:], "shorter": data[:-1], "longer": data + b"!"}
        blob_store.put(digest.blob_key, io.BytesIO(bad[change]))
        with pytest.raises(CorruptedArtifact) as caught:
            artifact_store.get_bytes(digest)
        assert str(digest) in str(caught.value)
        assert str(digest_of(bad[change])) in str(caught.value)
        with pytest.raises(CorruptedArtifact), artifact_store.open(digest) as reader:
            reader.read()
        dest = tmp_path / "out" / "file.bin"
        with pytest.raises(CorruptedArtifact):
            artifact_store.get_file(digest, dest)
        assert os.listdir(tmp_path / "out") == []

    def test_get_dir_verifies_every_file(
        self, artifact_store: ArtifactStore, blob_store: BlobStore, tmp_path: Path
    ) -> None:
        if not self.can_corrupt_blobs:
            pytest.skip("this store refuses raw writes under content keys")
        (tmp_path / "src").mkdir()
        (tmp_path / "src" / "weights").write_bytes(unique("weights"))
        tree = artifact_store.put_dir(tmp_path / "src")
        [entry] = artifact_store.read_tree(tree.digest)
        blob_store.put(entry.digest.blob_key, io.BytesIO(b"tampered"))
        with pytest.raises(CorruptedArtifact):
            artifact_store.get_dir(tree.digest, tmp_path / "out")
        assert not (tmp_path / "out" / "weights").exists()


def _symlink_or_skip(target: Path, link: Path) -> None:
    try:
        link.symlink_to(target)
    except OSError as exc:  # e.g. Windows without the symlink privilege
        pytest.skip(f"cannot create symlinks here: {exc}")
