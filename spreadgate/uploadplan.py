"""Which local files ``spreadgate upload`` sends, and where in the share each one goes.

A file argument lands in the target folder under its own name; a folder
argument lands there under its own name with everything below it, as
``cp -r`` does.  Names the gateway never processes (its ignore rules) are
skipped here, since no upload row would ever appear for them.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

SKIP_REASON = "not uploaded: the gateway never processes this name (temporary, lock or metadata file)"


class PlanError(Exception):
    """The arguments cannot be uploaded as given (a missing path or unreadable folder, two files
    for one share path)."""


@dataclass(frozen=True)
class Item:
    """One local file and the share path it is written to; ``skip`` says why it is left out."""

    local: Path
    path: str
    size: int
    skip: str | None = None


@dataclass(frozen=True)
class Plan:
    items: list[Item]
    folders: list[str]

    @property
    def to_send(self) -> list[Item]:
        return [item for item in self.items if item.skip is None]


def share_folder(to: str) -> str:
    """``a/b/`` → ``/a/b``; ``""`` and ``/`` → ``/``."""
    return "/" + "/".join(part for part in to.split("/") if part)


def join(folder: str, *parts: str) -> str:
    return "/".join([folder.rstrip("/"), *parts])


def make_plan(paths: Iterable[Path], to: str, ignored: Callable[[str], bool]) -> Plan:
    """Every file under ``paths`` with its share path below ``to``, and the folders to create."""
    root = share_folder(to)
    items: list[Item] = []
    folders = ancestors(root)
    for given in paths:
        if given.is_dir():
            base = join(root, given.resolve().name) if given.resolve().name else root
            subfolders, files = _tree(given)
            folders += [base, *(join(base, *rel.parts) for rel in subfolders)]
            items += [_item(given / rel, join(base, *rel.parts), ignored) for rel in files]
        elif given.is_file():
            items.append(_item(given, join(root, given.name), ignored))
        else:
            raise PlanError(f"{given}: no such file or folder")
    return Plan(_unique(items), list(dict.fromkeys(f for f in folders if f != "/")))


def ancestors(folder: str) -> list[str]:
    """``/a/b`` → ``["/a", "/a/b"]``."""
    parts = [part for part in folder.split("/") if part]
    return ["/" + "/".join(parts[: i + 1]) for i in range(len(parts))]


def _item(local: Path, path: str, ignored: Callable[[str], bool]) -> Item:
    return Item(local, path, local.stat().st_size, SKIP_REASON if ignored(local.name) else None)


def _tree(top: Path) -> tuple[list[Path], list[Path]]:
    """The folders and the regular files below ``top``, relative to it, sorted."""
    folders, files = [], []
    for here, names, file_names in os.walk(top, onerror=_unreadable):
        rel = Path(here).relative_to(top)
        folders += [rel / name for name in names]
        files += [rel / name for name in file_names if (Path(here) / name).is_file()]
    return sorted(folders), sorted(files)


def _unreadable(error: OSError) -> None:
    raise PlanError(f"cannot read the folder {error.filename}: {error.strerror}")


def _unique(items: list[Item]) -> list[Item]:
    """``items`` without repeats of one file; two different files for one share path are an error."""
    seen: dict[str, Path] = {}
    unique = []
    for item in items:
        if item.path not in seen:
            seen[item.path] = item.local
            unique.append(item)
        elif not seen[item.path].samefile(item.local):
            raise PlanError(f"{seen[item.path]} and {item.local} would both be uploaded to {item.path}")
    return unique
