"""POST /_/upload: real documents streamed through a real gateway into the share and the table."""

from __future__ import annotations

import hashlib
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.gateway import web_harness as harness
from tests.gateway.web_harness import (
    Gateway,
    form_parts,
    new_boundary,
    post_stream,
    raw_exchange,
)

DOCUMENTS = ("testWORD.doc", "rasp.doc", "testWORD.docx", "raw_text.rtf")
TIMEOUT = 60



@pytest.fixture
def gateway(tmp_path: Path) -> Iterator[Gateway]:
    yield from harness.start(tmp_path)


@pytest.fixture
def small_gateway(tmp_path: Path) -> Iterator[Gateway]:
    """A gateway whose upload limit is 1 MiB."""
    yield from harness.start(tmp_path, max_upload_mb=1)


def post_files(gateway: Gateway, corpus: Path, names: tuple[str, ...], folder: str | None,
               accept: str = "application/json") -> requests.Response:
    handles = [(corpus / name).open("rb") for name in names]
    try:
        files = [("file", (name, handle, "application/octet-stream")) for name, handle in zip(names, handles)]
        data = {} if folder is None else {"folder": folder}
        return requests.post(f"{gateway.url}/_/upload", data=data, files=files, headers={"Accept": accept},
                             allow_redirects=False, timeout=TIMEOUT)
    finally:
        for handle in handles:
            handle.close()


def test_several_corpus_documents_in_one_form_land_in_the_folder_with_their_sha256(
        gateway: Gateway, corpus: Path, expected: dict[str, dict[str, Any]]) -> None:
    reply = post_files(gateway, corpus, DOCUMENTS, "reports/2024")
    assert reply.status_code == 201, reply.text
    assert reply.headers["Content-Type"] == "application/json"
    uploads = reply.json()["uploads"]
    assert [u["name"] for u in uploads] == list(DOCUMENTS)
    rows = {row.id: row for row in gateway.rows()}
    for upload in uploads:
        name = upload["name"]
        assert upload["path"] == f"/reports/2024/{name}"
        assert upload["sha256"] == expected[name]["sha256"]
        assert upload["size"] == (corpus / name).stat().st_size
        row = rows[upload["id"]]
        assert (row.path, row.sha256, row.size) == (upload["path"], upload["sha256"], upload["size"])
        stored = gateway.share / "reports" / "2024" / name
        assert hashlib.sha256(stored.read_bytes()).hexdigest() == expected[name]["sha256"]


def test_a_browser_form_post_is_answered_with_a_redirect_to_the_page(gateway: Gateway, corpus: Path) -> None:
    reply = post_files(gateway, corpus, ("testWORD.doc",), None, accept="text/html,application/xhtml+xml")
    assert reply.status_code == 303
    assert reply.headers["Location"] == "/_/"
    assert [row.path for row in gateway.rows()] == ["/testWORD.doc"]


def test_curl_uploads_with_a_form_too(gateway: Gateway, corpus: Path, expected: dict[str, dict[str, Any]]
                                      ) -> None:
    done = subprocess.run(
        ["curl", "-sS", "--max-time", str(TIMEOUT), "-F", "folder=in", "-F", f"file=@{corpus / 'rasp.doc'}",
         f"{gateway.url}/_/upload"], capture_output=True, text=True, timeout=TIMEOUT, check=True)
    assert [u["path"] for u in json.loads(done.stdout)["uploads"]] == ["/in/rasp.doc"]
    assert [(row.path, row.sha256) for row in gateway.rows()] == [("/in/rasp.doc", expected["rasp.doc"]["sha256"])]


def test_a_chunked_form_body_is_accepted(gateway: Gateway, corpus: Path) -> None:
    boundary = new_boundary()
    content = (corpus / "testWORD.doc").read_bytes()
    status, body = post_stream(gateway, form_parts(boundary, {}, [("testWORD.doc", [content])]),
                               boundary=boundary)
    assert status == 201, body
    assert [(row.path, row.size) for row in gateway.rows()] == [("/testWORD.doc", len(content))]


def test_a_client_side_path_in_the_file_name_is_cut_to_its_base_name(gateway: Gateway) -> None:
    boundary = new_boundary()
    files = [("C:\\Users\\ann\\..\\report.doc", [b"one"]), ("../../etc/passwd", [b"two"])]
    status, body = post_stream(gateway, form_parts(boundary, {}, files), boundary=boundary)
    assert status == 201, body
    assert [row.path for row in gateway.rows()] == ["/report.doc", "/passwd"]
    assert gateway.share_files() == ["passwd", "report.doc"]


def test_an_empty_file_input_is_skipped_but_a_form_without_any_file_is_refused(gateway: Gateway) -> None:
    boundary = new_boundary()
    status, body = post_stream(gateway, form_parts(boundary, {"folder": "x"}, [("", [])]), boundary=boundary)
    assert status == 400
    assert b"no file" in body
    assert gateway.row_count() == 0


def test_a_chunked_form_above_the_upload_limit_gets_413_and_leaves_nothing(small_gateway: Gateway) -> None:
    boundary = new_boundary()
    pieces = [b"x" * 65536] * 24  # 1.5 MiB against a 1 MiB limit
    status, body = post_stream(small_gateway, form_parts(boundary, {}, [("big.bin", pieces)]), boundary=boundary)
    assert status == 413, body
    assert b"limit" in body
    assert small_gateway.row_count() == 0
    assert small_gateway.stored_files() == []


def test_a_form_announced_above_the_upload_limit_gets_413_before_its_body_is_sent(small_gateway: Gateway
                                                                                  ) -> None:
    head = (f"POST /_/upload HTTP/1.1\r\nHost: test\r\nContent-Type: multipart/form-data; boundary=b\r\n"
            f"Content-Length: {3 << 20}\r\nExpect: 100-continue\r\n\r\n").encode()
    assert raw_exchange(small_gateway, head).startswith(b"HTTP/1.1 413 ")
    assert small_gateway.stored_files() == []


def test_a_form_just_under_the_upload_limit_is_accepted(small_gateway: Gateway) -> None:
    boundary = new_boundary()
    # The limit counts the whole request body, multipart framing included.
    framing = sum(len(p) for p in form_parts(boundary, {}, [("ok.bin", [])]))
    size = (1 << 20) - framing
    status, body = post_stream(small_gateway, form_parts(boundary, {}, [("ok.bin", [b"x" * size])]),
                               boundary=boundary, length=size + framing)
    assert status == 201, body
    assert [row.size for row in small_gateway.rows()] == [size]


def test_a_folder_where_a_file_stands_is_a_409_and_stores_nothing_new(gateway: Gateway) -> None:
    boundary = new_boundary()
    status, body = post_stream(gateway, form_parts(boundary, {}, [("taken", [b"a file"])]), boundary=boundary)
    assert status == 201, body
    status, body = post_stream(gateway, form_parts(boundary, {"folder": "taken/sub"}, [("x.doc", [b"x"])]),
                               boundary=boundary)
    assert status == 409
    assert b"in the way" in body
    assert [row.path for row in gateway.rows()] == ["/taken"]
    assert gateway.share_files() == ["taken"]
