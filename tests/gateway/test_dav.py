"""WebDAV PUTs against a real gateway: safe writes, recording, properties, ETags."""

from __future__ import annotations

import hashlib
import re
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest
import requests

from tests.gateway.running import RunningGateway, embedded_daemon, running_gateway


@pytest.fixture
def gateway(tmp_path: Path) -> Iterator[RunningGateway]:
    with embedded_daemon() as daemon, running_gateway(tmp_path / "data", daemon.address) as running:
        yield running


def test_curl_put_of_a_real_document_is_created_and_recorded(gateway: RunningGateway, corpus: Path) -> None:
    doc = corpus / "testWORD.doc"
    code = subprocess.run(["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "-T", str(doc),
                           f"{gateway.url}/testWORD.doc"], capture_output=True, text=True, check=True)
    assert code.stdout == "201"
    [row] = gateway.settled()
    assert (row.path, row.size, row.sha256) == ("/testWORD.doc", doc.stat().st_size,
                                                hashlib.sha256(doc.read_bytes()).hexdigest())
    assert (gateway.share / "testWORD.doc").read_bytes() == doc.read_bytes()


def truncated_put(gateway: RunningGateway, path: str, announced: int, sent: bytes) -> bytes:
    where = urlsplit(gateway.url)
    with socket.create_connection((where.hostname, where.port), timeout=10) as sock:
        sock.sendall(f"PUT {path} HTTP/1.1\r\nHost: x\r\nContent-Length: {announced}\r\n\r\n".encode() + sent)
        sock.shutdown(socket.SHUT_WR)
        reply = b""
        while chunk := sock.recv(65536):
            reply += chunk
    return reply


def test_a_cut_off_put_is_refused_and_the_previous_version_stays(gateway: RunningGateway) -> None:
    assert requests.put(f"{gateway.url}/keep.doc", data=b"good version", timeout=10).status_code == 201
    reply = truncated_put(gateway, "/keep.doc", 10_000, b"x" * 100)
    assert reply.startswith(b"HTTP/1.1 400"), reply[:200]
    assert (gateway.share / "keep.doc").read_bytes() == b"good version"
    assert [p.name for p in gateway.share.iterdir()] == ["keep.doc"]
    assert [r.sha256 for r in gateway.settled()] == [hashlib.sha256(b"good version").hexdigest()]


def test_a_cut_off_put_to_a_new_name_leaves_no_file(gateway: RunningGateway) -> None:
    reply = truncated_put(gateway, "/new.doc", 5000, b"y" * 10)
    assert reply.startswith(b"HTTP/1.1 400")
    assert list(gateway.share.iterdir()) == []
    assert gateway.settled() == []


@pytest.mark.parametrize("name", ["~$owner.doc", ".DS_Store", "._report.doc", ".~lock.a.odt#"])
def test_lock_and_metadata_files_are_stored_but_not_recorded(gateway: RunningGateway, name: str) -> None:
    assert requests.put(f"{gateway.url}/{quote(name)}", data=b"meta", timeout=10).status_code == 201
    assert (gateway.share / name).read_bytes() == b"meta"
    assert gateway.settled() == []


def test_an_empty_put_is_stored_but_not_recorded(gateway: RunningGateway) -> None:
    assert requests.put(f"{gateway.url}/empty.doc", data=b"", timeout=10).status_code == 201
    assert (gateway.share / "empty.doc").stat().st_size == 0
    assert gateway.settled() == []


def test_names_with_spaces_and_non_ascii_characters_round_trip(gateway: RunningGateway) -> None:
    assert requests.request("MKCOL", f"{gateway.url}/{quote('Año 2024')}", timeout=10).status_code == 201
    url = f"{gateway.url}/{quote('Año 2024/résumé 1.doc')}"
    assert requests.put(url, data=b"r", timeout=10).status_code == 201
    assert requests.get(url, timeout=10).content == b"r"
    assert [r.path for r in gateway.settled()] == ["/Año 2024/résumé 1.doc"]


def test_the_etag_changes_on_two_quick_writes_of_the_same_size(gateway: RunningGateway) -> None:
    first = requests.put(f"{gateway.url}/e.doc", data=b"aaaa", timeout=10).headers["ETag"]
    second = requests.put(f"{gateway.url}/e.doc", data=b"bbbb", timeout=10).headers["ETag"]
    assert first != second
    stale = requests.put(f"{gateway.url}/e.doc", data=b"cccc", headers={"If-Match": first}, timeout=10)
    assert stale.status_code == 412


def test_propfind_shows_the_upload_state_in_the_spreadgate_namespace(gateway: RunningGateway) -> None:
    requests.put(f"{gateway.url}/p.doc", data=b"text", timeout=10)
    gateway.settled()
    reply = requests.request("PROPFIND", f"{gateway.url}/p.doc", headers={"Depth": "0"}, timeout=10)
    assert reply.status_code == 207
    prefix = re.search(r'xmlns:(\w+)="urn:spreadgate:"', reply.text)
    assert prefix is not None, reply.text
    state = re.search(rf"<{prefix[1]}:state>(\w+)</{prefix[1]}:state>", reply.text)
    assert state is not None and state[1] in ("received", "sent")
    assert f"<{prefix[1]}:upload-id>{gateway.rows()[0].id}<" in reply.text


def test_options_on_the_root_announces_webdav_for_windows_and_office(gateway: RunningGateway) -> None:
    reply = requests.options(f"{gateway.url}/", timeout=10)
    assert reply.status_code == 200
    assert "2" in reply.headers["DAV"] and reply.headers["MS-Author-Via"] == "DAV"
