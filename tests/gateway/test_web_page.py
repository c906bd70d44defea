"""The upload page under /_/, its static files, and which requests to / go to it."""

from __future__ import annotations

import datetime as dt
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from sqlalchemy import update

from spreadgate.models import State, UploadedFile
from tests.gateway import web_harness as harness
from tests.gateway.web_harness import (
    Gateway,
    form_parts,
    new_boundary,
    post_stream,
)

TIMEOUT = 30
BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
           "User-Agent": "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"}
STATIC = Path(__file__).resolve().parents[2] / "gateway" / "web" / "static"



@pytest.fixture
def gateway(tmp_path: Path) -> Iterator[Gateway]:
    yield from harness.start(tmp_path)


def get(gateway: Gateway, path: str, method: str = "GET", **headers: str) -> requests.Response:
    return requests.request(method, gateway.url + path, headers=headers, allow_redirects=False, timeout=TIMEOUT)


def test_the_page_has_a_form_that_posts_files_and_a_folder_without_javascript(gateway: Gateway) -> None:
    reply = get(gateway, "/_/", **BROWSER)
    assert reply.status_code == 200
    assert reply.headers["Content-Type"] == "text/html; charset=utf-8"
    page = reply.text
    assert '<form id="upload" method="post" action="upload" enctype="multipart/form-data">' in page
    assert '<input type="file" name="file" multiple required>' in page
    assert '<input type="text" name="folder"' in page
    assert '<button type="submit">' in page
    assert '<script src="static/app.js"></script>' in page


def test_the_page_has_the_search_the_name_filter_the_text_view_and_the_processors(gateway: Gateway) -> None:
    page = get(gateway, "/_/", **BROWSER).text
    assert '<form id="search" method="get" action="api/search">' in page
    assert '<input type="search" name="q" maxlength="200" required>' in page
    assert '<form id="filter" method="get" action="">' in page
    assert '<input type="search" name="name" value="">' in page
    assert '<section id="text-view" hidden>' in page
    assert '<p id="processors" role="status">' in page
    script = get(gateway, "/_/static/app.js").text
    for used in ("api/search", "api/uploads?", "/text", "healthz", "upload.onprogress", "XMLHttpRequest"):
        assert used in script, used
    assert "innerHTML" not in script and "insertAdjacentHTML" not in script


def test_the_page_lists_recent_uploads_itself_with_names_escaped(gateway: Gateway) -> None:
    boundary = new_boundary()
    status, body = post_stream(gateway, form_parts(boundary, {}, [("<b>bold&.doc", [b"x"])]), boundary=boundary)
    assert status == 201, body
    page = get(gateway, "/_/", **BROWSER).text
    assert '<tr class="state-received"><td>1</td><td>/&lt;b&gt;bold&amp;.doc</td><td>1</td>' in page
    assert "<b>bold" not in page


def test_the_page_filters_by_name_itself_and_links_processed_texts(gateway: Gateway) -> None:
    boundary = new_boundary()
    files = [("report.doc", [b"x"]), ("<img src=x onerror=alert(1)>'q.doc", [b"y"])]
    status, body = post_stream(gateway, form_parts(boundary, {"folder": "f"}, files), boundary=boundary)
    assert status == 201, body
    with gateway.sessions.begin() as session:
        session.execute(update(UploadedFile).where(UploadedFile.id == 1).values(
            state=State.PROCESSED.value, text="t", lines=1, processed_at=dt.datetime(2024, 1, 1)))
    page = get(gateway, "/_/", **BROWSER).text
    assert '<td><a href="api/uploads/1/text">text</a></td></tr>' in page
    assert "<td>/f/&lt;img src=x onerror=alert(1)&gt;&#x27;q.doc</td>" in page
    assert "<img" not in page
    filtered = get(gateway, "/_/?name=REPORT", **BROWSER).text
    assert "<td>/f/report.doc</td>" in filtered and "alert" not in filtered
    assert '<input type="search" name="name" value="REPORT">' in filtered
    hostile = get(gateway, '/_/?name="><script>x', **BROWSER).text
    assert 'value="&quot;&gt;&lt;script&gt;x"' in hostile
    assert "<script>x" not in hostile


def test_the_static_files_are_served_with_their_types(gateway: Gateway) -> None:
    script = get(gateway, "/_/static/app.js")
    assert (script.status_code, script.headers["Content-Type"]) == (200, "text/javascript; charset=utf-8")
    assert "api/uploads" in script.text
    assert get(gateway, "/_/static/style.css").headers["Content-Type"] == "text/css; charset=utf-8"
    assert get(gateway, "/_/static/index.html").status_code == 404
    assert get(gateway, "/_/static/..%2F..%2Fapi.py").status_code == 404


def test_the_script_is_valid_javascript() -> None:
    checked = subprocess.run(["node", "--check", str(STATIC / "app.js")], capture_output=True, text=True,
                             timeout=TIMEOUT, check=False)
    assert checked.returncode == 0, checked.stderr


def test_a_browser_visiting_the_root_is_sent_to_the_page(gateway: Gateway) -> None:
    reply = get(gateway, "/", **BROWSER)
    assert (reply.status_code, reply.headers["Location"]) == (303, "/_/")
    assert (get(gateway, "/_", **BROWSER).status_code, get(gateway, "/_").headers["Location"]) == (301, "/_/")


def test_webdav_requests_to_the_root_still_reach_webdav(gateway: Gateway) -> None:
    propfind = get(gateway, "/", "PROPFIND", Depth="0", Accept="text/html")
    assert propfind.status_code == 207
    assert "multistatus" in propfind.text
    options = get(gateway, "/", "OPTIONS", **BROWSER)
    assert options.status_code == 200
    assert "1" in options.headers["DAV"]
    assert "PROPFIND" in options.headers["Allow"]


def test_a_get_of_the_root_that_is_not_a_browser_visit_is_left_to_webdav(gateway: Gateway) -> None:
    for headers in ({"Accept": "*/*", "User-Agent": "curl/8.5.0"},
                    {"Accept": "text/html", "User-Agent": "Microsoft-WebDAV-MiniRedir/10.0.19045"},
                    {**BROWSER, "Translate": "f"}):
        reply = get(gateway, "/", **headers)
        assert reply.status_code == 200, headers
        assert "Location" not in reply.headers


def test_head_and_options_on_the_page_answer_without_a_body(gateway: Gateway) -> None:
    head = get(gateway, "/_/", "HEAD")
    assert (head.status_code, head.content) == (200, b"")
    assert int(head.headers["Content-Length"]) > 0
    options = get(gateway, "/_/upload", "OPTIONS")
    assert (options.status_code, options.headers["Allow"]) == (204, "POST, OPTIONS")
