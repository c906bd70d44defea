"""Broken forms and unsafe names get a 4xx with a message, and leave no file and no row behind."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.gateway import web_harness as harness
from tests.gateway.web_harness import Gateway, raw_exchange

B = "sgboundary"
TYPE = f"multipart/form-data; boundary={B}"
GOOD_PART = (f"--{B}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"good.doc\"\r\n\r\n"
             "good bytes\r\n").encode()
END = f"--{B}--\r\n".encode()



@pytest.fixture
def gateway(tmp_path: Path) -> Iterator[Gateway]:
    yield from harness.start(tmp_path)


def part(disposition: str, data: bytes = b"data", extra: str = "") -> bytes:
    return f"--{B}\r\nContent-Disposition: {disposition}\r\n{extra}\r\n".encode() + data + b"\r\n"


def request(body: bytes, content_type: str = TYPE, length: int | None = None) -> bytes:
    head = (f"POST /_/upload HTTP/1.1\r\nHost: test\r\nAccept: application/json\r\n"
            f"Content-Type: {content_type}\r\nContent-Length: {len(body) if length is None else length}\r\n"
            "Connection: close\r\n\r\n")
    return head.encode() + body


def status_and_body(answer: bytes) -> tuple[int, bytes]:
    head, _, body = answer.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), body


MALFORMED = {
    "no boundary in the content type": (request(GOOD_PART + END, "multipart/form-data"), 400, b"no boundary"),
    "not a multipart body at all": (request(b"a=b", "application/x-www-form-urlencoded"), 415,
                                    b"multipart/form-data"),
    "an empty body": (request(b""), 400, b"closing boundary"),
    "no closing boundary": (request(GOOD_PART), 400, b"closing boundary"),
    "a body cut off inside a file": (request(GOOD_PART + part('form-data; name="f"; filename="b.doc"')[:-8]), 400,
                                     b"closing boundary"),
    "another boundary than declared": (request(GOOD_PART.replace(B.encode(), b"other") + END), 400,
                                       b"malformed multipart"),
    "a part without Content-Disposition": (request(GOOD_PART + f"--{B}\r\nX-A: b\r\n\r\nx\r\n".encode() + END),
                                           400, b"Content-Disposition"),
    "a disposition that is not form-data": (request(GOOD_PART + part('attachment; filename="a.doc"') + END), 400,
                                            b"Content-Disposition"),
    "a header line without a colon": (request(GOOD_PART + f"--{B}\r\nnonsense\r\n\r\nx\r\n".encode() + END), 400,
                                      b"malformed multipart"),
    "a file name that is not UTF-8": (request(GOOD_PART + part('form-data; name="f"; filename="\xff.doc"'
                                                               ).replace(b"\xc3\xbf", b"\xff") + END),
                                      400, b"not UTF-8"),
    "the folder field after the files": (request(GOOD_PART + part('form-data; name="folder"', b"x") + END), 400,
                                         b"before the files"),
    "a folder field too long to be a folder": (request(part('form-data; name="folder"', b"a" * 5000) + GOOD_PART
                                                       + END), 400, b"longer than"),
    "data in a file input left empty": (request(part('form-data; name="f"; filename=""', b"stray") + END), 400,
                                        b"empty file name"),
}


@pytest.mark.parametrize("raw,status,message", MALFORMED.values(), ids=MALFORMED.keys())
def test_a_malformed_form_is_refused_with_a_message_and_stores_nothing(
        gateway: Gateway, raw: bytes, status: int, message: bytes) -> None:
    got, body = status_and_body(raw_exchange(gateway, raw))
    assert got == status, body
    assert message in body
    assert gateway.stored_files() == []
    assert gateway.row_count() == 0


def test_a_body_shorter_than_its_content_length_is_refused_and_stores_nothing(gateway: Gateway) -> None:
    body = GOOD_PART + END
    got, reply = status_and_body(raw_exchange(gateway, request(body, length=len(body) + 100), shut_write=True))
    assert got == 400
    assert b"ended after" in reply
    assert gateway.stored_files() == []
    assert gateway.row_count() == 0


UNSAFE = {
    "a folder climbing out of the share": ('form-data; name="folder"', b"../outside", b"inside the share"),
    "a folder climbing out in the middle": ('form-data; name="folder"', b"a/../../b", b"inside the share"),
    "a folder climbing out with backslashes": ('form-data; name="folder"', b"a\\..\\..\\b", b"inside the share"),
    "the reserved folder of the pages": ('form-data; name="folder"', b"_/x", b"reserved"),
    "a NUL in the folder": ('form-data; name="folder"', b"a\x00b", b"inside the share"),
    "a file named ..": ('form-data; name="file"; filename=".."', b"x", b"no usable base name"),
    "a file named .": ('form-data; name="file"; filename="."', b"x", b"no usable base name"),
    "a file name that is only a folder": ('form-data; name="file"; filename="dir/"', b"x", b"no usable base name"),
    "a file name ending in ..": ('form-data; name="file"; filename="a\\\\.."', b"x", b"no usable base name"),
    "a control character in a file name": ('form-data; name="file"; filename="a\tb.doc"', b"x",
                                           b"control characters"),
    "a file named like the pages' prefix": ('form-data; name="file"; filename="_"', b"x", b"reserved"),
}


@pytest.mark.parametrize("disposition,data,message", UNSAFE.values(), ids=UNSAFE.keys())
def test_an_unsafe_folder_or_file_name_is_refused_with_400(
        gateway: Gateway, disposition: str, data: bytes, message: bytes) -> None:
    got, body = status_and_body(raw_exchange(gateway, request(part(disposition, data) + GOOD_PART + END)))
    assert got == 400, body
    assert message in body
    assert gateway.stored_files() == []
    assert gateway.row_count() == 0


def test_a_browser_sees_a_refusal_as_a_page_with_a_way_back(gateway: Gateway) -> None:
    raw = request(GOOD_PART).replace(b"Accept: application/json", b"Accept: text/html")
    got, body = status_and_body(raw_exchange(gateway, raw))
    assert got == 400
    assert b"closing boundary" in body
    assert b'href="./"' in body
