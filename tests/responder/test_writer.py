"""Writing results on SQLite, PostgreSQL and MariaDB: exactly once in effect, text kept literally."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session, sessionmaker

from responder.errors import MalformedResult
from responder.writer import Outcome, ResultWriter
from tests.responder.support import fetch, migrated, new_upload, result

Sessions = sessionmaker[Session]


@pytest.fixture
def sessions(db_url: str) -> Iterator[Sessions]:
    with migrated(db_url) as made:
        yield made


@pytest.mark.parametrize("state", ["received", "sent"])
def test_a_result_makes_an_unfinished_upload_processed_with_everything_it_reports(
        sessions: Sessions, state: str) -> None:
    upload_id = new_upload(sessions, state)
    assert ResultWriter(sessions).apply(upload_id, result(), "one\ntwo\n") is Outcome.APPLIED
    stored = fetch(sessions, upload_id)
    assert (stored.state, stored.lines, stored.text, stored.converter, stored.error) == \
        ("processed", 2, "one\ntwo\n", "antiword", None)
    assert (stored.processor, stored.duration_ms) == ("#p1#localhost", 7)
    assert stored.processed_at is not None and stored.updated_at >= stored.received_at


def test_a_failed_result_makes_the_upload_failed_with_the_converters_message(sessions: Sessions) -> None:
    upload_id = new_upload(sessions)
    writer = ResultWriter(sessions)
    assert writer.apply(upload_id, result(ok=False, error="antiword: not a Word document"), "ignored") \
        is Outcome.APPLIED
    stored = fetch(sessions, upload_id)
    assert (stored.state, stored.error, stored.text, stored.lines) == \
        ("failed", "antiword: not a Word document", None, None)


def test_a_failed_result_without_a_message_still_says_it_failed(sessions: Sessions) -> None:
    upload_id = new_upload(sessions)
    ResultWriter(sessions).apply(upload_id, result(ok=False), None)
    assert fetch(sessions, upload_id).error == "conversion failed"


def test_the_same_result_twice_changes_nothing_the_second_time(sessions: Sessions) -> None:
    upload_id = new_upload(sessions)
    writer = ResultWriter(sessions)
    assert writer.apply(upload_id, result(), "text\n") is Outcome.APPLIED
    first = fetch(sessions, upload_id)
    assert writer.apply(upload_id, result(), "text\n") is Outcome.ALREADY_FINAL
    assert writer.apply(upload_id, result(lines=99), "other\n") is Outcome.ALREADY_FINAL
    again = fetch(sessions, upload_id)
    assert (again.lines, again.text, again.processed_at, again.updated_at) == \
        (first.lines, first.text, first.processed_at, first.updated_at)


def test_a_failed_upload_stays_failed_when_a_late_success_arrives(sessions: Sessions) -> None:
    upload_id = new_upload(sessions)
    writer = ResultWriter(sessions)
    assert writer.apply(upload_id, result(ok=False, error="antiword crashed"), None) is Outcome.APPLIED
    assert writer.apply(upload_id, result(), "late\n") is Outcome.ALREADY_FINAL
    stored = fetch(sessions, upload_id)
    assert (stored.state, stored.error, stored.text) == ("failed", "antiword crashed", None)


def test_a_processed_upload_stays_processed_when_a_late_failure_arrives(sessions: Sessions) -> None:
    upload_id = new_upload(sessions)
    writer = ResultWriter(sessions)
    writer.apply(upload_id, result(), "kept\n")
    assert writer.apply(upload_id, result(ok=False, error="timeout"), None) is Outcome.ALREADY_FINAL
    stored = fetch(sessions, upload_id)
    assert (stored.state, stored.text, stored.error) == ("processed", "kept\n", None)


@pytest.mark.parametrize("state", ["processed", "failed"])
def test_a_row_already_final_before_any_result_is_left_alone(sessions: Sessions, state: str) -> None:
    upload_id = new_upload(sessions, state)
    assert ResultWriter(sessions).apply(upload_id, result(), "x\n") is Outcome.ALREADY_FINAL
    stored = fetch(sessions, upload_id)
    assert (stored.state, stored.text) == (state, None)


def test_a_result_for_other_bytes_is_ignored(sessions: Sessions) -> None:
    upload_id = new_upload(sessions)
    assert ResultWriter(sessions).apply(upload_id, result(sha="b" * 64), "x\n") is Outcome.SHA_MISMATCH
    stored = fetch(sessions, upload_id)
    assert (stored.state, stored.text, stored.processed_at) == ("sent", None, None)


@pytest.mark.parametrize("offset", [1000, None], ids=["missing-row", "beyond-any-engine"])
def test_a_result_for_an_unknown_upload_is_ignored(sessions: Sessions, offset: int | None) -> None:
    upload_id = new_upload(sessions)
    unknown = upload_id + offset if offset is not None else 2**64 - 1
    assert ResultWriter(sessions).apply(unknown, result(), "x\n") is Outcome.UNKNOWN_UPLOAD
    assert fetch(sessions, upload_id).state == "sent"


@pytest.mark.parametrize(
    "text",
    ["居中的大标题\n章节1的内容\n", "Распоряжение на выдачу\n", "emoji 📄✅ and e\u0301\n",
     "'; DROP TABLE uploaded_files; --\n\\x00 %s %(x)s ? :name `tick` \"q\" \\\n\r\x1a",
     "line\n" * 800_000],
    ids=["chinese", "cyrillic", "four-byte", "sql-metacharacters", "4MB"],
)
def test_text_is_stored_exactly_on_every_engine(sessions: Sessions, text: str) -> None:
    upload_id = new_upload(sessions)
    assert ResultWriter(sessions).apply(upload_id, result(), text) is Outcome.APPLIED
    assert fetch(sessions, upload_id).text == text


def test_sql_in_an_error_message_and_names_is_stored_literally(sessions: Sessions) -> None:
    upload_id = new_upload(sessions)
    error = "x'); DELETE FROM uploaded_files; -- %s \\' \""
    ResultWriter(sessions).apply(upload_id, result(ok=False, error=error, processor="#p'1#h"), None)
    stored = fetch(sessions, upload_id)
    assert (stored.error, stored.processor) == (error, "#p'1#h")


def test_nul_characters_are_dropped_everywhere_since_postgresql_refuses_them(sessions: Sessions) -> None:
    upload_id = new_upload(sessions)
    ResultWriter(sessions).apply(upload_id, result(), "a\0b\n\0")
    assert fetch(sessions, upload_id).text == "ab\n"
    failed = new_upload(sessions)
    ResultWriter(sessions).apply(failed, result(ok=False, error="bad\0 byte"), None)
    assert fetch(sessions, failed).error == "bad byte"


def test_lone_surrogates_that_no_driver_can_encode_become_question_marks(sessions: Sessions) -> None:
    upload_id = new_upload(sessions)
    ResultWriter(sessions).apply(upload_id, result(), "a\udc80b")
    assert fetch(sessions, upload_id).text == "a?b"


def test_text_over_the_cap_keeps_its_head_and_the_row_says_it_was_cut(sessions: Sessions) -> None:
    upload_id = new_upload(sessions)
    assert ResultWriter(sessions, max_text_bytes=10).apply(upload_id, result(), "ü" * 20) is Outcome.APPLIED
    stored = fetch(sessions, upload_id)
    assert (stored.state, stored.text) == ("processed", "ü" * 5)
    assert stored.error == "text truncated: stored the first 10 of 40 bytes (database size limit)"


def test_a_head_passed_as_partial_is_marked_cut_with_the_announced_size(sessions: Sessions) -> None:
    upload_id = new_upload(sessions)
    ResultWriter(sessions).apply(upload_id, result(text_bytes=5000), "head", whole=False)
    stored = fetch(sessions, upload_id)
    assert stored.text == "head" and stored.error is not None and "of 5000 bytes" in stored.error


def test_tens_of_megabytes_of_text_are_stored_whole_or_as_a_marked_head_that_fits(
        sessions: Sessions) -> None:
    upload_id = new_upload(sessions)
    text = "A line of extracted text, with 'quotes' and \\ backslashes.\n" * 400_000  # 24 MB
    assert ResultWriter(sessions).apply(upload_id, result(), text) is Outcome.APPLIED
    stored = fetch(sessions, upload_id)
    assert stored.text is not None and text.startswith(stored.text) and stored.state == "processed"
    if sessions.kw["bind"].dialect.name == "mysql":
        # 16 MiB max_allowed_packet on the test server; escaped, this text is far larger.
        assert len(stored.text) < len(text) and stored.error is not None
        assert stored.error.startswith("text truncated: stored the first")
    else:
        assert (len(stored.text), stored.error) == (len(text), None)


def test_an_error_message_longer_than_any_engine_takes_is_cut(sessions: Sessions) -> None:
    upload_id = new_upload(sessions)
    ResultWriter(sessions).apply(upload_id, result(ok=False, error="é" * 100_000), None)
    stored = fetch(sessions, upload_id)
    assert stored.error == "é" * 8192


def test_names_longer_than_their_columns_are_cut(sessions: Sessions) -> None:
    upload_id = new_upload(sessions)
    ResultWriter(sessions).apply(upload_id, result(converter="c" * 100, processor="p" * 100), "x")
    stored = fetch(sessions, upload_id)
    assert (stored.converter, stored.processor) == ("c" * 64, "p" * 64)


@pytest.mark.parametrize("changes", [{"processor": None}, {"ok": "yes"}, {"lines": -1},
                                     {"duration_ms": 2**40}, {"sha256": 5}, {"error": ["x"]}],
                         ids=["no-processor", "ok-not-bool", "negative-lines", "huge-duration",
                              "sha-not-text", "error-not-text"])
def test_a_header_with_values_no_column_can_hold_is_refused_and_the_row_untouched(
        sessions: Sessions, changes: dict[str, object]) -> None:
    upload_id = new_upload(sessions)
    with pytest.raises(MalformedResult):
        ResultWriter(sessions).apply(upload_id, result(**changes), "x\n")
    assert fetch(sessions, upload_id).state == "sent"
