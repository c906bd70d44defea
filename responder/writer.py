"""Writes one conversion result to its ``uploaded_files`` row, idempotently.

One UPDATE does the check and the change: the row must exist, must not be in
a final state, and must hold the same sha256 as the result, so a repeated or
late result never creates a second effect or flips a final state.  Extracted
text is capped (``MAX_TEXT_BYTES``, keeping the head) so that one enormous
document cannot exceed a server's packet limit (MariaDB's default
``max_allowed_packet`` is 16 MiB); the cap is noted in the log.
"""

from __future__ import annotations

import enum
import logging
from typing import Any, cast

from sqlalchemy import CursorResult, select, update
from sqlalchemy.orm import Session, sessionmaker

from spreadgate.models import FINAL_STATES, State, UploadedFile, utcnow
from spreadgate.wire import ResultHeader

log = logging.getLogger(__name__)

MAX_TEXT_BYTES = 8 * 1024 * 1024


class Outcome(enum.Enum):
    """What applying a result did."""

    APPLIED = "applied"
    ALREADY_FINAL = "already final"
    UNKNOWN_UPLOAD = "unknown upload"
    SHA_MISMATCH = "sha256 differs from the upload's"


def clean_text(text: str | None, upload_id: int, limit: int = MAX_TEXT_BYTES) -> str | None:
    if text is None:
        return None
    # PostgreSQL's text type cannot hold NUL; no converter's NUL carries meaning.
    text = text.replace("\0", "")
    encoded = text.encode("utf-8")
    if len(encoded) > limit:
        log.warning("upload %d: text of %d bytes cut to the first %d", upload_id, len(encoded), limit)
        text = encoded[:limit].decode("utf-8", errors="ignore")
    return text


class ResultWriter:
    """Applies results to the database."""

    def __init__(self, sessions: sessionmaker[Session], max_text_bytes: int = MAX_TEXT_BYTES) -> None:
        self.sessions = sessions
        self.max_text_bytes = max_text_bytes

    def apply(self, upload_id: int, header: ResultHeader, text: str | None) -> Outcome:
        state = State.PROCESSED if header.ok else State.FAILED
        values = {
            "state": state.value,
            "lines": header.lines if header.ok else None,
            "text": clean_text(text, upload_id, self.max_text_bytes) if header.ok else None,
            "converter": header.converter,
            "error": None if header.ok else (header.error or "conversion failed"),
            "processor": header.processor[:64],
            "duration_ms": header.duration_ms,
            "processed_at": utcnow(),
            "updated_at": utcnow(),
        }
        with self.sessions.begin() as session:
            result = session.execute(
                update(UploadedFile)
                .where(UploadedFile.id == upload_id, UploadedFile.sha256 == header.sha256,
                       UploadedFile.state.not_in(FINAL_STATES))
                .values(**values))
            if cast(CursorResult[Any], result).rowcount == 1:
                return Outcome.APPLIED
            row = session.execute(select(UploadedFile.state, UploadedFile.sha256)
                                  .where(UploadedFile.id == upload_id)).first()
        if row is None:
            return Outcome.UNKNOWN_UPLOAD
        if row.sha256 != header.sha256:
            return Outcome.SHA_MISMATCH
        return Outcome.ALREADY_FINAL
