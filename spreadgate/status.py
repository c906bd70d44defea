"""``spreadgate status``: the recent uploads and the connected processors, read from a gateway's API."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any, TextIO
from urllib.parse import urlencode

TIMEOUT_S = 10.0
RET_OK = 0
COLUMNS = ("id", "state", "lines", "converter", "path", "error")


class StatusError(Exception):
    """The gateway could not be asked, or its answer was not what its API returns."""


@dataclass(frozen=True)
class Snapshot:
    uploads: list[dict[str, Any]]
    health: dict[str, Any]

    def as_json(self) -> dict[str, Any]:
        return {"uploads": self.uploads, "health": self.health}


def fetch(url: str, limit: int, timeout_s: float = TIMEOUT_S) -> Snapshot:
    """The newest ``limit`` uploads and the health report of the gateway at ``url``."""
    base = url.rstrip("/")
    listing = _get_json(f"{base}/_/api/uploads?{urlencode({'limit': limit})}", timeout_s)
    health = _get_json(f"{base}/_/healthz", timeout_s)
    if not isinstance(listing.get("uploads"), list):
        raise StatusError(f"{base} answered without an upload list; is it a spreadgate gateway?")
    return Snapshot(listing["uploads"], health)


def _get_json(url: str, timeout_s: float) -> dict[str, Any]:
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as reply:
            body = reply.read()
    except urllib.error.HTTPError as exc:
        # healthz answers 503 with its report when the database is down: still worth showing.
        if exc.code != 503:
            raise StatusError(f"{url} answered {exc.code} {exc.reason}") from exc
        body = exc.read()
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise StatusError(f"cannot reach the gateway at {url}: {reason}") from exc
    try:
        value = json.loads(body)
    except ValueError as exc:
        raise StatusError(f"{url} did not answer JSON; is it a spreadgate gateway?") from exc
    if not isinstance(value, dict):
        raise StatusError(f"{url} answered unexpected JSON")
    return value


def render(snapshot: Snapshot) -> str:
    """A table of the uploads, then the dependencies and the processors, as plain text."""
    rows = [[_cell(upload.get(column)) for column in COLUMNS] for upload in snapshot.uploads]
    widths = [max([len(column), *(len(row[i]) for row in rows)]) for i, column in enumerate(COLUMNS)]
    lines = [_line(COLUMNS, widths), *(_line(row, widths) for row in rows)]
    if not rows:
        lines.append("(no uploads yet)")
    health = snapshot.health
    processors = health.get("processors", {})
    database = health.get("database", {})
    spread = health.get("spread", {})
    lines += ["", f"gateway: {health.get('status', '?')}",
              f"database: {'ok' if database.get('ok') else 'DOWN: ' + str(database.get('error', ''))}",
              f"spread: {'connected' if spread.get('ok') else 'NOT connected'} ({spread.get('daemon')})",
              f"processors connected: {processors.get('count', 0)}"]
    lines += [f"  {m.get('name')} on {m.get('host') or '?'}" for m in processors.get("members", [])]
    return "\n".join(lines) + "\n"


def run(url: str, limit: int, as_json: bool, out: TextIO) -> int:
    snapshot = fetch(url, limit)
    out.write(json.dumps(snapshot.as_json(), indent=2) + "\n" if as_json else render(snapshot))
    return RET_OK


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    # An error can span lines; a table row cannot.
    return " ".join(str(value).split())


def _line(cells: Any, widths: list[int]) -> str:
    return "  ".join(str(cell).ljust(width) for cell, width in zip(cells, widths, strict=True)).rstrip()
