"""``gateway.service.run``: listens on the real bound port, says so, serves, and stops when told."""

from __future__ import annotations

import socket
import threading
from pathlib import Path
from urllib.parse import urlsplit

import requests

from gateway.service import RET_LISTEN, RET_OK, run
from spreadgate import settings
from tests.gateway.running import DEADLINE_S, embedded_daemon


def test_run_on_port_zero_announces_the_bound_url_serves_and_stops_cleanly(tmp_path: Path) -> None:
    announced: list[str] = []
    ready = threading.Event()
    stop = threading.Event()
    result: list[int] = []
    with embedded_daemon() as daemon:
        conf = settings.load(None, {"gateway_data_dir": str(tmp_path / "data"),
                                    "gateway_listen": "127.0.0.1:0", "spread_daemon": daemon.address})
        thread = threading.Thread(target=lambda: result.append(
            run(conf, stop, ready=lambda url: (announced.append(url), ready.set()))))
        thread.start()
        try:
            assert ready.wait(DEADLINE_S)
            [url] = announced
            assert urlsplit(url).port != 0
            reply = requests.options(f"{url}/", timeout=10)
            assert reply.status_code == 200 and reply.headers["MS-Author-Via"] == "DAV"
            assert requests.put(f"{url}/served.doc", data=b"served", timeout=10).status_code == 201
        finally:
            stop.set()
            thread.join(DEADLINE_S)
    assert not thread.is_alive() and result == [RET_OK]
    assert (tmp_path / "data" / "share" / "served.doc").read_bytes() == b"served"
    where = urlsplit(url)
    with socket.socket() as probe:
        assert probe.connect_ex((where.hostname, where.port)) != 0  # nothing listens there any more


def test_run_on_an_address_in_use_returns_its_exit_code_without_announcing(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        conf = settings.load(None, {"gateway_data_dir": str(tmp_path / "data"),
                                    "gateway_listen": f"127.0.0.1:{port}", "spread_daemon": "1@127.0.0.1"})
        announced: list[str] = []
        assert run(conf, threading.Event(), ready=announced.append) == RET_LISTEN
    assert announced == []
