"""A person uploads documents with ``spreadgate upload`` and reads what became of each one."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from gateway.auth import password_hash
from spreadgate.supervisor import free_port
from tests.e2e.conftest import Gateway, start_up, stop_up
from tests.e2e.test_pipeline import check_result
from tests.processor.corpus_table import ANTIWORD_DOCS, EXPECTED

# The corpus files no converter can read, and how each reason starts.
FAILS = {"encrypted.doc": "encrypted document", "testWORD_protected_passtika.doc": "encrypted document",
         "encrypted.docx": "encrypted document", "testWordPerfect_42.doc": "unsupported format",
         "bad/random.doc": "unsupported format", "bad/zeros-1MiB.doc": "unsupported format",
         "bad/truncated-4k.doc": "damaged document", "bad/truncated-half.doc": "damaged document",
         "bad/ole-header-random.doc": "damaged document"}
# An empty PUT is a placeholder: stored, never processed.
STORED = {"bad/empty.doc"}
ALICE, RITA = ("alice", "wonder land"), ("rita", "reader")


def spreadgate(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """The real command, with no terminal and no credentials but those in ``env``."""
    clean = {k: v for k, v in os.environ.items() if k not in ("SPREADGATE_USER", "SPREADGATE_PASSWORD")}
    return subprocess.run([sys.executable, "-m", "spreadgate", *args], capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, env={**clean, **env}, timeout=600, check=False)


def table(stdout: str) -> dict[str, dict[str, Any]]:
    """The rows of the plain-text report by share path (columns: path state lines converter error)."""
    header, *lines = stdout.split("\n\n")[0].splitlines()
    assert header.split() == ["path", "state", "lines", "converter", "error"]
    rows = {}
    for line in lines:
        path, state, count, converter, error = line.split(maxsplit=4)
        rows[path] = {"state": state, "lines": None if count == "-" else int(count),
                      "converter": None if converter == "-" else converter, "error": None if error == "-" else error}
    return rows


def corpus_rel(corpus: Path) -> set[str]:
    return {str(p.relative_to(corpus)) for p in corpus.rglob("*") if p.is_file()}


def check_corpus_rows(rows: dict[str, dict[str, Any]], expected: dict[str, dict[str, Any]]) -> None:
    """Every file reached what the corpus tables say: line counts, converters, failures and their reasons."""
    for rel, row in rows.items():
        if rel in STORED:
            assert row["state"] == "stored" and "never processed" in row["error"], (rel, row)
        else:
            check_result(rel, row, expected)
    failed = {rel for rel, row in rows.items() if row["state"] == "failed"}
    assert failed == {rel for rel in FAILS if rel in rows}
    assert all(rows[rel]["error"].startswith(FAILS[rel]) for rel in failed), rows
    word = [rel for rel in ANTIWORD_DOCS if rel in rows]
    assert {rel: (rows[rel]["converter"], rows[rel]["lines"]) for rel in word} == {
        rel: ("antiword", EXPECTED[rel]["antiword_lines"]) for rel in word}


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    """One anonymous ``spreadgate up``; each test writes below its own share folder."""
    tmp = tmp_path_factory.mktemp("anonymous")
    running = start_up(tmp / "var", f"sqlite:///{tmp / 'db.sqlite'}")
    yield running
    assert stop_up(running.proc) == 0, "".join(running.output[-40:])


@pytest.fixture(scope="module")
def signed_gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    """A ``spreadgate up`` with a user who writes and one who may only read."""
    tmp = tmp_path_factory.mktemp("users")
    config = tmp / "spreadgate.toml"
    config.write_text(f'[users.alice]\npassword_hash = "{password_hash(*ALICE)}"\n'
                      f'[users.rita]\npassword_hash = "{password_hash(*RITA)}"\nread_only = true\n')
    running = start_up(tmp / "var", f"sqlite:///{tmp / 'db.sqlite'}", ["--config", str(config)])
    yield running
    assert stop_up(running.proc) == 0, "".join(running.output[-40:])


def test_uploading_the_corpus_prints_each_files_result_and_fails_because_some_documents_fail(
    gateway: Gateway, corpus: Path, expected: dict[str, dict[str, Any]]
) -> None:
    result = spreadgate("upload", "--url", gateway.url, "--to", "/table", str(corpus))
    assert result.returncode == 1, result.stderr
    rows = table(result.stdout)
    prefix = f"/table/{corpus.name}/"
    assert all(path.startswith(prefix) for path in rows)
    by_rel = {path[len(prefix):]: row for path, row in rows.items()}
    assert set(by_rel) == corpus_rel(corpus)
    check_corpus_rows(by_rel, expected)
    counts = f"{len(rows)} files: {len(FAILS)} failed, {len(rows) - len(FAILS) - 1} processed, 1 stored"
    assert result.stdout.rstrip().rsplit("\n", 1)[-1].startswith(counts)
    # What the command shows is what the gateway recorded.
    recorded = {row["path"]: row for row in gateway.uploads() if row["path"].startswith(prefix)}
    assert {path: (r["state"], r["lines"], r["converter"]) for path, r in recorded.items()} == {
        path: (r["state"], r["lines"], r["converter"]) for path, r in rows.items() if r["state"] != "stored"}
    assert "Traceback" not in result.stderr


def test_json_results_name_each_upload_and_a_second_run_of_the_same_bytes_finds_the_same_uploads(
    gateway: Gateway, corpus: Path, expected: dict[str, dict[str, Any]]
) -> None:
    first = spreadgate("upload", "--url", gateway.url, "--to", "json", "--json", str(corpus / "bad"))
    assert first.returncode == 1, first.stderr
    document = json.loads(first.stdout)
    assert (document["waited"], document["exit_status"]) == (True, 1)
    files = {f["path"][len("/json/"):]: f for f in document["files"]}
    assert set(files) == {rel for rel in corpus_rel(corpus) if rel.startswith("bad/")}
    check_corpus_rows(files, expected)
    for rel, entry in files.items():
        assert entry["sha256"] == hashlib.sha256((corpus / rel).read_bytes()).hexdigest()
        assert entry["http_status"] == 201
    # The same bytes again make no new upload (the gateway never forwards them twice).
    again = json.loads(spreadgate("upload", "--url", gateway.url, "--to", "json", "--json",
                                  str(corpus / "bad")).stdout)
    assert {f["path"]: (f["upload_id"], f["state"]) for f in again["files"]} == {
        f["path"]: (f["upload_id"], f["state"]) for f in document["files"]}


def test_without_waiting_the_http_results_come_back_at_once_as_json(gateway: Gateway, corpus: Path) -> None:
    result = spreadgate("upload", "--url", gateway.url, "--to", "/quick", "--no-wait", "--json", "--jobs", "8",
                        str(corpus / "testWORD.doc"), str(corpus / "bad"))
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["waited"] is False
    sent = {f["path"]: f for f in document["files"]}
    assert len(sent) == 1 + len(list((corpus / "bad").iterdir()))
    assert {(f["state"], f["http_status"], f["upload_id"]) for f in sent.values()} == {("uploaded", 201, None)}
    stored = requests.get(f"{gateway.url}/quick/testWORD.doc", timeout=10)
    assert stored.content == (corpus / "testWORD.doc").read_bytes()
    assert sent["/quick/testWORD.doc"]["sha256"] == hashlib.sha256(stored.content).hexdigest()


def test_a_gateway_with_users_takes_credentials_from_options_or_the_environment(
    signed_gateway: Gateway, corpus: Path
) -> None:
    url, doc = signed_gateway.url, str(corpus / "testWORD.doc")
    missing = spreadgate("upload", "--url", url, doc)
    assert missing.returncode == 5
    assert "asks for a user name and password: give --user and --password" in missing.stderr
    wrong = spreadgate("upload", "--url", url, "--user", "alice", "--password", "wrong", doc)
    assert wrong.returncode == 5
    assert "refused the user name or password of 'alice'" in wrong.stderr
    right = spreadgate("upload", "--url", url, "--to", "/alice", doc, str(corpus / "raw_text.doc"),
                       SPREADGATE_USER=ALICE[0], SPREADGATE_PASSWORD=ALICE[1])
    assert right.returncode == 0, right.stderr
    rows = table(right.stdout)
    assert {path: (r["state"], r["lines"]) for path, r in rows.items()} == {
        "/alice/testWORD.doc": ("processed", 60), "/alice/raw_text.doc": ("processed", 51)}
    reader = spreadgate("upload", "--url", url, "--user", RITA[0], "--password", RITA[1], doc)
    assert reader.returncode == 4
    assert table(reader.stdout)["/testWORD.doc"]["state"] == "refused"
    assert "rita may only read" in reader.stdout


def test_spreadgate_status_takes_the_same_credentials(signed_gateway: Gateway) -> None:
    url = signed_gateway.url
    assert spreadgate("status", "--url", url).returncode == 5
    wrong = spreadgate("status", "--url", url, "--user", "alice", "--password", "wrong")
    assert (wrong.returncode, wrong.stdout) == (5, "")
    assert "refused the user name or password of 'alice'" in wrong.stderr
    right = spreadgate("status", "--url", url, "--json", SPREADGATE_USER=ALICE[0], SPREADGATE_PASSWORD=ALICE[1])
    assert right.returncode == 0, right.stderr
    assert json.loads(right.stdout)["health"]["database"]["ok"] is True


def test_upload_says_so_and_fails_when_no_gateway_answers(corpus: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    result = spreadgate("upload", "--url", url, str(corpus / "testWORD.doc"))
    assert result.returncode == 3
    assert f"cannot reach the gateway at {url}: Connection refused" in result.stderr
    assert result.stdout == ""


def test_results_that_do_not_come_in_time_are_reported_as_waiting(gateway: Gateway, corpus: Path) -> None:
    # A WebDAV save is recorded only after the gateway's quiet period (5 s), longer than this wait.
    result = spreadgate("upload", "--url", gateway.url, "--to", "/hurry", "--timeout", "1",
                        str(corpus / "rasp.doc"))
    assert result.returncode == 6, result.stderr
    row = table(result.stdout)["/hurry/rasp.doc"]
    assert (row["state"], row["error"]) == ("waiting", "no result within 1 s (last state: not recorded yet)")
    assert "gave up waiting after 1 s: 1 of 1 uploads have no result yet\n" in result.stderr


def test_an_address_without_http_is_a_usage_error(corpus: Path) -> None:
    result = spreadgate("upload", "--url", "127.0.0.1:8080", str(corpus / "testWORD.doc"))
    assert result.returncode == 2
    assert "'127.0.0.1:8080' is not an http:// or https:// address" in result.stderr
