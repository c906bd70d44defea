"""Real WebDAV clients against a real gateway: cadaver, rclone and a Python client (webdav4)."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from webdav4.client import Client as WebDAVClient

from tests.gateway.replay import sha
from tests.gateway.running import RunningGateway, embedded_daemon, running_gateway

RUN_S = 120


@pytest.fixture
def gateway(tmp_path: Path) -> Iterator[RunningGateway]:
    with embedded_daemon() as daemon, running_gateway(tmp_path / "data", daemon.address) as running:
        yield running


def tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed (Debian package '{name}'; .ci/setup installs it)")
    return found


def test_cadaver_puts_locks_moves_lists_and_deletes(gateway: RunningGateway, corpus: Path, tmp_path: Path) -> None:
    doc = corpus / "testWORD.doc"
    script = (f"mkcol docs\nput {doc} docs/w.doc\nlock docs/w.doc\nput {doc} docs/w.doc\nunlock docs/w.doc\n"
              "mv docs/w.doc docs/final.doc\nput /etc/hostname docs/junk.txt\nrm docs/junk.txt\nls docs\nquit\n")
    result = subprocess.run([tool("cadaver"), f"{gateway.url}/"], input=script, capture_output=True, text=True,
                            timeout=RUN_S, cwd=tmp_path, env={**os.environ, "HOME": str(tmp_path)},
                            check=False)
    assert "final.doc" in result.stdout, result.stdout + result.stderr
    assert "failed" not in result.stdout.lower(), result.stdout
    assert sorted(p.name for p in (gateway.share / "docs").iterdir()) == ["final.doc"]
    # The UNLOCK settles w.doc; renaming a settled document makes the new name a candidate (D5b).
    assert [(r.path, r.sha256) for r in gateway.settled()] == [("/docs/w.doc", sha(doc.read_bytes())),
                                                               ("/docs/final.doc", sha(doc.read_bytes()))]


def rclone(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([tool("rclone"), "--config", str(cwd / "rclone.conf"), "--low-level-retries", "1",
                           "--retries", "1", *args], capture_output=True, text=True, timeout=RUN_S, cwd=cwd,
                          check=True)


def test_rclone_copies_lists_moves_and_deletes(gateway: RunningGateway, corpus: Path, tmp_path: Path) -> None:
    remote = f":webdav,url='{gateway.url}',vendor=other:"
    doc = corpus / "testWORD.doc"
    rclone("copyto", str(doc), f"{remote}in/w.doc", cwd=tmp_path)
    rclone("copyto", str(doc), f"{remote}in/spare.doc", cwd=tmp_path)
    rclone("moveto", f"{remote}in/w.doc", f"{remote}in/renamed.doc", cwd=tmp_path)
    rclone("deletefile", f"{remote}in/spare.doc", cwd=tmp_path)
    listing = rclone("lsf", f"{remote}in", cwd=tmp_path).stdout.split()
    assert listing == ["renamed.doc"]
    assert [(r.path, r.sha256) for r in gateway.settled()] == [("/in/renamed.doc", sha(doc.read_bytes()))]
    assert (gateway.share / "in" / "renamed.doc").read_bytes() == doc.read_bytes()


def test_a_python_webdav_client_uploads_lists_moves_and_deletes(gateway: RunningGateway, corpus: Path) -> None:
    client = WebDAVClient(gateway.url)
    doc = corpus / "testWORD.doc"
    client.mkdir("py")
    client.upload_file(str(doc), "py/a.doc")
    client.upload_file(str(doc), "py/tmp.doc")
    client.move("py/a.doc", "py/b.doc")
    client.remove("py/tmp.doc")
    assert [entry["name"] for entry in client.ls("py", detail=True)] == ["py/b.doc"]
    assert client.content_length("py/b.doc") == doc.stat().st_size
    assert [(r.path, r.sha256) for r in gateway.settled()] == [("/py/b.doc", sha(doc.read_bytes()))]
