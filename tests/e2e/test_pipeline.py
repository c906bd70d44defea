"""A person saves documents into spreadgate and sees each one converted and recorded."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import quote

import requests

from tests.e2e.conftest import Gateway

# Word files antiword refuses although they are valid ("text stream ... too small").
SMALL_WORD_FILES = {"testWORD6.doc", "testWORD_tabular_symbol.doc"}


def corpus_files(corpus: Path) -> list[Path]:
    files = [p for p in corpus.iterdir() if p.is_file() and p.name not in ("expected.json", "SOURCES.md")]
    bad = [p for p in (corpus / "bad").iterdir() if p.name != "expected.json"]
    return sorted(files) + sorted(bad)


def put(gateway: Gateway, name: str, path: Path) -> requests.Response:
    with path.open("rb") as body:
        return requests.put(f"{gateway.url}/{quote(name)}", data=body, timeout=60)


def form_upload(gateway: Gateway, folder: str, paths: list[Path]) -> list[dict[str, Any]]:
    handles = [p.open("rb") for p in paths]
    try:
        files = [("file", (p.name, h, "application/octet-stream")) for p, h in zip(paths, handles)]
        reply = requests.post(f"{gateway.url}/_/upload", data={"folder": folder}, files=files,
                              headers={"Accept": "application/json"}, timeout=120)
    finally:
        for handle in handles:
            handle.close()
    assert reply.status_code == 201, reply.text
    return list(reply.json()["uploads"])


def test_a_document_saved_with_curl_is_processed_with_its_line_count_and_text(
    gateway_factory: Any, corpus: Path, tmp_path: Path
) -> None:
    gateway = gateway_factory(f"sqlite:///{tmp_path / 'db.sqlite'}")
    put_result = subprocess.run(
        ["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "-T",
         str(corpus / "testWORD.doc"), f"{gateway.url}/testWORD.doc"],
        capture_output=True, text=True, timeout=60, check=True)
    assert put_result.stdout == "201"
    [row] = gateway.wait_rows(1, path="/testWORD.doc")
    final = gateway.wait_final({row["id"]})[row["id"]]
    assert final["state"] == "processed", final
    assert final["lines"] == 60
    assert final["converter"] == "antiword"
    assert final["sha256"] == hashlib.sha256((corpus / "testWORD.doc").read_bytes()).hexdigest()
    text = requests.get(f"{gateway.url}/_/api/uploads/{row['id']}/text", timeout=10)
    assert text.status_code == 200
    assert "Sample Word Document" in text.text


def check_result(rel: str, row: dict[str, Any], expected: dict[str, Any]) -> None:
    name = rel.rsplit("/", 1)[-1]
    assert row["state"] in ("processed", "failed"), (rel, row)
    if row["state"] == "failed":
        assert row["error"], f"{rel} failed without a reason"
    entry = expected.get(rel, {})
    if name.endswith(".doc") and entry.get("antiword_exit") == 0:
        assert row["state"] == "processed", (rel, row)
        assert row["converter"] == "antiword", (rel, row)
        assert row["lines"] == entry["antiword_lines"], (rel, row)
    if name in SMALL_WORD_FILES:
        assert row["state"] == "processed" and row["converter"] != "antiword", (rel, row)


def test_every_corpus_file_put_or_uploaded_reaches_a_final_state_with_the_right_lines(
    gateway_factory: Any, db_url: str, corpus: Path, expected: dict[str, dict[str, Any]]
) -> None:
    gateway = gateway_factory(db_url)
    files = corpus_files(corpus)
    by_name = {p.name: str(p.relative_to(corpus)) for p in files}
    for folder in ("put", "put/bad"):
        assert requests.request("MKCOL", f"{gateway.url}/{folder}", timeout=10).status_code == 201
    for path in files:
        reply = put(gateway, f"put/{path.relative_to(corpus)}", path)
        assert reply.status_code == 201, (path.name, reply.status_code, reply.text)
    form_ids = {entry["id"] for entry in form_upload(gateway, "form", files)}
    nonempty = {rel for rel in by_name.values() if (corpus / rel).stat().st_size > 0}
    recorded = gateway.wait_rows(len(form_ids) + len(nonempty))
    rows = gateway.wait_final({row["id"] for row in recorded})
    assert form_ids <= set(rows)

    put_rows = {r["path"][len("/put/"):]: r for r in rows.values() if r["path"].startswith("/put/")}
    form_rows = {by_name[r["name"]]: r for r in rows.values() if r["path"].startswith("/form/")}
    # An empty PUT is a placeholder (network drives create files that way): stored, never
    # forwarded.  An empty file sent through the form is an explicit upload and fails.
    assert set(put_rows) == nonempty
    assert set(form_rows) == set(by_name.values())
    assert form_rows["bad/empty.doc"]["state"] == "failed"
    for rel, row in [*put_rows.items(), *form_rows.items()]:
        check_result(rel, row, expected)
