"""Path traversal in every form, against a real gateway: refused with a message, or kept inside the share."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.hostile.kit import SECRET, Target, target

DOT = "the path contains a . or .. segment"
NUL = "control characters"
UTF8 = "not valid UTF-8"
SLASH = "backslash"
PROXY = "Absolute URI not allowed"
ORIGIN = "must contain origin-form"
TEMP = "reserved for unfinished uploads"

# (method, request target, status, a fragment of the answer's message)
REFUSED = [
    ("PUT", "/../escape.txt", 400, DOT), ("PUT", "/a/../../escape.txt", 400, DOT),
    ("PUT", "/%2e%2e/escape.txt", 400, DOT), ("PUT", "/.%2e/escape.txt", 400, DOT),
    ("PUT", "/escape%00.txt", 400, NUL), ("PUT", "/%c0%ae%c0%ae/escape.txt", 400, UTF8),
    ("PUT", "/%c0%ae%c0%ae%c0%afescape.txt", 400, UTF8), ("PUT", "/..%5cescape.txt", 400, SLASH),
    ("PUT", "http://127.0.0.1/../escape.txt", 400, PROXY), ("PUT", "//etc/escape.txt", 400, PROXY),
    ("PUT", "..%2fescape.txt", 400, ORIGIN), ("PUT", "/%252e%252e/escape.txt", 409, "Conflict"),
    ("GET", "/../sentinel.txt", 400, DOT), ("GET", "/%2e%2e/sentinel.txt", 400, DOT),
    ("GET", "/%c0%ae%c0%ae/sentinel.txt", 400, UTF8), ("GET", "/../../etc/passwd", 400, DOT),
    ("GET", "//etc/passwd", 400, PROXY), ("GET", "/sentinel.txt%00", 400, NUL),
    ("GET", "/%2e%2e%2fsentinel.txt", 404, "Not Found"),
    ("DELETE", "/../sentinel.txt", 400, DOT), ("DELETE", "/%2e%2e/sentinel.txt", 400, DOT),
    ("DELETE", "/%2e%2e%2fsentinel.txt", 404, "Not Found"), ("DELETE", "/%00", 400, NUL),
    ("MKCOL", "/../newdir", 400, DOT), ("MKCOL", "/%2e%2e/newdir", 400, DOT),
    ("MKCOL", "/%c0%ae%c0%ae", 400, UTF8), ("PROPFIND", "/../", 400, DOT),
    # The start-up sweep deletes the gateway's temporary names: a file stored under one would be lost.
    ("PUT", "/.sg-upload-escape", 400, TEMP), ("MKCOL", "/a/.sg-upload-escape", 400, TEMP),
]
# An encoded slash stays part of one name (cheroot keeps ``%2F`` undecoded): the file is made inside the share.
KEPT_INSIDE = [
    ("PUT", "/%2e%2e%2fkept.txt", "..%2Fkept.txt"),
    ("PUT", "/x%2f..%2f..%2fkept.txt", "x%2F..%2F..%2Fkept.txt"),
    ("MKCOL", "/%2e%2e%2fnewdir", "..%2Fnewdir"),
]
# (Destination, status, fragment): another host or scheme gets RFC 4918's 502 from WsgiDAV.
DESTINATIONS = [
    ("/../escape.txt", 400, DOT), ("http://127.0.0.1/../escape.txt", 400, DOT),
    ("/%2e%2e/escape.txt", 400, DOT), ("/%2e%2e%2fescape.txt", 400, DOT), ("/a%5c..%5c..%5cx", 400, SLASH),
    ("/%00x.txt", 400, NUL), ("/%c0%ae%c0%ae/escape.txt", 400, UTF8), ("/.sg-upload-escape", 400, TEMP),
    ("http://elsewhere.example/x.txt", 502, "Bad Gateway"), ("ftp://127.0.0.1/x.txt", 502, "Bad Gateway"),
    ("file:///tmp/escape.txt", 502, "Bad Gateway"), ("//elsewhere/x.txt", 502, "Bad Gateway"),
]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    with target(tmp_path_factory.mktemp("paths")) as running:
        yield running


@pytest.fixture
def untouched(site: Target) -> Iterator[Target]:
    """Checks after the test that nothing outside the share changed and that a good PUT still works."""
    before = site.outside()
    yield site
    assert site.outside() == before
    assert site.sentinel.read_bytes() == SECRET
    assert site.send("PUT", "/after.txt", b"good")[0] in (201, 204)
    assert (site.share / "after.txt").read_bytes() == b"good"


@pytest.mark.parametrize("method,path,status,message", REFUSED, ids=[f"{m} {p}" for m, p, *_ in REFUSED])
def test_a_traversal_is_refused_with_a_message_and_touches_nothing_outside(
        untouched: Target, method: str, path: str, status: int, message: str) -> None:
    got, body = untouched.send(method, path, b"evil" if method == "PUT" else b"")
    assert got == status, body
    assert message.encode() in body
    assert SECRET not in body
    assert not list(untouched.share.rglob("*escape*"))


@pytest.mark.parametrize("method,path,name", KEPT_INSIDE, ids=[f"{m} {p}" for m, p, _ in KEPT_INSIDE])
def test_an_encoded_slash_makes_one_odd_name_inside_the_share(
        untouched: Target, method: str, path: str, name: str) -> None:
    got, body = untouched.send(method, path, b"evil" if method == "PUT" else b"")
    assert got == 201, body
    assert (untouched.share / name).exists()


@pytest.mark.parametrize("verb", ["COPY", "MOVE"])
@pytest.mark.parametrize("destination,status,message", DESTINATIONS, ids=[d for d, *_ in DESTINATIONS])
def test_a_destination_outside_the_share_is_refused_and_the_source_stays(
        untouched: Target, verb: str, destination: str, status: int, message: str) -> None:
    assert untouched.send("PUT", "/source.txt", b"mine")[0] in (201, 204)
    got, body = untouched.send(verb, "/source.txt", headers=f"Destination: {destination}\r\n")
    assert got == status, body
    assert message.encode() in body
    assert (untouched.share / "source.txt").read_bytes() == b"mine"
    assert not list(untouched.share.rglob("*escape*"))
