"""``/_/metrics`` (Prometheus text) and ``/_/healthz`` (each dependency, as JSON)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, Protocol

from sqlalchemy import case, func, select, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from gateway.web.contract import Context
from gateway.web.exposition import CONTENT_TYPE, Family, histogram, render, single
from gateway.web.respond import Response, json_response
from spreadgate.models import State, UploadedFile

log = logging.getLogger(__name__)

# Upper bounds of the conversion-time buckets, in seconds.
DURATION_BOUNDS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)


class Reconnects(Protocol):
    @property
    def reconnects(self) -> int: ...


class Forwarding(Protocol):
    """What these pages read from the gateway's forwarder."""

    @property
    def processors(self) -> tuple[str, ...]: ...

    @property
    def spread_connected(self) -> bool: ...

    @property
    def resent(self) -> int: ...

    @property
    def daemon_name(self) -> str: ...

    @property
    def stats(self) -> Reconnects: ...


class Settling(Protocol):
    """The debouncer: WebDAV saves waiting for their quiet period."""

    @property
    def pending(self) -> Mapping[str, object]: ...


def metrics_page(context: Context) -> Response:
    families = _database_families(context)
    forwarder, settling = _parts(context)
    families.append(single("spreadgate_database_up", "gauge", "1 when the database answered this scrape.",
                           1 if families else 0))
    families.append(single("spreadgate_pending_saves", "gauge",
                           "WebDAV saves waiting for their quiet period before they are recorded.",
                           len(settling.pending) if settling else 0))
    if forwarder is not None:
        families.extend(_forwarder_families(forwarder))
    return Response(200, [("Content-Type", CONTENT_TYPE), ("Cache-Control", "no-store")],
                    render(families).encode("utf-8"))


def healthz(context: Context) -> Response:
    """200 while the database answers (uploads are accepted and recorded), else 503."""
    forwarder, _settling = _parts(context)
    database = _database_health(context)
    processors = list(forwarder.processors) if forwarder else []
    spread = {"ok": bool(forwarder and forwarder.spread_connected),
              "daemon": forwarder.daemon_name if forwarder else None}
    ok = bool(database["ok"])
    status = "ok" if ok and spread["ok"] and processors else "degraded" if ok else "down"
    body = {"status": status, "database": database, "spread": spread,
            "processors": {"count": len(processors), "members": [_member(m) for m in processors]}}
    return json_response(body, 200 if ok else 503)


def _parts(context: Context) -> tuple[Forwarding | None, Settling | None]:
    # The pages' Context does not promise these: the web-page tests run the gateway without them.
    forwarder: Forwarding | None = getattr(context, "forwarder", None)
    settling: Settling | None = getattr(context, "debouncer", None)
    return forwarder, settling


def _member(private_group: str) -> dict[str, str]:
    # Spread names a session "#name#host".
    parts = private_group.split("#")
    return {"name": private_group, "host": parts[2] if len(parts) == 3 else ""}


def _database_health(context: Context) -> dict[str, Any]:
    try:
        with context.sessions() as session:
            session.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        log.warning("health check: the database does not answer: %s", exc)
        return {"ok": False, "error": str(exc).splitlines()[0]}
    return {"ok": True}


def _database_families(context: Context) -> list[Family]:
    """The families read from ``uploaded_files``; none when the database does not answer."""
    try:
        with context.sessions() as session:
            return [_states(session), *_totals(session), _durations(session)]
    except SQLAlchemyError as exc:
        log.warning("metrics: the database does not answer: %s", exc)
        return []


def _states(session: Session) -> Family:
    counts = dict(session.execute(select(UploadedFile.state, func.count()).group_by(UploadedFile.state)).all())
    family = Family("spreadgate_uploads", "gauge", "Recorded uploads by state.")
    for state in State:
        family.add(int(counts.get(state.value, 0)), (("state", state.value),))
    return family


def _totals(session: Session) -> list[Family]:
    size, retried, queued = session.execute(select(
        func.coalesce(func.sum(UploadedFile.size), 0),
        func.coalesce(func.sum(case((UploadedFile.attempts > 1, 1), else_=0)), 0),
        func.coalesce(func.sum(case((UploadedFile.state.in_((State.RECEIVED.value, State.SENT.value)), 1),
                                    else_=0)), 0),
    )).one()
    return [
        single("spreadgate_received_bytes_total", "counter", "Bytes of all recorded uploads.", int(size)),
        single("spreadgate_uploads_retried", "gauge", "Recorded uploads sent more than once.", int(retried)),
        single("spreadgate_queue_depth", "gauge",
               "Uploads recorded but without a result yet (received or sent).", int(queued)),
    ]


def _durations(session: Session) -> Family:
    processed = UploadedFile.state == State.PROCESSED.value
    ms = UploadedFile.duration_ms
    columns = [func.coalesce(func.sum(case((ms <= bound * 1000, 1), else_=0)), 0) for bound in DURATION_BOUNDS]
    row = session.execute(select(*columns, func.coalesce(func.sum(ms), 0), func.count(ms))
                          .where(processed)).one()
    buckets = [int(value) for value in row[:-2]]
    return histogram("spreadgate_conversion_duration_seconds", "Conversion time of processed uploads.",
                     DURATION_BOUNDS, buckets, int(row[-2]) / 1000, int(row[-1]))


def _forwarder_families(forwarder: Forwarding) -> list[Family]:
    return [
        single("spreadgate_forward_retries_total", "counter",
               "Uploads this gateway sent again (attempt 2 or later) since it started.", forwarder.resent),
        single("spreadgate_spread_connected", "gauge", "1 while the gateway's Spread session is up.",
               1 if forwarder.spread_connected else 0),
        single("spreadgate_spread_reconnects_total", "counter",
               "Times the gateway found its Spread daemon again after losing it.",
               forwarder.stats.reconnects),
        single("spreadgate_processors", "gauge", "Processors in the group uploadworkers.",
               len(forwarder.processors)),
    ]
