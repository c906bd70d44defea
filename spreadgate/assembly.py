"""Rebuilds a stream of chunks (see :mod:`spreadgate.wire`) into a file on disk.

Chunks of one stream come from one sender over an ordered Spread service, so
they must arrive numbered 1, 2, 3 …; anything else (a gap, a repeat, a chunk
past the announced count, a size or sha256 mismatch) refuses the stream.
Bytes go straight to a temporary file, never into memory as a whole.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from spreadgate.wire import Envelope


class AssemblyError(Exception):
    """A stream that cannot be rebuilt into the document it announced."""


class StreamAssembler:
    """Collects the chunks of one stream into a temporary file."""

    def __init__(
        self,
        *,
        upload_id: int,
        attempt: int,
        size: int,
        chunks: int,
        sha256: str | None,
        directory: str | os.PathLike[str],
        suffix: str = "",
    ) -> None:
        self.upload_id = upload_id
        self.attempt = attempt
        self.size = size
        self.chunks = chunks
        self.sha256 = sha256
        fd, name = tempfile.mkstemp(prefix=f"sg-{upload_id}-", suffix=suffix, dir=directory)
        self.path = Path(name)
        self._file = os.fdopen(fd, "wb")
        self._hash = hashlib.sha256()
        self._received = 0
        self._next_seq = 1

    @property
    def complete(self) -> bool:
        return self._next_seq > self.chunks

    def add(self, envelope: Envelope) -> bool:
        """Append one chunk; return True once the last chunk has arrived."""
        if (envelope.upload_id, envelope.attempt) != (self.upload_id, self.attempt):
            raise AssemblyError("chunk belongs to another stream")
        if envelope.seq != self._next_seq:
            raise AssemblyError(
                f"upload {self.upload_id}: expected chunk {self._next_seq}, got {envelope.seq}"
            )
        self._received += len(envelope.body)
        if self._received > self.size:
            raise AssemblyError(f"upload {self.upload_id}: more bytes than the announced {self.size}")
        if envelope.last != (envelope.seq == self.chunks):
            raise AssemblyError(f"upload {self.upload_id}: last-chunk flag on chunk {envelope.seq}")
        self._hash.update(envelope.body)
        self._file.write(envelope.body)
        self._next_seq += 1
        return self.complete

    def finish(self) -> Path:
        """Close the file and check its size and hash; return its path."""
        self._file.close()
        if not self.complete or self._received != self.size:
            raise AssemblyError(
                f"upload {self.upload_id}: got {self._received} of {self.size} bytes"
            )
        digest = self._hash.hexdigest()
        if self.sha256 is not None and digest != self.sha256:
            raise AssemblyError(f"upload {self.upload_id}: sha256 {digest} differs from {self.sha256}")
        return self.path

    def discard(self) -> None:
        """Drop the partial file."""
        self._file.close()
        self.path.unlink(missing_ok=True)
