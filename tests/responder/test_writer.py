"""Writing results on SQLite, PostgreSQL and MariaDB: exactly once in effect, text kept literally."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session, sessionmaker

from responder.writer import Outcome, ResultWriter
from spreadgate import db
from spreadgate.models import UploadedFile
from spreadgate.wire import ResultHeader

SHA = "a" * 64


@pytest.fixture
def sessions(db_url: str) -> Iterator[sessionmaker[Session]]:
    engine = db.make_engine(db_url)
    db.migrate(engine)
    yield db.sessions(engine)
    engine.dispose()


def new_upload(sessions: sessionmaker[Session], state: str = "sent") -> int:
    row = UploadedFile(path="/d.doc", name="d.doc", size=10, sha256=SHA, state=state)
    with sessions.begin() as session:
        session.add(row)
    return row.id


def result(ok: bool = True, lines: int | None = 2, error: str | None = None, sha: str = SHA) -> ResultHeader:
    return ResultHeader(ok, "antiword" if ok else None, 10, sha, lines if ok else None, 0, None,
                        error, 7, "#p1#localhost", 0)


def row(sessions: sessionmaker[Session], upload_id: int) -> UploadedFile:
    with sessions() as session:
        found = session.get(UploadedFile, upload_id)
        assert found is not None
        return found


def test_a_result_makes_the_upload_processed_with_its_lines_and_text(sessions: sessionmaker[Session]) -> None:
    upload_id = new_upload(sessions)
    assert ResultWriter(sessions).apply(upload_id, result(), "one\ntwo\n") is Outcome.APPLIED
    stored = row(sessions, upload_id)
    assert (stored.state, stored.lines, stored.text, stored.converter) == ("processed", 2, "one\ntwo\n", "antiword")
    assert stored.processed_at is not None and stored.processor == "#p1#localhost"


def test_the_same_result_twice_changes_nothing_the_second_time(sessions: sessionmaker[Session]) -> None:
    upload_id = new_upload(sessions)
    writer = ResultWriter(sessions)
    writer.apply(upload_id, result(), "text\n")
    first = row(sessions, upload_id)
    assert writer.apply(upload_id, result(lines=99), "other\n") is Outcome.ALREADY_FINAL
    again = row(sessions, upload_id)
    assert (again.lines, again.text, again.processed_at) == (first.lines, first.text, first.processed_at)


def test_a_final_failed_state_is_never_flipped_by_a_later_success(sessions: sessionmaker[Session]) -> None:
    upload_id = new_upload(sessions)
    writer = ResultWriter(sessions)
    assert writer.apply(upload_id, result(ok=False, error="antiword crashed"), None) is Outcome.APPLIED
    assert writer.apply(upload_id, result(), "late\n") is Outcome.ALREADY_FINAL
    stored = row(sessions, upload_id)
    assert (stored.state, stored.error, stored.text) == ("failed", "antiword crashed", None)


def test_a_result_for_other_bytes_or_an_unknown_upload_is_ignored(sessions: sessionmaker[Session]) -> None:
    upload_id = new_upload(sessions)
    writer = ResultWriter(sessions)
    assert writer.apply(upload_id, result(sha="b" * 64), "x\n") is Outcome.SHA_MISMATCH
    assert writer.apply(upload_id + 1000, result(), "x\n") is Outcome.UNKNOWN_UPLOAD
    assert row(sessions, upload_id).state == "sent"


@pytest.mark.parametrize(
    "text",
    ["居中的大标题\n章节1的内容\n", "Распоряжение на выдачу\n", "'; DROP TABLE uploaded_files; --\n\\x00 %s ?\n",
     "line\n" * 400_000],
    ids=["chinese", "cyrillic", "sql", "2MB"],
)
def test_text_is_stored_exactly_on_every_engine(sessions: sessionmaker[Session], text: str) -> None:
    upload_id = new_upload(sessions)
    ResultWriter(sessions).apply(upload_id, result(), text)
    assert row(sessions, upload_id).text == text


def test_nul_characters_are_dropped_and_oversized_text_is_cut(sessions: sessionmaker[Session]) -> None:
    upload_id = new_upload(sessions)
    ResultWriter(sessions).apply(upload_id, result(), "a\0b\n")
    assert row(sessions, upload_id).text == "ab\n"
    other = new_upload(sessions)
    ResultWriter(sessions, max_text_bytes=10).apply(other, result(), "ü" * 20)
    assert row(sessions, other).text == "ü" * 5


def test_sql_in_an_error_message_is_stored_literally(sessions: sessionmaker[Session]) -> None:
    upload_id = new_upload(sessions)
    error = "x'); DELETE FROM uploaded_files; --"
    ResultWriter(sessions).apply(upload_id, result(ok=False, error=error), None)
    assert row(sessions, upload_id).error == error
