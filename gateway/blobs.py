"""Content-addressed copies of accepted uploads: what the forwarder reads.

Each accepted file is hard-linked as ``blobs/<sha[:2]>/<sha>``, so a later
write to the same share path (which replaces the inode) never changes the
bytes an upload refers to, and identical content is kept once.
"""

from __future__ import annotations

import os
from pathlib import Path


def fsync_dir(path: Path) -> None:
    """Make a folder's new or renamed entries survive a crash."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class BlobStore:
    """A folder of files named by their sha256."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path_for(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256

    def keep(self, source: Path, sha256: str) -> Path:
        """Link ``source`` in under its hash (if that content is not kept already)."""
        target = self.path_for(sha256)
        if target.exists():
            return target
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(source, target)
        except FileExistsError:
            return target  # another request kept the same content at the same moment
        fsync_dir(target.parent)  # the new name must survive a crash as the bytes do
        return target
