"""The JSON API over the uploads table: listing, full-text search, one upload, and its extracted text."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import parse_qs

from sqlalchemy import select
from sqlalchemy.orm import Session, defer

from gateway.web import fulltext
from gateway.web.contract import Context
from gateway.web.errors import BadRequest, Conflict, NotFound
from spreadgate.models import State, UploadedFile

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
SEARCH_LIMIT = 20
MAX_SEARCH_CHARS = 200
FIELDS = ("id", "path", "name", "content_type", "size", "sha256", "state", "attempts", "lines",
          "converter", "error", "processor", "duration_ms", "received_at", "sent_at", "processed_at")


def list_uploads(context: Context, query_string: str) -> dict[str, Any]:
    """``{"uploads": [...]}``, newest first; ``path`` filters on the exact path, ``name`` on a part of
    the name (any case), ``limit`` caps."""
    query = query_params(query_string)
    statement = select(UploadedFile).options(defer(UploadedFile.text))
    if "path" in query:
        statement = statement.where(UploadedFile.path == query["path"])
    if query.get("name"):
        statement = statement.where(UploadedFile.name.icontains(query["name"], autoescape=True))
    statement = statement.order_by(UploadedFile.id.desc()).limit(_limit(query.get("limit")))
    with context.sessions() as session:
        return {"uploads": [describe(row) for row in session.scalars(statement)]}


def search_uploads(context: Context, query_string: str) -> dict[str, Any]:
    """``{"uploads": [...]}``: processed uploads whose text holds every word of ``q``, newest first,
    each with a ``snippet`` of its text around a match; ``limit`` caps (20 unless given)."""
    query = query_params(query_string)
    words = query.get("q", "").strip()
    if not words:
        raise BadRequest("q must hold the words to search for")
    if len(words) > MAX_SEARCH_CHARS:
        raise BadRequest(f"q is {len(words)} characters long; at most {MAX_SEARCH_CHARS} are searched for")
    limit = _limit(query.get("limit"), SEARCH_LIMIT)
    with context.sessions() as session:
        statement = fulltext.search_statement(session.get_bind().dialect.name, words, limit)
        found = [] if statement is None else session.execute(statement).all()
        return {"uploads": [describe(row) | {"snippet": " ".join((snippet or "").split())}
                            for row, snippet in found]}


def upload_detail(context: Context, upload_id: int) -> dict[str, Any]:
    with context.sessions() as session:
        return describe(_get(session, upload_id, with_text=False))


def upload_text(context: Context, upload_id: int) -> str:
    """The extracted text; :class:`Conflict` while the upload is not processed."""
    with context.sessions() as session:
        row = _get(session, upload_id, with_text=True)
        if row.state == State.FAILED.value:
            raise Conflict(f"upload {upload_id} failed and has no text: {row.error}")
        if row.state != State.PROCESSED.value:
            raise Conflict(f"upload {upload_id} is {row.state}, not processed yet; try again later")
        return row.text or ""


def describe(row: UploadedFile) -> dict[str, Any]:
    """Every field of ``row`` but the text; times in ISO 8601 UTC with a ``Z``."""
    return {name: _plain(getattr(row, name)) for name in FIELDS}


def _get(session: Session, upload_id: int, *, with_text: bool) -> UploadedFile:
    options = [] if with_text else [defer(UploadedFile.text)]
    row = session.get(UploadedFile, upload_id, options=options)
    if row is None:
        raise NotFound(f"no upload with id {upload_id}")
    return row


def _plain(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        # The table stores naive UTC (spreadgate.models.utcnow).
        return value.replace(tzinfo=None).isoformat(timespec="milliseconds") + "Z"
    return value


def query_params(query_string: str) -> dict[str, str]:
    # WSGI hands the query over as Latin-1; clients mean UTF-8.
    text = query_string.encode("latin-1", "replace").decode("utf-8", "replace")
    return {key: values[-1] for key, values in parse_qs(text, keep_blank_values=True).items()}


def _limit(raw: str | None, default: int = DEFAULT_LIMIT) -> int:
    if raw is None:
        return default
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_LIMIT:
        raise BadRequest(f"limit must be a whole number from 1 to {MAX_LIMIT}, not {raw!r}")
    return int(raw)
