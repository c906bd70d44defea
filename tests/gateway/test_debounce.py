"""The debounce rules as bookkeeping: which paths become due, and when, under a fake clock."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.debounce import Debouncer, Written, destination_path, normalize
from gateway.pending import PendingFile

T = 5.0


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def deb(clock: Clock) -> Debouncer:
    return Debouncer(T, clock=clock)


def due_paths(deb: Debouncer) -> list[str]:
    return [c.path for c in deb.due()]


def written(sha: str = "a" * 64) -> Written:
    return Written(inode=7, size=3, sha256=sha, content_type="application/msword")


def test_a_complete_put_is_due_after_the_quiet_period_and_not_before(deb: Debouncer, clock: Clock) -> None:
    deb.written("/r.doc", written())
    clock.now += T - 0.1
    assert due_paths(deb) == []
    clock.now += 0.2
    assert due_paths(deb) == ["/r.doc"]


def test_a_burst_of_writes_is_one_candidate_carrying_the_last_bytes(deb: Debouncer, clock: Clock) -> None:
    for sha in ("1" * 64, "2" * 64, "3" * 64):
        deb.written("/r.doc", written(sha))
        clock.now += T / 2
    assert due_paths(deb) == []
    clock.now += T
    [candidate] = deb.due()
    assert candidate.written is not None and candidate.written.sha256 == "3" * 64


def test_a_proppatch_restarts_the_quiet_clock_but_a_lock_refresh_does_not(deb: Debouncer, clock: Clock) -> None:
    deb.written("/r.doc", written())
    clock.now += T - 1
    deb.event("PROPPATCH", "/r.doc", None, 207)
    clock.now += 2
    assert due_paths(deb) == []
    deb.event("LOCK", "/r.doc", None, 200)
    clock.now += T - 2
    assert due_paths(deb) == ["/r.doc"]


def test_an_unlock_of_the_covering_lock_makes_the_candidate_due_at_once(deb: Debouncer) -> None:
    deb.written("/d/r.doc", written())
    deb.written("/other.doc", written())
    deb.released("/d/r.doc", infinite=False)
    assert due_paths(deb) == ["/d/r.doc"]


def test_an_infinite_depth_lock_on_a_folder_covers_the_documents_below_it(deb: Debouncer) -> None:
    deb.written("/d/r.doc", written())
    deb.written("/dx.doc", written())
    deb.released("/d", infinite=True)
    assert due_paths(deb) == ["/d/r.doc"]


@pytest.mark.parametrize("name", ["~$report.doc", "~WRL0001.tmp", "._r.doc", ".DS_Store", ".~lock.r.odt#"])
def test_writes_to_temporary_and_metadata_names_never_become_candidates(deb: Debouncer, name: str) -> None:
    deb.written(f"/{name}", written())
    assert deb.pending == {}


def test_word_save_through_a_drive_makes_the_real_name_the_one_candidate(deb: Debouncer, clock: Clock) -> None:
    deb.written("/~WRL0001.tmp", written())
    deb.event("MOVE", "/report.docx", "/~WRL0002.tmp", 201)
    deb.event("MOVE", "/~WRL0001.tmp", "/report.docx", 201)
    deb.event("DELETE", "/~WRL0002.tmp", None, 204)
    clock.now += T
    assert due_paths(deb) == ["/report.docx"]


def test_a_move_carries_a_pending_candidate_and_what_its_put_knew(deb: Debouncer, clock: Clock) -> None:
    deb.written("/New Text Document.txt", written("e" * 64))
    deb.event("MOVE", "/New Text Document.txt", "/notes.txt", 201)
    clock.now += T
    [candidate] = deb.due()
    assert candidate.path == "/notes.txt" and candidate.written == written("e" * 64)


def test_moving_a_folder_carries_the_candidates_inside_it(deb: Debouncer, clock: Clock) -> None:
    deb.written("/a/x.doc", written())
    deb.event("MOVE", "/a", "/b", 201)
    clock.now += T
    assert "/b/x.doc" in due_paths(deb) and "/a/x.doc" not in deb.pending


def test_a_copy_makes_the_destination_a_candidate_and_keeps_the_source(deb: Debouncer, clock: Clock) -> None:
    deb.written("/a.doc", written())
    deb.event("COPY", "/a.doc", "/b.doc", 201)
    clock.now += T
    assert sorted(due_paths(deb)) == ["/a.doc", "/b.doc"]


def test_moving_a_pending_document_onto_a_temporary_name_cancels_it(deb: Debouncer) -> None:
    deb.written("/r.doc", written())
    deb.event("MOVE", "/r.doc", "/r.doc~RF1a2b.TMP", 201)
    assert deb.pending == {}


def test_a_delete_soon_after_an_upload_drops_it(deb: Debouncer) -> None:
    deb.written("/d/failed.doc", written())
    deb.event("DELETE", "/d", None, 204)
    assert deb.pending == {}


def test_failed_requests_change_nothing_but_the_quiet_clock(deb: Debouncer, clock: Clock) -> None:
    deb.written("/r.doc", written())
    clock.now += T - 1
    deb.event("DELETE", "/r.doc", None, 423)
    deb.event("MOVE", "/r.doc", "/s.doc", 412)
    assert list(deb.pending) == ["/r.doc"]
    clock.now += 2
    assert due_paths(deb) == []


def test_a_resource_created_by_lock_is_tracked_as_a_placeholder(deb: Debouncer) -> None:
    deb.event("LOCK", "/new.pdf", None, 201)
    assert deb.pending["/new.pdf"].written is None


def test_a_candidate_replaced_while_settling_stays_pending(deb: Debouncer, clock: Clock) -> None:
    deb.written("/r.doc", written("1" * 64))
    clock.now += T
    [old] = deb.due()
    deb.written("/r.doc", written("2" * 64))
    deb.settled([old])
    assert deb.pending["/r.doc"].written == written("2" * 64)


def test_a_failed_settle_is_tried_again_after_another_quiet_period(deb: Debouncer, clock: Clock) -> None:
    deb.written("/r.doc", written())
    clock.now += T
    [candidate] = deb.due()
    deb.postpone(candidate)
    assert due_paths(deb) == []
    clock.now += T
    assert due_paths(deb) == ["/r.doc"]


def test_every_change_is_persisted_and_restored_with_a_fresh_quiet_period(tmp_path: Path, clock: Clock) -> None:
    store = PendingFile(tmp_path / "state" / "pending.jsonl")
    first = Debouncer(T, clock=clock, journal=store)
    first.written("/ü dir/r.doc", written())
    first.event("LOCK", "/p.pdf", None, 201)
    first.written("/gone.doc", written())
    first.deleted("/gone.doc")
    second = Debouncer(T, clock=clock)
    second.restore(store.load())
    assert {p: c.written for p, c in second.pending.items()} == {"/ü dir/r.doc": written(), "/p.pdf": None}
    assert second.next_due() == clock.now + T


def test_a_journal_line_cut_short_by_a_crash_is_skipped_and_the_rest_recovered(tmp_path: Path) -> None:
    store = PendingFile(tmp_path / "pending.jsonl")
    store.sync(store.append({"/a.doc": written(), "/b.doc": None}))
    store.close()
    with (tmp_path / "pending.jsonl").open("a") as journal:
        journal.write('{"path": "/c.doc", "writ')
    reopened = PendingFile(tmp_path / "pending.jsonl")
    assert reopened.load() == {"/a.doc": written(), "/b.doc": None}
    # The next line starts on a line of its own, not glued to the cut-short one.
    reopened.sync(reopened.append({"/d.doc": None}, ["/a.doc"]))
    assert PendingFile(tmp_path / "pending.jsonl").load() == {"/b.doc": None, "/d.doc": None}


def test_the_journal_is_compacted_once_it_outgrows_the_pending_entries(tmp_path: Path) -> None:
    store = PendingFile(tmp_path / "pending.jsonl")
    for n in range(1000):
        store.append({f"/{n}.doc": written()}, [f"/{n - 1}.doc"])
    assert len((tmp_path / "pending.jsonl").read_text().splitlines()) <= 400
    assert PendingFile(tmp_path / "pending.jsonl").load() == {"/999.doc": written()}


@pytest.mark.parametrize(("header", "path"), [
    ("http://h:1/a%20b/c.doc", "/a b/c.doc"),
    ("/r%C3%A9sum%C3%A9.doc", "/résumé.doc"),
    ("https://h/dir/", "/dir"),
    ("http://h/dav/x.doc", "/x.doc"),
])
def test_destination_headers_become_share_paths(header: str, path: str) -> None:
    assert destination_path(header, "/dav" if "/dav/" in header else "") == path


def test_paths_have_one_spelling() -> None:
    assert normalize("//a///b/") == "/a/b" and normalize("/") == "/"
