"""``spreadgate upload`` without a gateway: what goes where, the bytes it sends, the exit status, the report."""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

import pytest

from gateway.ignore import is_ignored
from spreadgate import gatewayhttp
from spreadgate.davput import HashingReader, Refused
from spreadgate.upload import FileResult, exit_status, exit_status_for
from spreadgate.uploadplan import SKIP_REASON, PlanError, make_plan, share_folder
from spreadgate.uploadreport import report


def tree(root: Path, files: dict[str, bytes]) -> Path:
    for rel, data in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
    return root


def test_a_folder_lands_under_its_own_name_with_everything_below_it_like_cp_r(tmp_path: Path) -> None:
    docs = tree(tmp_path / "docs", {"a.doc": b"12345", "sub/b.doc": b"1", "sub/deeper/c.doc": b"", "empty/.keep": b""})
    lone = tree(tmp_path, {"lone.pdf": b"pdf"}) / "lone.pdf"
    plan = make_plan([docs, lone], "/in/2024/", is_ignored)
    assert [(item.path, item.size) for item in plan.to_send] == [
        ("/in/2024/docs/a.doc", 5), ("/in/2024/docs/sub/b.doc", 1), ("/in/2024/docs/sub/deeper/c.doc", 0),
        ("/in/2024/lone.pdf", 3)]
    assert plan.folders == ["/in", "/in/2024", "/in/2024/docs", "/in/2024/docs/empty", "/in/2024/docs/sub",
                            "/in/2024/docs/sub/deeper"]
    assert plan.to_send[1].local == docs / "sub" / "b.doc"


def test_files_into_the_share_root_need_no_folder(tmp_path: Path) -> None:
    plan = make_plan([tree(tmp_path, {"x.doc": b"x"}) / "x.doc"], "/", is_ignored)
    assert ([item.path for item in plan.items], plan.folders) == (["/x.doc"], [])


@pytest.mark.parametrize(("given", "folder"), [("", "/"), ("/", "/"), ("a/b/", "/a/b"), ("//a//b", "/a/b")])
def test_the_target_folder_is_written_as_a_share_path(given: str, folder: str) -> None:
    assert share_folder(given) == folder


def test_names_the_gateway_never_processes_are_skipped_with_the_reason(tmp_path: Path) -> None:
    docs = tree(tmp_path / "docs", {"report.doc": b"r", "~$report.doc": b"owner", ".DS_Store": b"m",
                                    "Thumbs.db": b"t"})
    plan = make_plan([docs], "/", is_ignored)
    assert [item.path for item in plan.to_send] == ["/docs/report.doc"]
    assert {item.path: item.skip for item in plan.items if item.skip} == {
        "/docs/.DS_Store": SKIP_REASON, "/docs/Thumbs.db": SKIP_REASON, "/docs/~$report.doc": SKIP_REASON}


def test_one_file_named_twice_is_sent_once(tmp_path: Path) -> None:
    docs = tree(tmp_path / "docs", {"a.doc": b"a"})
    plan = make_plan([docs / "a.doc", docs / ".." / "docs" / "a.doc"], "/", is_ignored)
    assert [item.path for item in plan.items] == ["/a.doc"]


def test_two_different_files_for_one_share_path_are_refused(tmp_path: Path) -> None:
    one, two = tree(tmp_path, {"one/a.doc": b"1", "two/a.doc": b"2"}) / "one", tmp_path / "two"
    with pytest.raises(PlanError, match=r"one/a.doc and .*two/a.doc would both be uploaded to /a.doc"):
        make_plan([one / "a.doc", two / "a.doc"], "/", is_ignored)


def test_a_missing_path_is_refused(tmp_path: Path) -> None:
    with pytest.raises(PlanError, match="gone.doc: no such file or folder"):
        make_plan([tmp_path / "gone.doc"], "/", is_ignored)


def results(*states: str) -> list[FileResult]:
    return [FileResult(f"/tmp/{i}", f"/{i}.doc", 1, state) for i, state in enumerate(states)]


@pytest.mark.parametrize(
    ("states", "status"),
    [(("processed", "stored", "skipped", "uploaded"), 0), (("processed", "failed"), 1), (("unreadable",), 1),
     (("failed", "waiting"), 6), (("waiting", "refused", "failed"), 4),
     (("refused", "unreachable", "processed"), 3), ((), 0)],
)
def test_the_worst_file_decides_the_exit_status(states: tuple[str, ...], status: int) -> None:
    assert exit_status(results(*states)) == status


@pytest.mark.parametrize(
    ("error", "status"),
    [(gatewayhttp.CredentialsRefused("401"), 5), (Refused("403"), 4), (gatewayhttp.Unreachable("down"), 3)],
)
def test_an_error_that_stops_the_whole_upload_has_its_own_exit_status(
    error: gatewayhttp.GatewayError, status: int
) -> None:
    assert exit_status_for(error) == status


def test_a_missing_user_and_a_wrong_password_are_told_apart() -> None:
    assert "give --user and --password (or set SPREADGATE_USER" in str(gatewayhttp.refused("http://g", None))
    assert "refused the user name or password of 'alice'" in str(gatewayhttp.refused("http://g", "alice"))


def test_the_body_reader_hashes_counts_and_rewinds_what_it_sends() -> None:
    data = b"spreadgate " * 100_000
    counted: list[int] = []
    body = HashingReader(io.BytesIO(data), len(data), counted.append)
    assert body.read(1000) == data[:1000]
    body.seek(0)  # a Digest retry sends the body again
    sent = b"".join(iter(lambda: body.read(8192), b""))
    assert sent == data and len(body) == len(data)
    assert body.digest.hexdigest() == hashlib.sha256(data).hexdigest()
    assert sum(counted) == len(data)
    with pytest.raises(io.UnsupportedOperation):
        body.seek(10)


def test_the_body_reader_sends_no_more_than_the_announced_length_of_a_growing_file() -> None:
    body = HashingReader(io.BytesIO(b"0123456789"), 4, lambda _count: None)
    assert b"".join(iter(lambda: body.read(), b"")) == b"0123"
    assert body.digest.hexdigest() == hashlib.sha256(b"0123").hexdigest()


def test_the_report_is_one_row_per_file_with_the_reason_of_a_failure_and_a_summary() -> None:
    done = [FileResult("/l/a", "/a.doc", 9, "processed", 201, lines=60, converter="antiword"),
            FileResult("/l/b", "/b.doc", 9, "failed", 201, error="encrypted document\n(a password)")]
    out = io.StringIO()
    report(done, True, False, 1, 2.04, out)
    assert out.getvalue().splitlines() == [
        "path    state      lines  converter  error",
        "/a.doc  processed  60     antiword   -",
        "/b.doc  failed     -      -          encrypted document (a password)",
        "",
        "2 files: 1 failed, 1 processed (2.0 s)"]
    out = io.StringIO()
    report(done[:1], False, True, 0, 0.5, out)
    document = json.loads(out.getvalue())
    assert (document["waited"], document["exit_status"], document["counts"]) == (False, 0, {"processed": 1})
    assert document["files"][0] == done[0].as_json()
