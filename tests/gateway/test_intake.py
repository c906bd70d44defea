"""The intake: where a finished file goes, and which files become uploads."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from gateway.ignore import is_ignored
from gateway.intake import EMPTY_ERROR, WRITEBACK_STEP, Intake
from spreadgate import db
from spreadgate.models import UploadedFile


@pytest.fixture
def intake(tmp_path: Path) -> Intake:
    engine = db.make_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    db.migrate(engine)
    woken: list[int] = []
    made = Intake(tmp_path / "data", db.sessions(engine), lambda: woken.append(1))
    made.woken = woken  # type: ignore[attr-defined]
    return made


def store(intake: Intake, share_path: str, data: bytes, explicit: bool = False) -> int | None:
    handle, temp = intake.temp_for(share_path)
    with handle:
        handle.write(data)
    return intake.commit(share_path, temp, size=len(data), sha256=hashlib.sha256(data).hexdigest(),
                         content_type="application/msword", explicit=explicit)


@pytest.mark.parametrize(
    "name",
    ["~$report.doc", "~WRL0001.tmp", "~WRD0003.TMP", "~DF12.tmp", "x~RF1a2b.TMP", "ppt1234.tmp",
     "1A2B3C4D", "0a1b2c3d.tmp", "desktop.ini", "Thumbs.db", "._report.doc", ".DS_Store",
     ".~lock.report.odt#", "lu12345.tmp", "a.osl-tmp", ".report.doc.swp", "4913", "report.doc~",
     "#report#", ".goutputstream-XYZ", "movie.part", "x.crdownload", "Doc.sb-1a2b-Xy"],
)
def test_temporary_lock_and_metadata_names_are_never_documents(name: str) -> None:
    assert is_ignored(name)


@pytest.mark.parametrize("name", ["report.doc", "Report 2024.docx", "ü.odt", "1A2B3C4D.doc", "a~b.pdf"])
def test_ordinary_document_names_are_documents(name: str) -> None:
    assert not is_ignored(name)


@pytest.mark.parametrize("bad", ["../x.doc", "/a/../../x.doc", "a//../../b", "x\0.doc", "..\\x.doc", "/", ""])
def test_paths_that_leave_the_share_or_name_nothing_are_refused(intake: Intake, bad: str) -> None:
    with pytest.raises(ValueError):
        intake.resolve(bad)


def test_a_committed_document_is_in_place_recorded_and_kept_by_its_hash(intake: Intake) -> None:
    upload_id = store(intake, "/a b/ü.doc", b"content")
    sha = hashlib.sha256(b"content").hexdigest()
    assert (intake.share / "a b" / "ü.doc").read_bytes() == b"content"
    assert intake.blobs.path_for(sha).read_bytes() == b"content"
    with intake.sessions() as session:
        row = session.get(UploadedFile, upload_id)
    assert row is not None and (row.path, row.name, row.state, row.sha256) == ("/a b/ü.doc", "ü.doc", "received", sha)
    assert intake.woken == [1]  # type: ignore[attr-defined]
    assert [p.name for p in (intake.share / "a b").iterdir()] == ["ü.doc"]


def test_a_later_write_to_the_same_path_leaves_the_kept_bytes_alone(intake: Intake) -> None:
    store(intake, "/x.doc", b"first")
    store(intake, "/x.doc", b"second")
    assert intake.blobs.path_for(hashlib.sha256(b"first").hexdigest()).read_bytes() == b"first"
    assert (intake.share / "x.doc").read_bytes() == b"second"


def test_temporary_names_are_stored_but_not_recorded(intake: Intake) -> None:
    assert store(intake, "/~$x.doc", b"owner") is None
    assert (intake.share / "~$x.doc").read_bytes() == b"owner"
    with intake.sessions() as session:
        assert session.query(UploadedFile).count() == 0


def test_an_empty_put_is_a_placeholder_but_an_empty_form_upload_fails_with_a_reason(intake: Intake) -> None:
    assert store(intake, "/placeholder.doc", b"") is None
    upload_id = store(intake, "/empty.doc", b"", explicit=True)
    with intake.sessions() as session:
        row = session.get(UploadedFile, upload_id)
    assert row is not None and (row.state, row.error) == ("failed", EMPTY_ERROR)
    assert intake.woken == []  # type: ignore[attr-defined]


def test_a_discarded_temp_file_leaves_nothing(intake: Intake) -> None:
    handle, temp = intake.temp_for("/d/x.doc")
    handle.close()
    intake.discard(temp)
    assert list((intake.share / "d").iterdir()) == []


@pytest.mark.parametrize("bad", ["/" + "n" * 256 + ".doc", "/" + "é" * 128, "/" + "/".join(["d" * 200] * 21)])
def test_names_and_paths_longer_than_the_file_system_allows_are_refused_up_front(intake: Intake, bad: str) -> None:
    with pytest.raises(ValueError, match="longer than"):
        intake.resolve(bad)


def test_a_name_of_exactly_255_bytes_is_stored(intake: Intake) -> None:
    name = "/" + "n" * 251 + ".doc"
    assert store(intake, name, b"long name", explicit=True) is not None
    assert (intake.share / name[1:]).read_bytes() == b"long name"


def test_a_commit_that_cannot_put_the_file_in_place_raises_and_leaves_no_temporary_file(intake: Intake) -> None:
    (intake.share / "taken.doc").mkdir()  # a folder now holds the name the bytes were meant for
    with pytest.raises(IsADirectoryError):
        store(intake, "/taken.doc", b"bytes")
    assert [p.name for p in intake.share.iterdir()] == ["taken.doc"]
    assert list((intake.share / "taken.doc").iterdir()) == []
    with intake.sessions() as session:
        assert session.query(UploadedFile).count() == 0


def test_a_file_larger_than_one_writeback_step_is_stored_byte_for_byte(intake: Intake) -> None:
    pieces = [bytes([n % 251]) * 65536 for n in range(WRITEBACK_STEP * 3 // 65536 + 7)]
    handle, temp = intake.temp_for("/big.bin")
    with handle:
        for piece in pieces:
            handle.write(piece)
    data = b"".join(pieces)
    upload_id = intake.commit("/big.bin", temp, size=len(data), sha256=hashlib.sha256(data).hexdigest(),
                              content_type="application/octet-stream")
    assert upload_id is not None
    assert (intake.share / "big.bin").read_bytes() == data
