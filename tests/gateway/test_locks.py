"""Locks are bounded and, with dead properties, survive a gateway restart (rule D13)."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.locks import CappedLockStorage
from tests.gateway.replay import MINIREDIR, Client, lock_timeout
from tests.gateway.running import embedded_daemon, running_gateway

MAX_S = 600
CUSTOM_PROP = ('<?xml version="1.0"?><D:propertyupdate xmlns:D="DAV:" xmlns:X="urn:example:"><D:set>'
               "<D:prop><X:colour>blue</X:colour></D:prop></D:set></D:propertyupdate>")


@pytest.mark.parametrize(("asked", "highest"), [
    ({"Timeout": "Infinite"}, MAX_S),
    ({}, MAX_S),
    ({"Timeout": "Second-604800"}, MAX_S),
    ({"Timeout": "Second-100"}, 100),
])
def test_lock_lifetimes_never_exceed_the_configured_maximum(tmp_path: Path, asked: dict[str, str],
                                                            highest: int) -> None:
    with embedded_daemon() as daemon, running_gateway(tmp_path / "data", daemon.address,
                                                      gateway_lock_timeout_max_s=MAX_S) as gw:
        client = Client(gw, "cadaver/0.24 neon/0.32.5")
        client.put("/t.txt", b"t", 201)
        reply = client.send("LOCK", "/t.txt", 200, '<?xml version="1.0"?><D:lockinfo xmlns:D="DAV:">'
                            "<D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype>"
                            "</D:lockinfo>", Content_Type="application/xml", Depth="0", **asked)
        assert highest - 5 <= lock_timeout(reply.text) <= highest
        token = reply.headers["Lock-Token"].strip("<>")
        refreshed = client.send("LOCK", "/t.txt", 200, If=f"(<{token}>)", Timeout="Infinite")
        assert MAX_S - 5 <= lock_timeout(refreshed.text) <= MAX_S


def test_a_released_lock_is_reported_with_its_root_and_depth(tmp_path: Path) -> None:
    released: list[tuple[str, bool]] = []
    storage = CappedLockStorage(tmp_path / "locks", MAX_S, lambda root, infinite: released.append((root, infinite)))
    storage.open()
    try:
        lock = storage.create("/d", {"root": "/d", "type": "write", "scope": "exclusive", "depth": "infinity",
                                     "owner": b"", "timeout": None, "principal": "u"})
        assert lock["timeout"] == MAX_S
        assert storage.delete(lock["token"])
        assert not storage.delete(lock["token"])
    finally:
        storage.close()
    assert released == [("/d", True)]


def test_locks_and_dead_properties_survive_a_restart(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with embedded_daemon() as daemon:
        with running_gateway(data, daemon.address) as gw:
            win = Client(gw, MINIREDIR)
            win.put("/kept.doc", b"kept", 201)
            token = win.lock("/kept.doc", Timeout="Second-3600")
            win.win32_proppatch("/kept.doc", token)
            win.send("PROPPATCH", "/kept.doc", 207, CUSTOM_PROP, If=f"(<{token}>)")
        with running_gateway(data, daemon.address) as gw:
            win = Client(gw, MINIREDIR)
            win.put("/kept.doc", b"overwritten by someone else", 423)
            listing = win.propfind("/kept.doc")
            assert token in listing
            assert "Thu, 01 Feb 2024 10:00:00 GMT" in listing
            assert ">blue<" in win.send("PROPFIND", "/kept.doc", 207, Depth="0").text
            win.put("/kept.doc", b"mine", 204, token)
            win.unlock("/kept.doc", token)
            assert (gw.share / "kept.doc").read_bytes() == b"mine"
