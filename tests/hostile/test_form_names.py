"""The upload form's file names and folder field: refused, or reduced to a name inside the share."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from tests.hostile.kit import SECRET, Target, target

B = "sghostile"
FORM = f"Accept: application/json\r\nContent-Type: multipart/form-data; boundary={B}\r\n"

# (folder field or None, file name as sent, where it is stored in the share)
KEPT_INSIDE = [
    (None, b"../../escape.txt", "/escape.txt"), (None, b"/etc/passwd", "/passwd"),
    (None, b"C:\\\\..\\\\escape.txt", "/escape.txt"), (None, b"..\\\\escape.txt", "/escape.txt"),
    (None, b"%2e%2e%2fescape.txt", "/%2e%2e%2fescape.txt"), (b"/abs/dir", b"a.txt", "/abs/dir/a.txt"),
    (b"//etc", b"a.txt", "/etc/a.txt"), (b"%2e%2e", b"a.txt", "/%2e%2e/a.txt"),
    (b"a/%2e%2e/%2e%2e", b"a.txt", "/a/%2e%2e/%2e%2e/a.txt"),
]
# (folder field or None, file name as sent, a fragment of the 400's message)
REFUSED = [
    (None, b"escape\x00.txt", b"control characters"), (None, b"\xc0\xae\xc0\xae/escape.txt", b"not UTF-8"),
    (b"\xc0\xae\xc0\xae", b"a.txt", b"not UTF-8"), (b"../..", b"a.txt", b"inside the share"),
    (b"a/../../..", b"a.txt", b"inside the share"), (b"a\x00", b"a.txt", b"inside the share"),
    (None, b"..", b"no usable base name"),
    # The start-up sweep deletes the gateway's temporary names: an upload stored under one would be lost.
    (None, b".sg-upload-x", b"reserved"), (b"a/.sg-upload-x", b"a.txt", b"reserved"),
]


@pytest.fixture
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    with target(tmp_path_factory.mktemp("form")) as running:
        before = running.outside()
        yield running
        assert running.outside() == before
        assert running.sentinel.read_bytes() == SECRET


def form(folder: bytes | None, name: bytes) -> bytes:
    body = b""
    if folder is not None:
        body += f'--{B}\r\nContent-Disposition: form-data; name="folder"\r\n\r\n'.encode() + folder + b"\r\n"
    disposition = f'--{B}\r\nContent-Disposition: form-data; name="file"; filename="'.encode()
    return body + disposition + name + b'"\r\n\r\nevil\r\n' + f"--{B}--\r\n".encode()


@pytest.mark.parametrize("folder,name,stored", KEPT_INSIDE, ids=[repr(n) for _, n, _ in KEPT_INSIDE])
def test_a_hostile_form_name_is_stored_under_a_harmless_name_inside_the_share(
        site: Target, folder: bytes | None, name: bytes, stored: str) -> None:
    status, body = site.send("POST", "/_/upload", form(folder, name), FORM)
    assert status == 201, body
    assert [u["path"] for u in json.loads(body)["uploads"]] == [stored]
    assert (site.share / stored.lstrip("/")).read_bytes() == b"evil"


@pytest.mark.parametrize("folder,name,message", REFUSED, ids=[repr((f, n)) for f, n, _ in REFUSED])
def test_a_form_name_that_cannot_be_made_safe_is_refused_and_stores_nothing(
        site: Target, folder: bytes | None, name: bytes, message: bytes) -> None:
    status, body = site.send("POST", "/_/upload", form(folder, name), FORM)
    assert status == 400, body
    assert message in body
    assert [p for p in site.share.rglob("*") if p.is_file()] == []
