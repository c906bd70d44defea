"""The recorder thread against real databases: outages ridden out, bad results dropped, refusals recorded."""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from responder.recorder import Recorder
from responder.writer import ResultWriter
from tests.conftest import mariadb_database
from tests.gateway.running import wait_until
from tests.responder.support import (
    PostgresDatabase,
    completed,
    fetch,
    migrated,
    new_upload,
    result,
)


@pytest.fixture
def stop() -> Iterator[threading.Event]:
    event = threading.Event()
    yield event
    event.set()


def ok_result(data: bytes) -> dict[str, object]:
    return {"text_bytes": len(data), "text_sha256": hashlib.sha256(data).hexdigest(),
            "lines": data.count(b"\n")}


@pytest.fixture
def latin1_mariadb() -> Iterator[str]:
    """A MariaDB database whose tables default to latin1, as an operator may have made it."""
    yield from mariadb_database("latin1")


def test_results_wait_out_a_database_outage_and_are_written_in_order_when_it_returns(
        tmp_path: Path, stop: threading.Event, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, "responder")
    with PostgresDatabase.created() as database, migrated(database.url) as sessions:
        first, second = new_upload(sessions), new_upload(sessions)
        database.close()
        recorder = Recorder(ResultWriter(sessions), stop)
        recorder.start()
        data = "результат\n".encode()
        recorder.put(completed(tmp_path, first, result(**ok_result(data)), data))
        recorder.put(completed(tmp_path, second, result(ok=False, error="antiword: bad file"), b""))
        wait_until(lambda: "database unavailable" in caplog.text, "a retry to be logged")
        database.reopen()
        wait_until(lambda: fetch(sessions, second).state == "failed", "the queued results to be written")
        assert (fetch(sessions, first).state, fetch(sessions, first).text) == ("processed", "результат\n")
        stop.set()
        recorder.close(30)
    assert f"upload {first}: database unavailable" in caplog.text
    assert list(tmp_path.iterdir()) == [], "spooled texts are removed once written"


def test_a_stopping_recorder_gives_up_on_a_result_the_database_cannot_take_now(
        tmp_path: Path, stop: threading.Event) -> None:
    with PostgresDatabase.created() as database, migrated(database.url) as sessions:
        upload_id = new_upload(sessions)
        database.close()
        recorder = Recorder(ResultWriter(sessions), stop)
        recorder.start()
        recorder.put(completed(tmp_path, upload_id, result(**ok_result(b"x\n")), b"x\n"))
        stop.set()
        recorder.close(30)
        assert not recorder.is_alive()
        database.reopen()
        assert fetch(sessions, upload_id).state == "sent"


def test_malformed_results_are_dropped_and_the_next_one_is_still_written(
        tmp_path: Path, stop: threading.Event, caplog: pytest.LogCaptureFixture) -> None:
    with migrated(f"sqlite:///{tmp_path / 'db.sqlite'}") as sessions:
        bad_types, no_sha, good = new_upload(sessions), new_upload(sessions), new_upload(sessions)
        spool = tmp_path / "spool"
        spool.mkdir()
        recorder = Recorder(ResultWriter(sessions), stop)
        recorder.start()
        recorder.put(completed(spool, bad_types, result(processor=None), b""))
        recorder.put(completed(spool, no_sha, result(text_sha256=None), b""))
        recorder.put(completed(spool, good, result(**ok_result(b"fine\n")), b"fine\n"))
        wait_until(lambda: fetch(sessions, good).state == "processed", "the good result")
        recorder.close(30)
        assert [fetch(sessions, i).state for i in (bad_types, no_sha)] == ["sent", "sent"]
    assert f"upload {bad_types}: result dropped: result header has bad values for processor" in caplog.text
    assert f"upload {no_sha}: result dropped: its text has no sha256" in caplog.text
    assert list(spool.iterdir()) == []


def test_a_text_longer_than_the_cap_is_read_only_up_to_it_and_marked_cut(
        tmp_path: Path, stop: threading.Event) -> None:
    with migrated(f"sqlite:///{tmp_path / 'db.sqlite'}") as sessions:
        upload_id = new_upload(sessions)
        data = b"0123456789\n" * 100
        recorder = Recorder(ResultWriter(sessions, max_text_bytes=30), stop)
        recorder.start()
        recorder.put(completed(tmp_path, upload_id, result(**ok_result(data)), data))
        wait_until(lambda: fetch(sessions, upload_id).state == "processed", "the cut result")
        recorder.close(30)
        stored = fetch(sessions, upload_id)
    assert (stored.text, stored.lines) == ("0123456789\n" * 2 + "01234567", 100)
    assert stored.error == "text truncated: stored the first 30 of 1100 bytes (database size limit)"


def test_a_text_the_database_refuses_leaves_the_upload_failed_with_the_reason(
        tmp_path: Path, stop: threading.Event, latin1_mariadb: str) -> None:
    with migrated(latin1_mariadb) as sessions:
        upload_id = new_upload(sessions)
        data = "居中的大标题\n".encode()
        recorder = Recorder(ResultWriter(sessions), stop)
        recorder.start()
        recorder.put(completed(tmp_path, upload_id, result(**ok_result(data)), data))
        wait_until(lambda: fetch(sessions, upload_id).state != "sent", "the refusal to be recorded")
        recorder.close(30)
        stored = fetch(sessions, upload_id)
    assert (stored.state, stored.text, stored.lines) == ("failed", None, None)
    assert stored.error is not None and stored.error.startswith("the database refused the result: ")
    assert "Incorrect string value" in stored.error


def test_closing_the_recorder_first_writes_what_is_already_queued(tmp_path: Path, stop: threading.Event) -> None:
    with migrated(f"sqlite:///{tmp_path / 'db.sqlite'}") as sessions:
        upload_id = new_upload(sessions)
        recorder = Recorder(ResultWriter(sessions), stop)
        recorder.start()
        recorder.put(completed(tmp_path, upload_id + 1, result(**ok_result(b"")), b""))
        recorder.put(completed(tmp_path, upload_id, result(**ok_result(b"")), b""))
        recorder.close(30)
        assert not recorder.is_alive()
        assert (fetch(sessions, upload_id).state, fetch(sessions, upload_id).text) == ("processed", "")
