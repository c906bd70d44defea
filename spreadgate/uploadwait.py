"""Waiting for uploads to be processed, by polling the gateway's JSON API.

A PUT becomes an upload row only once the save has been quiet for the
gateway's quiet period, and not at all when the path's newest row already
has the same bytes (debounce rule D8).  So the upload of a path is the
*newest* row for that path, once its SHA-256 is the one sent; it is done
when that row is ``processed`` or ``failed``.  One listing of the newest
rows answers for many paths per round; a path missing from a full listing
is asked for on its own.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import requests

from spreadgate import gatewayhttp

FINAL = ("processed", "failed")
LISTING = 1000
SINGLE_PER_ROUND = 25
POLL_S = 1.0
TIMEOUT_S = 30.0

Row = dict[str, Any]


@dataclass
class Outcome:
    """The rows that reached a final state, the newest rows seen for the others, the last poll error."""

    final: dict[str, Row] = field(default_factory=dict)
    seen: dict[str, Row] = field(default_factory=dict)
    error: str | None = None


class Poller:
    """Reads the newest upload rows from the API at ``base``."""

    def __init__(self, base: str, user: str | None, password: str | None) -> None:
        self.base, self.user = base.rstrip("/"), user
        self.session = requests.Session()
        self.session.auth = gatewayhttp.make_auth(user, password)

    def uploads(self, **params: Any) -> list[Row]:
        """The newest rows, ``limit`` and ``path`` as the API takes them."""
        url = f"{self.base}/_/api/uploads"
        try:
            reply = self.session.get(url, params=params, timeout=TIMEOUT_S)
        except requests.RequestException as exc:
            raise gatewayhttp.unreachable(self.base, exc) from exc
        if reply.status_code == 401:
            raise gatewayhttp.refused(self.base, self.user)
        try:
            body = reply.json() if reply.status_code == 200 else None
        except ValueError:
            body = None
        if not isinstance(body, dict) or not isinstance(body.get("uploads"), list):
            raise gatewayhttp.Unreachable(f"{url} answered {reply.status_code} without an upload list; "
                                          "is it a spreadgate gateway?")
        return list(body["uploads"])

    def close(self) -> None:
        self.session.close()


def newest(rows: list[Row]) -> dict[str, Row]:
    """The newest row of each path in a listing given newest first."""
    found: dict[str, Row] = {}
    for row in rows:
        found.setdefault(str(row.get("path")), row)
    return found


def wait(poller: Poller, sent: dict[str, str], timeout_s: float,
         on_final: Callable[[str, Row], None] = lambda _path, _row: None,
         poll_s: float = POLL_S) -> Outcome:
    """Poll until each path in ``sent`` (path → SHA-256) has a final row, or ``timeout_s`` passes.

    A failed poll (the gateway restarting, say) is retried until the deadline;
    a 401 is not.
    """
    outcome = Outcome()
    deadline = time.monotonic() + timeout_s
    for turn in itertools.count():
        pending = [path for path in sent if path not in outcome.final]
        try:
            _round(poller, sent, pending, turn, outcome, on_final)
            outcome.error = None
        except gatewayhttp.CredentialsRefused:
            raise
        except gatewayhttp.GatewayError as exc:
            outcome.error = str(exc)
        if len(outcome.final) == len(sent) or time.monotonic() >= deadline:
            return outcome
        time.sleep(poll_s)
    raise AssertionError("unreachable")


def _round(poller: Poller, sent: dict[str, str], pending: list[str], turn: int, outcome: Outcome,
           on_final: Callable[[str, Row], None]) -> None:
    listing = poller.uploads(limit=LISTING)
    rows = newest(listing)
    if len(listing) >= LISTING:
        # Older than the listing: ask for some of them by path, different ones each round.
        missing = [path for path in pending if path not in rows]
        start = (turn * SINGLE_PER_ROUND) % max(len(missing), 1)
        for path in (missing[start:] + missing[:start])[:SINGLE_PER_ROUND]:
            rows.update(newest(poller.uploads(path=path, limit=1)))
    for path in pending:
        row = rows.get(path)
        if row is None:
            continue
        outcome.seen[path] = row
        if row.get("sha256") == sent[path] and row.get("state") in FINAL:
            outcome.final[path] = row
            on_final(path, row)
