"""Scripted WebDAV exchanges: the requests a client sends, each with the status it must get."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote

import requests

from spreadgate.models import UploadedFile
from tests.gateway.running import RunningGateway, wait_until

MINIREDIR = "Microsoft-WebDAV-MiniRedir/10.0.19045"
FINDER = "WebDAVFS/3.0.0 (03008000) Darwin/22.1.0 (x86_64)"
OFFICE = "Microsoft Office Word 2014"
LIBREOFFICE = "LibreOffice"
DAVFS2 = "davfs2/1.7.0 neon/0.32.5"

LOCKINFO = ('<?xml version="1.0" encoding="utf-8"?><D:lockinfo xmlns:D="DAV:">'
            "<D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype>"
            "<D:owner><D:href>{owner}</D:href></D:owner></D:lockinfo>")
WIN32_PROPS = ('<?xml version="1.0" encoding="utf-8"?><D:propertyupdate xmlns:D="DAV:" '
               'xmlns:Z="urn:schemas-microsoft-com:"><D:set><D:prop>'
               "<Z:Win32CreationTime>Thu, 01 Feb 2024 10:00:00 GMT</Z:Win32CreationTime>"
               "<Z:Win32LastAccessTime>Thu, 01 Feb 2024 10:00:01 GMT</Z:Win32LastAccessTime>"
               "<Z:Win32LastModifiedTime>Thu, 01 Feb 2024 10:00:02 GMT</Z:Win32LastModifiedTime>"
               "<Z:Win32FileAttributes>{attributes}</Z:Win32FileAttributes>"
               "</D:prop></D:set></D:propertyupdate>")


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class Client:
    """One client's connection: sends a request and checks the status it gets."""

    def __init__(self, gateway: RunningGateway, user_agent: str) -> None:
        self.base = gateway.url
        self.session = requests.Session()
        self.session.headers["User-Agent"] = user_agent

    def url(self, path: str) -> str:
        return self.base + quote(path)

    def send(self, method: str, path: str, expect: int, body: Any = b"", **headers: str) -> requests.Response:
        reply = self.session.request(method, self.url(path), data=body, timeout=30,
                                     headers={k.replace("_", "-"): v for k, v in headers.items()})
        assert reply.status_code == expect, (method, path, reply.status_code, reply.text[:500])
        return reply

    def lock(self, path: str, expect: int = 200, owner: str = "DOMAIN\\user", **headers: str) -> str:
        reply = self.send("LOCK", path, expect, LOCKINFO.format(owner=owner),
                          Content_Type="application/xml", **headers)
        return reply.headers["Lock-Token"].strip("<>")

    def unlock(self, path: str, token: str, expect: int = 204) -> None:
        self.send("UNLOCK", path, expect, Lock_Token=f"<{token}>")

    def put(self, path: str, body: Any, expect: int, token: str | None = None, **headers: str) -> None:
        if token:
            headers["If"] = f"(<{token}>)"
        self.send("PUT", path, expect, body, **headers)

    def win32_proppatch(self, path: str, token: str | None, attributes: str = "00000020") -> None:
        headers = {"If": f"(<{token}>)"} if token else {}
        reply = self.send("PROPPATCH", path, 207, WIN32_PROPS.format(attributes=attributes),
                          Content_Type="application/xml", **headers)
        assert reply.text.count("200 OK") >= 1 and "403" not in reply.text, reply.text

    def move(self, source: str, dest: str, expect: int, overwrite: str = "T",
             tokens: Iterable[str] = (), dest_tokens: Iterable[str] = ()) -> None:
        """``tokens`` prove the source's locks, ``dest_tokens`` (a tagged list) the destination's."""
        headers = {"Destination": self.url(dest), "Overwrite": overwrite}
        conditions = [f"<{self.url(source)}> (<{t}>)" for t in tokens]
        conditions += [f"<{self.url(dest)}> (<{t}>)" for t in dest_tokens]
        if conditions:
            headers["If"] = " ".join(conditions)
        self.send("MOVE", source, expect, **headers)

    def propfind(self, path: str, expect: int = 207, depth: str = "0") -> str:
        return self.send("PROPFIND", path, expect, Depth=depth).text


def forwarded(gateway: RunningGateway) -> list[tuple[str, str]]:
    """(path, sha256) of every recorded upload, oldest first."""
    return [(row.path, row.sha256) for row in gateway.rows()]


def wait_forwarded(gateway: RunningGateway, count: int, deadline_s: float = 15.0) -> list[UploadedFile]:
    wait_until(lambda: len(gateway.rows()) >= count, f"{count} recorded uploads", deadline_s)
    return gateway.rows()


def lock_timeout(reply_text: str) -> int:
    """The seconds left on the lock a LOCK reply describes."""
    found = re.search(r"<[\w:]*timeout>Second-(\d+)<", reply_text, re.IGNORECASE)
    assert found is not None, reply_text
    return int(found[1])
