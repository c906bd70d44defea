"""File names with shell metacharacters, quotes, markup and SQL are stored as they are and shown escaped."""

from __future__ import annotations

import html
import json
from collections.abc import Iterator
from urllib.parse import quote

import pytest

from tests.hostile.kit import SECRET, Target, target

# No slashes or backslashes: the form keeps only the base name (tests/hostile/test_form_names.py).
NAMES = [
    "a; rm -rf ~ $(touch PWNED) `touch PWNED`.doc",
    "quote ' and \" mix.doc",
    "x'); DROP TABLE uploaded_files; --.doc",
    "1 OR 1=1 UNION SELECT * FROM uploaded_files.doc",
    "<img src=x onerror=alert('x')>.doc",
    "a | b & c > d < e * ? [z] {y} #h %41.doc",
    "ünïcødé — 日本語 \U0001f600.doc",
]
B = "sgnames"
FORM = f"Accept: application/json\r\nContent-Type: multipart/form-data; boundary={B}\r\n"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    with target(tmp_path_factory.mktemp("names")) as running:
        before = running.outside()
        yield running
        assert running.outside() == before
        assert running.sentinel.read_bytes() == SECRET
        assert not list(running.root.rglob("PWNED"))


def browser_name(name: str) -> str:
    """How a browser sends a quote inside a file name (HTML's form-data rules); the form keeps ``%22``."""
    return name.replace('"', "%22")


def form(name: str) -> bytes:
    return (f'--{B}\r\nContent-Disposition: form-data; name="file"; filename="{browser_name(name)}"\r\n\r\n'
            f"some text\r\n--{B}--\r\n").encode()


@pytest.mark.parametrize("name", NAMES)
def test_a_form_upload_keeps_the_name_exactly_and_the_api_and_page_show_it_escaped(site: Target,
                                                                                   name: str) -> None:
    status, body = site.send("POST", "/_/upload", form(name), FORM)
    assert status == 201, body
    upload = json.loads(body)["uploads"][0]
    name = browser_name(name)
    assert upload["name"] == name
    assert (site.share / name).read_bytes() == b"some text"
    status, detail = site.send("GET", f"/_/api/uploads/{upload['id']}")
    assert json.loads(detail)["path"] == "/" + name
    status, page = site.send("GET", "/_/", headers="Accept: text/html\r\n")
    assert html.escape(name).encode() in page
    assert b"<img src=x" not in page


@pytest.mark.parametrize("name", NAMES)
def test_a_webdav_put_keeps_the_name_exactly_and_propfind_lists_it(site: Target, name: str) -> None:
    path = "/dav-" + quote(name)
    status, body = site.send("PUT", path, b"dav text")
    assert status in (201, 204), body
    assert (site.share / ("dav-" + name)).read_bytes() == b"dav text"
    status, listing = site.send("PROPFIND", path, headers="Depth: 0\r\n")
    assert status == 207, listing
    assert b"<img src=x" not in listing


def test_the_table_survives_every_name(site: Target) -> None:
    status, body = site.send("GET", "/_/api/uploads?limit=100")
    assert status == 200
    names = {upload["name"] for upload in json.loads(body)["uploads"]}
    assert {browser_name(name) for name in NAMES} <= names
