"""Writes one conversion result to its ``uploaded_files`` row, idempotently.

The row changes only if it exists, is not in a final state (processed or
failed: a final state is never flipped) and holds the same sha256 as the
result, so a repeated or late result has no second effect.  The guarded
UPDATE is the decision; the SELECT before it only avoids shipping a large
text for a result that will be ignored.  Text is shaped by
:mod:`responder.storable` (NUL removed, capped, cut marked in ``error``).
"""

from __future__ import annotations

import enum
import logging
from typing import Any, cast

from sqlalchemy import CursorResult, select, update
from sqlalchemy import text as sql
from sqlalchemy.orm import Session, sessionmaker

from responder.errors import MalformedResult
from responder.storable import (
    ERROR_MAX_BYTES,
    NAME_MAX_CHARS,
    Fitted,
    clean,
    fit,
    head_bytes,
    mysql_text_budget,
)
from spreadgate.logs import upload_log
from spreadgate.models import FINAL_STATES, State, UploadedFile, utcnow
from spreadgate.wire import ResultHeader

log = logging.getLogger(__name__)

#: Default cap on stored text; tens of MB fit every engine (MariaDB may lower it, see storable).
MAX_TEXT_BYTES = 32 * 1024 * 1024
#: Ids and counts must fit the signed 64- and 32-bit columns of every engine.
MAX_ID = 2**63 - 1
MAX_INT = 2**31 - 1


class Outcome(enum.Enum):
    """What applying a result did."""

    APPLIED = "applied"
    ALREADY_FINAL = "already final"
    UNKNOWN_UPLOAD = "unknown upload"
    SHA_MISMATCH = "sha256 differs from the upload's"


def check(header: ResultHeader) -> None:
    """Raise :class:`MalformedResult` unless every value of ``header`` can be stored."""
    problems = [name for name, value, kinds in (
        ("ok", header.ok, (bool,)), ("sha256", header.sha256, (str,)),
        ("processor", header.processor, (str,)), ("converter", header.converter, (str, type(None))),
        ("error", header.error, (str, type(None)))) if not isinstance(value, kinds)]
    problems += [name for name, value in (("lines", header.lines), ("duration_ms", header.duration_ms))
                 if value is not None and (type(value) is not int or not 0 <= value <= MAX_INT)]
    if problems:
        raise MalformedResult(f"result header has bad values for {', '.join(problems)}")


class ResultWriter:
    """Applies results to the database; one transaction per result."""

    def __init__(self, sessions: sessionmaker[Session], max_text_bytes: int = MAX_TEXT_BYTES) -> None:
        self.sessions = sessions
        self.max_text_bytes = max_text_bytes
        self._mysql_budget: int | None = None

    def apply(self, upload_id: int, header: ResultHeader, text: str | None, *, whole: bool = True) -> Outcome:
        """Record ``header`` (and ``text``, ignored unless ok) for the upload.

        ``whole=False`` says ``text`` is only the head of the result's text;
        it is then stored as cut.  Raises :class:`MalformedResult` and
        SQLAlchemy's errors; returns what happened otherwise.
        """
        check(header)
        if not 0 < upload_id <= MAX_ID:
            return Outcome.UNKNOWN_UPLOAD
        with self.sessions.begin() as session:
            found = self._current(session, upload_id, header)
            if found is not None:
                return found
            values = self._values(session, upload_id, header, text, whole)
            result = session.execute(
                update(UploadedFile)
                .where(UploadedFile.id == upload_id, UploadedFile.sha256 == header.sha256,
                       UploadedFile.state.not_in(FINAL_STATES))
                .values(**values))
            if cast(CursorResult[Any], result).rowcount == 1:
                return Outcome.APPLIED
            # Another writer finished the row between the SELECT and the UPDATE.
            return self._current(session, upload_id, header) or Outcome.ALREADY_FINAL

    @staticmethod
    def _current(session: Session, upload_id: int, header: ResultHeader) -> Outcome | None:
        """Why the row cannot take this result, or None if it can."""
        row = session.execute(select(UploadedFile.state, UploadedFile.sha256)
                              .where(UploadedFile.id == upload_id)).first()
        if row is None:
            return Outcome.UNKNOWN_UPLOAD
        if row.sha256 != header.sha256:
            return Outcome.SHA_MISMATCH
        return Outcome.ALREADY_FINAL if row.state in FINAL_STATES else None

    def _values(self, session: Session, upload_id: int, header: ResultHeader, text: str | None,
                whole: bool) -> dict[str, Any]:
        fitted = self._fit(session, upload_id, header, text, whole) if header.ok else Fitted("")
        error = (header.error or "conversion failed") if not header.ok else _cut_note(fitted)
        now = utcnow()
        return {
            "state": (State.PROCESSED if header.ok else State.FAILED).value,
            "lines": header.lines if header.ok else None,
            "text": fitted.text if header.ok else None,
            "converter": clean(header.converter)[:NAME_MAX_CHARS] if header.converter else None,
            "error": head_bytes(clean(error), ERROR_MAX_BYTES) if error else None,
            "processor": clean(header.processor)[:NAME_MAX_CHARS],
            "duration_ms": header.duration_ms,
            "processed_at": now,
            "updated_at": now,
        }

    def _fit(self, session: Session, upload_id: int, header: ResultHeader, text: str | None,
             whole: bool) -> Fitted:
        fitted = fit(text or "", self.max_text_bytes, self._budget(session))
        if fitted.cut_from is None and whole:
            return fitted
        original = max(fitted.cut_from or 0, header.text_bytes)
        fitted = Fitted(fitted.text, original)
        upload_log(log, upload_id).warning("text of %d bytes cut to its first %d to fit the database",
                                           original, len(fitted.text.encode("utf-8")))
        return fitted

    def _budget(self, session: Session) -> int | None:
        """The escaped text size a MySQL/MariaDB server takes in one statement; None elsewhere."""
        if session.get_bind().dialect.name not in ("mysql", "mariadb"):
            return None
        if self._mysql_budget is None:
            packet = session.execute(sql("SELECT @@max_allowed_packet")).scalar_one()
            self._mysql_budget = mysql_text_budget(int(packet))
        return self._mysql_budget


def _cut_note(fitted: Fitted) -> str | None:
    if fitted.cut_from is None:
        return None
    kept = len(fitted.text.encode("utf-8"))
    return f"text truncated: stored the first {kept} of {fitted.cut_from} bytes (database size limit)"
