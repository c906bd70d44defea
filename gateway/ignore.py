"""Names that are never documents (debounce rule D3): stored, listed, never forwarded.

These are the owner, lock, swap and safe-save files that Office, LibreOffice,
Windows, macOS and editors write beside the real document.
"""

from __future__ import annotations

import fnmatch
import re

_PATTERNS = (
    "~$*", "~wrl*.tmp", "~wrd*.tmp", "~*.tmp", "*~rf*.tmp", "ppt*.tmp",
    "desktop.ini", "thumbs.db",
    "lu*.tmp", "*.osl-tmp",
    "4913", "*~", "#*#",
    "*.part", "*.crdownload", "*.sb-*-*",
)
_REGEXES = tuple(re.compile(fnmatch.translate(p)) for p in _PATTERNS)
# Windows' ReplaceFile and Office write eight-hex-digit temporary names.
_HEX_TEMP = re.compile(r"[0-9a-f]{8}(\.tmp)?")


def is_ignored(name: str) -> bool:
    """True for a file name that a client writes as a temporary, lock or metadata file.

    Any name starting with a dot counts (``.DS_Store``, ``._x``, ``.~lock.x#``,
    ``.x.swp``, ``.goutputstream-…``, the gateway's own temporary files).
    """
    lowered = name.lower()
    if lowered.startswith("."):
        return True
    return bool(_HEX_TEMP.fullmatch(lowered)) or any(r.match(lowered) for r in _REGEXES)
