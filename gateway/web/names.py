"""Turning what a form sends (file names, a target folder) into safe share paths."""

from __future__ import annotations

import re

from gateway.intake import TEMP_PREFIX
from gateway.web.errors import BadRequest

# Control characters are never part of a real document name and break logs and headers.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_SEPARATORS = re.compile(r"[/\\]")
# The first path segment the gateway's own pages live under; never a stored document.
RESERVED = "_"


def file_name(raw: str) -> str:
    """The base name of a client's file name: any client-side folder (``/`` or ``\\``) is dropped."""
    name = _SEPARATORS.split(raw)[-1].strip()
    if name in ("", ".", ".."):
        raise BadRequest(f"file name {raw!r} has no usable base name")
    if _CONTROL.search(name):
        raise BadRequest(f"file name {raw!r} contains control characters")
    if name.startswith(TEMP_PREFIX):
        raise BadRequest(f"file name {raw!r} is reserved: {TEMP_PREFIX}* are the gateway's unfinished uploads")
    return name


def folder(raw: str) -> str:
    """The share folder for ``raw`` as ``/a/b`` (``""`` for the root); ``..`` is refused."""
    parts = []
    for part in _SEPARATORS.split(raw):
        part = part.strip()
        if part in ("", "."):
            continue
        if part == ".." or _CONTROL.search(part):
            raise BadRequest(f"folder {raw!r} is not allowed: it must stay inside the share")
        if part.startswith(TEMP_PREFIX):
            raise BadRequest(f"folder {raw!r} is reserved: {TEMP_PREFIX}* are the gateway's unfinished uploads")
        parts.append(part)
    if parts and parts[0] == RESERVED:
        raise BadRequest(f"folder {raw!r} is not allowed: /{RESERVED}/ is reserved for the gateway's pages")
    return "".join(f"/{part}" for part in parts)


def share_path(folder_path: str, name: str) -> str:
    """The share path of ``name`` inside ``folder_path`` (as made by :func:`folder`)."""
    if not folder_path and name == RESERVED:
        raise BadRequest(f"file name {name!r} is reserved for the gateway's pages in the root folder")
    return f"{folder_path}/{name}"
