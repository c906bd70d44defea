"""Each client's save, replayed request by request: the statuses it gets and exactly what is forwarded.

The sequences are those of dav-clients.md (sections 2–10).  "Forwarded" is a
row in ``uploaded_files``: the forwarder sends every recorded row.  Where a
save must be forwarded at UNLOCK, the gateway's quiet period is set longer
than the test waits, so only the UNLOCK can have settled it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.gateway.replay import (
    DAVFS2,
    FINDER,
    LIBREOFFICE,
    MINIREDIR,
    OFFICE,
    Client,
    forwarded,
    lock_timeout,
    sha,
    wait_forwarded,
)
from tests.gateway.running import RunningGateway, embedded_daemon, running_gateway

LONG_QUIET_S = 30.0
DOC = b"%PDF-1.4 the real document " * 100


@pytest.fixture
def gateway(tmp_path: Path) -> Iterator[RunningGateway]:
    with embedded_daemon() as daemon, running_gateway(tmp_path / "data", daemon.address) as running:
        yield running


@pytest.fixture
def unlock_gateway(tmp_path: Path) -> Iterator[RunningGateway]:
    """A gateway whose quiet period outlasts every wait here: only an UNLOCK settles a save."""
    with embedded_daemon() as daemon, running_gateway(tmp_path / "data", daemon.address,
                                                      gateway_quiet_period_s=LONG_QUIET_S) as running:
        yield running


def test_windows_explorer_copying_a_file_in_forwards_it_once_at_unlock(unlock_gateway: RunningGateway) -> None:
    gw, win = unlock_gateway, Client(unlock_gateway, MINIREDIR)
    win.send("OPTIONS", "/", 200)
    win.propfind("/a.pdf", expect=404)
    win.put("/a.pdf", b"", 201)
    token = win.lock("/a.pdf", Timeout="Second-3600")
    win.win32_proppatch("/a.pdf", token)
    win.send("HEAD", "/a.pdf", 200)
    win.put("/a.pdf", DOC, 204, token)
    win.win32_proppatch("/a.pdf", token)
    win.unlock("/a.pdf", token)
    [row] = wait_forwarded(gw, 1)
    assert (row.path, row.sha256, row.size) == ("/a.pdf", sha(DOC), len(DOC))
    assert (gw.share / "a.pdf").read_bytes() == DOC


def test_windows_new_text_document_renamed_and_saved_is_forwarded_under_its_final_name(
        gateway: RunningGateway) -> None:
    win = Client(gateway, MINIREDIR)
    win.put("/New Text Document.txt", b"", 201)
    win.move("/New Text Document.txt", "/notes.txt", 201, overwrite="F")
    token = win.lock("/notes.txt")
    win.put("/notes.txt", b"my notes", 204, token)
    win.win32_proppatch("/notes.txt", token)
    win.unlock("/notes.txt", token)
    assert [(r.path, r.sha256) for r in gateway.settled()] == [("/notes.txt", sha(b"my notes"))]


def test_finder_copy_forwards_the_document_once_and_none_of_its_metadata(unlock_gateway: RunningGateway) -> None:
    gw, mac = unlock_gateway, Client(unlock_gateway, FINDER)
    for name, body in (("/a.pdf", DOC), ("/._a.pdf", b"\0\5\26\7" * 1024)):
        token = mac.lock(name, 201)
        chunks = (body[i:i + 1000] for i in range(0, len(body), 1000))
        mac.put(name, chunks, 204, token, X_Expected_Entity_Length=str(len(body)))
        mac.propfind(name)
        mac.unlock(name, token)
    mac.put("/.DS_Store", b"\0\0\0\1Bud1", 201)
    [row] = wait_forwarded(gw, 1)
    assert (row.path, row.sha256) == ("/a.pdf", sha(DOC))
    assert (gw.share / "a.pdf").read_bytes() == DOC and (gw.share / ".DS_Store").exists()


def test_a_finder_chunked_put_shorter_than_its_expected_length_is_refused(gateway: RunningGateway) -> None:
    mac = Client(gateway, FINDER)
    token = mac.lock("/short.pdf", 201)
    mac.put("/short.pdf", iter([b"x" * 100]), 400, token, X_Expected_Entity_Length="5000")
    mac.unlock("/short.pdf", token)
    assert gateway.settled() == [] and (gateway.share / "short.pdf").read_bytes() == b""


def word_saves(word: Client, doc_token: str, new: bytes) -> None:
    """Word's save through a mapped drive: temp file, original moved aside, temp renamed onto it."""
    word.put("/~WRL0001.tmp", b"", 201)
    temp_token = word.lock("/~WRL0001.tmp")
    word.put("/~WRL0001.tmp", new, 204, temp_token)
    word.win32_proppatch("/~WRL0001.tmp", temp_token)
    word.unlock("/~WRL0001.tmp", temp_token)
    word.move("/report.docx", "/~WRL0002.tmp", 201, tokens=[doc_token])
    word.move("/~WRL0001.tmp", "/report.docx", 201, dest_tokens=[doc_token])
    word.send("DELETE", "/~WRL0002.tmp", 204)


def test_word_saving_through_a_drive_forwards_the_real_name_once_and_no_temp_files(
        gateway: RunningGateway) -> None:
    word = Client(gateway, MINIREDIR)
    word.put("/report.docx", b"version 1", 201)
    assert forwarded_after_settling(gateway) == [("/report.docx", sha(b"version 1"))]
    doc_token = word.lock("/report.docx")
    word.put("/~$report.docx", b"", 201)
    owner_token = word.lock("/~$report.docx")
    word.put("/~$report.docx", b"\x0bJane Smith", 204, owner_token)
    word.win32_proppatch("/~$report.docx", owner_token, attributes="00000022")
    word.unlock("/~$report.docx", owner_token)
    word_saves(word, doc_token, b"version 2 of the report")
    word.send("DELETE", "/~$report.docx", 204)
    word.unlock("/report.docx", doc_token)
    assert forwarded_after_settling(gateway) == [("/report.docx", sha(b"version 1")),
                                                 ("/report.docx", sha(b"version 2 of the report"))]
    assert sorted(p.name for p in gateway.share.iterdir()) == ["report.docx"]
    assert (gateway.share / "report.docx").read_bytes() == b"version 2 of the report"


def forwarded_after_settling(gateway: RunningGateway) -> list[tuple[str, str]]:
    gateway.settled()
    return forwarded(gateway)


@pytest.mark.parametrize("agent", [OFFICE, LIBREOFFICE])
def test_a_direct_url_editor_forwards_each_save_after_the_quiet_period_under_one_lock(
        gateway: RunningGateway, agent: str) -> None:
    app = Client(gateway, agent)
    app.put("/budget.odt", b"draft", 201)
    gateway.settled()
    assert app.send("OPTIONS", "/", 200).headers["MS-Author-Via"] == "DAV"
    app.send("HEAD", "/budget.odt", 200)
    app.propfind("/budget.odt")
    token = app.lock("/budget.odt", owner="http://ucb.openoffice.org", Timeout="Second-180", Depth="0")
    app.send("GET", "/budget.odt", 200)
    for save in (b"save one", b"save two", b"save two"):
        app.put("/budget.odt", save, 204, token)
        gateway.settled()
        app.send("LOCK", "/budget.odt", 200, If=f"(<{token}>)", Timeout="Second-180")
    assert forwarded(gateway) == [("/budget.odt", sha(b"draft")), ("/budget.odt", sha(b"save one")),
                                  ("/budget.odt", sha(b"save two"))]
    app.unlock("/budget.odt", token)
    assert len(forwarded_after_settling(gateway)) == 3


def test_libreoffice_save_as_to_a_new_url_locks_it_first_and_forwards_it_once(gateway: RunningGateway) -> None:
    lo = Client(gateway, LIBREOFFICE)
    token = lo.lock("/copy.odt", 201, owner="http://ucb.openoffice.org", Timeout="Second-180", Depth="0")
    lo.put("/copy.odt", b"saved as", 204, token)
    lo.unlock("/copy.odt", token)
    assert forwarded_after_settling(gateway) == [("/copy.odt", sha(b"saved as"))]


def test_libreoffice_through_a_windows_drive_replaces_via_temp_files_and_forwards_once(
        gateway: RunningGateway) -> None:
    drive = Client(gateway, MINIREDIR)
    drive.put("/plan.odt", b"old plan", 201)
    gateway.settled()
    drive.put("/.~lock.plan.odt#", b"1,user,host,2024;", 201)
    drive.put("/lu1a2b3c.tmp", b"new plan", 201)
    drive.move("/plan.odt", "/plan~RF1a2b3c.TMP", 201, overwrite="F")
    drive.move("/lu1a2b3c.tmp", "/plan.odt", 201, overwrite="F")
    drive.send("DELETE", "/plan~RF1a2b3c.TMP", 204)
    drive.send("DELETE", "/.~lock.plan.odt#", 204)
    assert forwarded_after_settling(gateway) == [("/plan.odt", sha(b"old plan")), ("/plan.odt", sha(b"new plan"))]
    assert (gateway.share / "plan.odt").read_bytes() == b"new plan"


def test_libreoffice_through_a_linux_mount_renames_its_temp_file_over_the_document(
        gateway: RunningGateway) -> None:
    mount = Client(gateway, DAVFS2)
    mount.put("/.~lock.notes.odt#", b"lock", 201)
    mount.put("/lu99.tmp", b"notes", 201)
    mount.move("/lu99.tmp", "/notes.odt", 201)
    mount.send("DELETE", "/.~lock.notes.odt#", 204)
    assert forwarded_after_settling(gateway) == [("/notes.odt", sha(b"notes"))]


def test_davfs2_creating_a_file_forwards_it_at_unlock_and_not_the_editor_swap_files(
        unlock_gateway: RunningGateway) -> None:
    gw, dav = unlock_gateway, Client(unlock_gateway, DAVFS2)
    assert "1" in dav.send("OPTIONS", "/", 200).headers["DAV"]
    for junk in ("/.todo.txt.swp", "/4913", "/todo.txt~"):
        dav.put(junk, b"swap", 201)
    reply = dav.send("LOCK", "/todo.txt", 201, '<?xml version="1.0"?><D:lockinfo xmlns:D="DAV:"><D:lockscope>'
                     "<D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype><D:owner>me</D:owner>"
                     "</D:lockinfo>", If_None_Match="*", Timeout="Second-1800", Content_Type="application/xml")
    token = reply.headers["Lock-Token"].strip("<>")
    assert 1700 < lock_timeout(reply.text) <= 1800
    dav.put("/todo.txt", b"buy milk", 204, token)
    dav.unlock("/todo.txt", token)
    [row] = wait_forwarded(gw, 1)
    assert (row.path, row.sha256) == ("/todo.txt", sha(b"buy milk"))


def test_a_plain_put_like_gvfs_rclone_or_curl_is_forwarded_after_the_quiet_period(gateway: RunningGateway) -> None:
    gio = Client(gateway, "gvfs/1.50.0")
    gio.send("HEAD", "/plain.doc", 404)
    gio.put("/plain.doc", b"plain", 201)
    assert forwarded_after_settling(gateway) == [("/plain.doc", sha(b"plain"))]


def test_a_burst_of_puts_to_one_path_forwards_only_the_last_body(gateway: RunningGateway) -> None:
    client = Client(gateway, "curl/7.88.1")
    for n in range(5):
        client.put("/burst.doc", f"version {n}".encode(), 201 if n == 0 else 204)
    assert forwarded_after_settling(gateway) == [("/burst.doc", sha(b"version 4"))]


def test_an_upload_deleted_soon_after_is_never_forwarded(gateway: RunningGateway) -> None:
    rclone = Client(gateway, "rclone/v1.60.1")
    rclone.put("/failed.doc", b"half", 201)
    rclone.send("DELETE", "/failed.doc", 204)
    assert forwarded_after_settling(gateway) == []
