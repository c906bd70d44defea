"""A form upload through the whole gateway: forwarded over a real Spread daemon, its state visible in the API."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import requests

from tests.gateway.running import embedded_daemon, running_gateway, wait_until

TIMEOUT = 30


def test_a_form_upload_is_forwarded_and_the_api_and_page_show_it_sent(
        tmp_path: Path, corpus: Path, expected: dict[str, dict[str, Any]]) -> None:
    with embedded_daemon() as daemon, running_gateway(tmp_path / "data", daemon.address) as gw:
        with (corpus / "testWORD.doc").open("rb") as document:
            reply = requests.post(f"{gw.url}/_/upload", data={"folder": "sent"}, files={"file": document},
                                  timeout=TIMEOUT)
        assert reply.status_code == 201, reply.text
        [upload] = reply.json()["uploads"]

        def detail() -> dict[str, Any]:
            answer = requests.get(f"{gw.url}/_/api/uploads/{upload['id']}", timeout=TIMEOUT)
            return dict(answer.json())

        wait_until(lambda: detail()["state"] == "sent", "the upload to be sent")
        sent = detail()
        assert (sent["path"], sent["sha256"], sent["attempts"]) == ("/sent/testWORD.doc",
                                                                     expected["testWORD.doc"]["sha256"], 1)
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", sent["sent_at"])
        page = requests.get(f"{gw.url}/_/", timeout=TIMEOUT).text
        assert '<tr class="state-sent"><td>1</td><td>/sent/testWORD.doc</td>' in page
