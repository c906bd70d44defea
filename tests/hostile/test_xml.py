"""XML bombs, external entities and DTDs in WebDAV bodies get a 4xx and are never expanded or fetched."""

from __future__ import annotations

import resource
import socket
from collections.abc import Iterator

import pytest
from wsgidav import xml_tools  # type: ignore[import-untyped]

from gateway.xmlguard import XML_LIMIT
from tests.hostile.kit import DEADLINE_S, SECRET, Target, parse, read_answer, target

LAUGHS = ('<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">'
          + "".join(f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10 if i > 1 else "&lol;" * 10}">'
                    for i in range(1, 10))
          + ']>\n<D:propfind xmlns:D="DAV:"><D:prop><D:getetag>&lol9;</D:getetag></D:prop></D:propfind>')
EXTERNAL = ('<?xml version="1.0"?>\n<!DOCTYPE p [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
            '<D:propertyupdate xmlns:D="DAV:" xmlns:Z="urn:x"><D:set><D:prop><Z:leak>&xxe;</Z:leak>'
            "</D:prop></D:set></D:propertyupdate>")
SYSTEM_DTD = ('<?xml version="1.0"?>\n<!DOCTYPE lockinfo SYSTEM "file:///etc/passwd">\n'
              '<D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/></D:lockscope>'
              "<D:locktype><D:write/></D:locktype><D:owner>x</D:owner></D:lockinfo>")
PARAMETER = ('<!doctype x [ <!ENTITY % p SYSTEM "file:///etc/passwd"> %p; ]>'
             '<D:propfind xmlns:D="DAV:"><D:allprop/></D:propfind>')
SPACED = '<! DOCTYPE x [<!ENTITY a "b">]><D:propfind xmlns:D="DAV:"><D:allprop/></D:propfind>'
# (method, body)
BODIES = {
    "billion laughs in PROPFIND": ("PROPFIND", LAUGHS),
    "an external entity in PROPPATCH": ("PROPPATCH", EXTERNAL),
    "an external DTD in LOCK": ("LOCK", SYSTEM_DTD),
    "a lowercase doctype with a parameter entity": ("PROPFIND", PARAMETER),
    "a spaced doctype": ("PROPFIND", SPACED),
}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    with target(tmp_path_factory.mktemp("xml")) as running:
        assert running.send("PUT", "/doc.txt", b"text")[0] == 201
        yield running
        assert running.sentinel.read_bytes() == SECRET


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@pytest.mark.parametrize("method,body", BODIES.values(), ids=BODIES.keys())
def test_a_body_with_a_dtd_is_refused_before_it_is_parsed(site: Target, method: str, body: str) -> None:
    before = peak_mib()
    status, answer = site.send(method, "/doc.txt", body.encode(),
                               "Content-Type: application/xml\r\nDepth: 0\r\n")
    assert status == 400, answer
    assert b"DTD or entity declarations are not accepted" in answer
    assert b"root:" not in answer and b"lollol" not in answer
    assert peak_mib() - before < 64
    assert site.send("PROPFIND", "/doc.txt", headers="Depth: 0\r\n")[0] == 207


def test_a_utf16_bomb_that_hides_its_doctype_is_still_refused_by_the_parser(site: Target) -> None:
    status, answer = site.send("PROPFIND", "/doc.txt", LAUGHS.replace("<?xml version=\"1.0\"?>", "")
                               .encode("utf-16"), "Content-Type: application/xml\r\nDepth: 0\r\n")
    assert status == 400, answer
    assert b"lollol" not in answer


def test_an_xml_body_above_the_limit_gets_413_before_it_is_sent(site: Target) -> None:
    head = (f"PROPFIND /doc.txt HTTP/1.1\r\nHost: x\r\nContent-Type: application/xml\r\n"
            f"Content-Length: {XML_LIMIT + 1}\r\nConnection: close\r\n\r\n")
    with socket.create_connection(("127.0.0.1", site.port), timeout=DEADLINE_S) as sock:
        sock.sendall(head.encode())
        status, answer = parse(read_answer(sock))
    assert status == 413
    assert str(XML_LIMIT).encode() in answer


def test_wsgidavs_own_parser_refuses_entity_declarations_too() -> None:
    """The second line of defence, behind the guard: the parser WsgiDAV is using is a hardened one."""
    with pytest.raises(Exception, match="(?i)entit"):
        xml_tools.string_to_xml(LAUGHS)
    with pytest.raises(Exception, match="(?i)entit"):
        xml_tools.string_to_xml(EXTERNAL)
