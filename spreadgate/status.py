"""``spreadgate status``: the recent uploads and the connected processors, read from a gateway's API."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, TextIO
from urllib.parse import urlencode

import requests

from spreadgate import gatewayhttp, texttable

TIMEOUT_S = 10.0
RET_OK = 0
COLUMNS = ("id", "state", "lines", "converter", "path", "error")
# A user name and a password, or (None, None) for an anonymous gateway.
Credentials = tuple[str | None, str | None]


class StatusError(Exception):
    """The gateway could not be asked, or its answer was not what its API returns."""


class CredentialsRefused(StatusError):
    """The gateway answered 401: a user name and password are needed, or the ones given are wrong."""


@dataclass(frozen=True)
class Snapshot:
    uploads: list[dict[str, Any]]
    health: dict[str, Any]

    def as_json(self) -> dict[str, Any]:
        return {"uploads": self.uploads, "health": self.health}


def fetch(url: str, limit: int, timeout_s: float = TIMEOUT_S, auth: Credentials = (None, None)) -> Snapshot:
    """The newest ``limit`` uploads and the health report of the gateway at ``url``, signed in as ``auth``."""
    base = url.rstrip("/")
    listing = _get_json(f"{base}/_/api/uploads?{urlencode({'limit': limit})}", timeout_s, base, auth)
    health = _get_json(f"{base}/_/healthz", timeout_s, base, auth)
    if not isinstance(listing.get("uploads"), list):
        raise StatusError(f"{base} answered without an upload list; is it a spreadgate gateway?")
    return Snapshot(listing["uploads"], health)


def _get_json(url: str, timeout_s: float, base: str, auth: Credentials) -> dict[str, Any]:
    try:
        reply = requests.get(url, timeout=timeout_s, auth=gatewayhttp.make_auth(*auth))
    except requests.RequestException as exc:
        raise StatusError(f"cannot reach the gateway at {url}: {gatewayhttp.reason(exc)}") from exc
    if reply.status_code == 401:
        raise CredentialsRefused(str(gatewayhttp.refused(base, auth[0])))
    # healthz answers 503 with its report when the database is down: still worth showing.
    if reply.status_code not in (200, 503):
        raise StatusError(f"{url} answered {reply.status_code} {reply.reason}")
    try:
        value = reply.json()
    except ValueError as exc:
        raise StatusError(f"{url} did not answer JSON; is it a spreadgate gateway?") from exc
    if not isinstance(value, dict):
        raise StatusError(f"{url} answered unexpected JSON")
    return value


def render(snapshot: Snapshot) -> str:
    """A table of the uploads, then the dependencies and the processors, as plain text."""
    rows = [[upload.get(column) for column in COLUMNS] for upload in snapshot.uploads]
    lines = texttable.render(COLUMNS, rows)
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


def run(url: str, limit: int, as_json: bool, out: TextIO, auth: Credentials = (None, None)) -> int:
    snapshot = fetch(url, limit, auth=auth)
    out.write(json.dumps(snapshot.as_json(), indent=2) + "\n" if as_json else render(snapshot))
    return RET_OK

