"""Content-addressed artifacts (sha256) on top of any byte-level BlobStore."""

from __future__ import annotations

import contextlib
import hashlib
import io
import mimetypes
import os
import tempfile
import uuid
from pathlib import Path
from typing import BinaryIO, cast

from noria.artifacts.trees import decode_manifest, destination, encode_manifest, list_files
from noria.artifacts.verify import CHUNK_SIZE, HashingReader, copy_hashing, verifying_open
from noria.domain.artifacts import (
    DEFAULT_MEDIA_TYPE,
    TREE_MEDIA_TYPE,
    ArtifactRef,
    Digest,
    TreeEntry,
)
from noria.errors import Conflict, InvalidArgument, NotFound
from noria.ports.blobs import BlobStore

# A tree manifest is read whole; anything bigger than this is not one.
MAX_MANIFEST_BYTES = 256 * 1024 * 1024


class ArtifactStore:
    """Artifacts stored once per content under ``digest.blob_key`` and verified on read.

    Every read hashes the bytes as they flow and raises CorruptedArtifact at the end
    if they no longer match their digest.
    """

    def __init__(self, blobs: BlobStore) -> None:
        self._blobs = blobs

    @property
    def blobs(self) -> BlobStore:
        return self._blobs

    @property
    def uri(self) -> str:
        return self._blobs.uri

    def put_bytes(self, data: bytes, *, media_type: str = DEFAULT_MEDIA_TYPE) -> ArtifactRef:
        """Store ``data`` (once per content) and return its reference."""
        digest = Digest(hashlib.sha256(data).hexdigest())
        if not self.exists(digest):
            self._blobs.put(digest.blob_key, io.BytesIO(data))
        return ArtifactRef(digest=digest, size=len(data), media_type=media_type)

    def put_stream(
        self,
        stream: BinaryIO,
        *,
        media_type: str = DEFAULT_MEDIA_TYPE,
        expected: Digest | None = None,
    ) -> ArtifactRef:
        """Store everything ``stream`` yields, spooled through a local temp file.

        With ``expected``, bytes hashing to anything else raise InvalidArgument and
        nothing is stored.
        """
        # The digest (the key) is known only at the end, so the bytes wait on local disk.
        with tempfile.TemporaryFile(prefix="noria-spool-") as spool:
            digest, size = copy_hashing(stream, cast(BinaryIO, spool))
            if expected is not None and digest != expected:
                raise InvalidArgument(
                    f"The uploaded bytes hash to {digest}, not the expected {expected}; "
                    "nothing was stored."
                )
            if not self.exists(digest):
                spool.seek(0)
                self._blobs.put(digest.blob_key, cast(BinaryIO, spool))
        return ArtifactRef(digest=digest, size=size, media_type=media_type)

    def put_file(self, path: Path, *, media_type: str | None = None) -> ArtifactRef:
        """Store a local file: one pass to hash it, one to upload it if it is new.

        ``media_type`` is guessed from the file name when not given.
        """
        media_type = media_type or mimetypes.guess_type(path.name)[0] or DEFAULT_MEDIA_TYPE
        with _open_local(path) as source:
            digest, size = copy_hashing(source)
            if not self.exists(digest):
                source.seek(0)
                self._put_checked(digest, source, origin=path)
        return ArtifactRef(digest=digest, size=size, media_type=media_type)

    def put_dir(self, path: Path) -> ArtifactRef:
        """Store every regular file under ``path``, then a manifest listing them.

        Returns the manifest's reference (media type ``TREE_MEDIA_TYPE``). Symlinks
        are followed inside ``path``; one pointing outside raises InvalidArgument.
        Empty folders are not recorded.
        """
        if not path.is_dir():
            if not path.exists():
                raise NotFound(f"Directory {path} does not exist.")
            raise InvalidArgument(f"{path} is not a directory; use put_file for a file.")
        entries = []
        for relative, file in list_files(path):
            ref = self.put_file(file)
            entries.append(TreeEntry(path=relative, digest=ref.digest, size=ref.size))
        return self.put_bytes(encode_manifest(entries), media_type=TREE_MEDIA_TYPE)

    def exists(self, digest: Digest) -> bool:
        return self._blobs.exists(digest.blob_key)

    def open(self, digest: Digest) -> BinaryIO:
        """A verifying reader: reaching its end with the wrong bytes raises CorruptedArtifact."""
        try:
            source = self._blobs.open(digest.blob_key)
        except NotFound as exc:
            raise NotFound(
                f"Artifact {digest} is not in the artifact store at {self.uri}."
            ) from exc
        return verifying_open(source, expected=digest, store_uri=self.uri)

    def get_bytes(self, digest: Digest) -> bytes:
        """All of an artifact's bytes, verified."""
        with self.open(digest) as reader:
            return reader.read()

    def get_file(self, digest: Digest, dest: Path) -> Path:
        """Write the artifact to ``dest`` (parents created); returns ``dest``.

        The bytes go to a temp file beside ``dest`` and are renamed onto it only once
        verified, so a corrupted blob never leaves a file at ``dest``.
        """
        with self.open(digest) as reader:
            dest.parent.mkdir(parents=True, exist_ok=True)
            tmp = dest.with_name(f".{dest.name}.{uuid.uuid4().hex}.part")
            try:
                _write_new(tmp, reader)
                os.replace(tmp, dest)
            except BaseException:
                with contextlib.suppress(OSError):
                    tmp.unlink()
                raise
        return dest

    def read_tree(self, digest: Digest) -> list[TreeEntry]:
        """The entries of a tree manifest stored by :meth:`put_dir`."""
        with self.open(digest) as reader:
            data = reader.read(MAX_MANIFEST_BYTES + 1)
            if len(data) > MAX_MANIFEST_BYTES:
                raise InvalidArgument(f"Artifact {digest} is not a directory tree manifest.")
            # Read on to the end so the verifying reader checks the digest.
            data += reader.read()
        return decode_manifest(data, digest)

    def get_dir(self, digest: Digest, dest: Path) -> Path:
        """Recreate a stored directory under ``dest``; returns ``dest``.

        Every path is checked before anything is written: none may escape ``dest``.
        """
        entries = self.read_tree(digest)
        targets = [(destination(dest, entry.path), entry) for entry in entries]
        dest.mkdir(parents=True, exist_ok=True)
        for target, entry in targets:
            self.get_file(entry.digest, target)
        return dest

    def _put_checked(self, digest: Digest, source: BinaryIO, *, origin: Path) -> None:
        """Upload ``source`` under ``digest``, making sure the uploaded bytes still match."""
        with HashingReader(source) as reader:
            self._blobs.put(digest.blob_key, cast(BinaryIO, reader))
        if reader.digest != digest:
            # The file changed between hashing and upload: the blob would be corrupt, and
            # later puts of the right bytes would skip it as already stored.
            self._blobs.delete(digest.blob_key)
            raise Conflict(f"File {origin} changed while it was being stored; try again.")


def _open_local(path: Path) -> BinaryIO:
    try:
        return path.open("rb")
    except FileNotFoundError as exc:
        raise NotFound(f"File {path} does not exist.") from exc
    except IsADirectoryError as exc:
        raise InvalidArgument(f"{path} is a directory; use put_dir for directories.") from exc


def _write_new(path: Path, source: BinaryIO) -> None:
    # os.open with 0o666 (not tempfile's 0o600) so the result gets the umask's permissions.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    with os.fdopen(fd, "wb") as out:
        while chunk := source.read(CHUNK_SIZE):
            out.write(chunk)
