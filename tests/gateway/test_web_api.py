"""The JSON API: listing with filter and limit, one upload's details, and its extracted text."""

from __future__ import annotations

import datetime as dt
import re
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
ISO_Z = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")



@pytest.fixture
def gateway(tmp_path: Path) -> Iterator[Gateway]:
    yield from harness.start(tmp_path)


def upload(gateway: Gateway, folder: str, *names: str) -> list[int]:
    boundary = new_boundary()
    files = [(name, [f"bytes of {name}".encode()]) for name in names]
    status, body = post_stream(gateway, form_parts(boundary, {"folder": folder}, files), boundary=boundary)
    assert status == 201, body
    return [int(row.id) for row in gateway.rows()][-len(names):]


def api(gateway: Gateway, route: str, **params: str) -> requests.Response:
    return requests.get(f"{gateway.url}/_/api/{route}", params=params, timeout=TIMEOUT)


def finish(gateway: Gateway, upload_id: int, **values: object) -> None:
    """Write a result into the row, as the responder does."""
    with gateway.sessions.begin() as session:
        session.execute(update(UploadedFile).where(UploadedFile.id == upload_id).values(**values))


def test_the_listing_is_json_newest_first(gateway: Gateway) -> None:
    ids = upload(gateway, "a", "one.doc", "two.doc", "three.doc")
    reply = api(gateway, "uploads")
    assert reply.headers["Content-Type"] == "application/json"
    assert [u["id"] for u in reply.json()["uploads"]] == sorted(ids, reverse=True)


def test_the_listing_filters_on_the_exact_path_and_honours_the_limit(gateway: Gateway) -> None:
    upload(gateway, "a", "x.doc", "x.doc.bak")
    upload(gateway, "b/a", "x.doc")
    second = upload(gateway, "a", "x.doc")
    assert [u["path"] for u in api(gateway, "uploads", path="/a/x.doc").json()["uploads"]] == ["/a/x.doc"] * 2
    assert [u["id"] for u in api(gateway, "uploads", path="/a/x.doc", limit="1").json()["uploads"]] == second
    assert api(gateway, "uploads", path="/nowhere").json() == {"uploads": []}


def test_the_listing_filters_on_a_part_of_the_name_in_any_case(gateway: Gateway) -> None:
    report, shouting = upload(gateway, "n", "Report 2024.doc", "REPORT_final.doc")
    upload(gateway, "report", "minutes.doc")
    literal, _ = upload(gateway, "n", "100%_done.doc", "100 xdone.doc")

    def names(part: str) -> list[int]:
        return [u["id"] for u in api(gateway, "uploads", name=part).json()["uploads"]]

    assert names("report") == [shouting, report]
    assert names("%_") == [literal]
    assert names("'; DROP TABLE uploaded_files; --") == []
    assert len(names("")) == 5


def test_a_bad_limit_is_refused_with_400(gateway: Gateway) -> None:
    for limit in ("0", "-1", "many", "100000"):
        reply = api(gateway, "uploads", limit=limit)
        assert reply.status_code == 400, limit
        assert "limit" in reply.json()["error"]


def test_the_detail_of_an_upload_has_every_field_and_utc_times(gateway: Gateway) -> None:
    [upload_id] = upload(gateway, "d", "doc.doc")
    finish(gateway, upload_id, state=State.SENT.value, attempts=1, sent_at=dt.datetime(2024, 5, 6, 7, 8, 9, 10000))
    detail = api(gateway, f"uploads/{upload_id}").json()
    assert set(detail) == {"id", "path", "name", "content_type", "size", "sha256", "state", "attempts", "lines",
                           "converter", "error", "processor", "duration_ms", "received_at", "sent_at",
                           "processed_at"}
    assert (detail["id"], detail["path"], detail["name"], detail["state"]) == (upload_id, "/d/doc.doc", "doc.doc",
                                                                                "sent")
    assert detail["content_type"] == "application/msword"
    assert detail["sent_at"] == "2024-05-06T07:08:09.010Z"
    assert ISO_Z.fullmatch(detail["received_at"])
    assert detail["processed_at"] is None


def test_an_unknown_upload_is_a_json_404(gateway: Gateway) -> None:
    for path in ("uploads/999", "uploads/999/text", "uploads/abc", "nothing"):
        reply = api(gateway, path)
        assert reply.status_code == 404, path
        assert reply.headers["Content-Type"] == "application/json"
        assert reply.json()["status"] == 404


def test_the_text_is_409_until_processed_then_plain_utf8(gateway: Gateway) -> None:
    [upload_id] = upload(gateway, "t", "rasp.doc")
    waiting = api(gateway, f"uploads/{upload_id}/text")
    assert waiting.status_code == 409
    assert "not processed yet" in waiting.json()["error"]
    finish(gateway, upload_id, state=State.PROCESSED.value, text="Распоряжение\nвторая строка\n", lines=2,
           converter="antiword", processed_at=dt.datetime(2024, 1, 1))
    done = api(gateway, f"uploads/{upload_id}/text")
    assert done.status_code == 200
    assert done.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert done.content.decode("utf-8") == "Распоряжение\nвторая строка\n"
    listed = api(gateway, "uploads").json()["uploads"][0]
    assert (listed["state"], listed["lines"], listed["converter"]) == ("processed", 2, "antiword")
    assert "text" not in listed


def test_the_text_of_a_failed_upload_is_409_with_the_converters_error(gateway: Gateway) -> None:
    [upload_id] = upload(gateway, "t", "bad.doc")
    finish(gateway, upload_id, state=State.FAILED.value, error="Encrypted documents are not supported")
    reply = api(gateway, f"uploads/{upload_id}/text")
    assert reply.status_code == 409
    assert "Encrypted documents are not supported" in reply.json()["error"]


def test_wrong_methods_get_405_with_the_allowed_ones(gateway: Gateway) -> None:
    for method, path, allowed in (("POST", "/_/api/uploads", "GET, HEAD, OPTIONS"),
                                  ("DELETE", "/_/api/uploads/1", "GET, HEAD, OPTIONS"),
                                  ("GET", "/_/upload", "POST, OPTIONS"),
                                  ("PUT", "/_/", "GET, HEAD, OPTIONS")):
        reply = requests.request(method, gateway.url + path, timeout=TIMEOUT)
        assert reply.status_code == 405, (method, path)
        assert reply.headers["Allow"] == allowed
        assert reply.headers["Content-Type"] == "application/json"


def test_the_listing_shows_a_hundred_uploads_unless_asked_for_more(gateway: Gateway) -> None:
    with gateway.sessions.begin() as session:
        session.add_all(UploadedFile(path=f"/many/{n}.doc", name=f"{n}.doc", size=1, sha256="0" * 64)
                        for n in range(105))
    assert len(api(gateway, "uploads").json()["uploads"]) == 100
    assert len(api(gateway, "uploads", limit="105").json()["uploads"]) == 105
