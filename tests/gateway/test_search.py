"""Full-text search (/_/api/search) over real converted text, on SQLite, PostgreSQL and MariaDB."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from importlib.resources import files
from pathlib import Path

import pytest
import requests
from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, func, select, text

from gateway.web import fulltext
from processor.converters import convert
from processor.sandbox import Limits
from responder.writer import Outcome, ResultWriter
from spreadgate import db
from spreadgate.models import State, UploadedFile
from spreadgate.wire import ResultHeader, chunk_count
from tests.gateway import web_harness as harness
from tests.gateway.web_harness import Gateway, form_parts, new_boundary, post_stream

TIMEOUT = 30
DOCUMENT = "testWORD.doc"
# Words antiword finds in testWORD.doc: "This is a sample Microsoft Word Document."
FOUND = ["Microsoft", "microsoft", "sample   DOCUMENT", "Word, italic!", "this document"]
# Query syntax of FTS5, InnoDB's boolean mode and tsquery, each of which must stay plain text.
HOSTILE = [
    ("'; DROP TABLE uploaded_files; --", False),
    ('"Microsoft', True),
    ('Microsoft"', True),
    ("sampl*", False),
    ("Microsoft OR zebrafish", False),
    ("-Microsoft", True),
    ("+Microsoft -sample", True),
    ("Microsoft & !sample |", True),
    ("NEAR(Microsoft zebrafish)", False),
    ("text:Microsoft", True),
    ("Microsoft) (", True),
    ("*", False),
    ("\\", False),
    ("%", False),
]


@pytest.fixture
def gateway(tmp_path: Path, db_url: str) -> Iterator[Gateway]:
    yield from harness.start(tmp_path, database_url=db_url)


def upload(gateway: Gateway, path: Path) -> int:
    boundary = new_boundary()
    parts = form_parts(boundary, {"folder": "search"}, [(path.name, [path.read_bytes()])])
    status, body = post_stream(gateway, parts, boundary=boundary)
    assert status == 201, body
    return int(gateway.rows()[-1].id)


def record_conversion(gateway: Gateway, upload_id: int, document: Path, work_dir: Path) -> str:
    """Convert ``document`` with the real converters and record the result as the responder does."""
    result = convert(document, work_dir, Limits())
    assert result.ok and result.text_path is not None, result.error
    converted = result.text_path.read_text("utf-8")
    header = ResultHeader(True, result.converter, document.stat().st_size,
                          hashlib.sha256(document.read_bytes()).hexdigest(), result.lines, result.text_bytes,
                          result.text_sha256, None, result.duration_ms, "#p1#localhost",
                          chunk_count(result.text_bytes))
    assert ResultWriter(gateway.sessions).apply(upload_id, header, converted) is Outcome.APPLIED
    return converted


def search(gateway: Gateway, **params: str) -> requests.Response:
    return requests.get(f"{gateway.url}/_/api/search", params=params, timeout=TIMEOUT)


def found_ids(gateway: Gateway, q: str) -> list[int]:
    reply = search(gateway, q=q)
    assert reply.status_code == 200, (q, reply.text)
    return [upload["id"] for upload in reply.json()["uploads"]]


def test_a_word_of_a_converted_document_finds_it(gateway: Gateway, corpus: Path, tmp_path: Path) -> None:
    upload_id = upload(gateway, corpus / DOCUMENT)
    converted = record_conversion(gateway, upload_id, corpus / DOCUMENT, tmp_path)
    assert "Microsoft Word Document" in converted
    for q in FOUND:
        assert found_ids(gateway, q) == [upload_id], q
    [hit] = search(gateway, q="Microsoft").json()["uploads"]
    assert (hit["path"], hit["state"], hit["converter"], hit["lines"]) == (
        "/search/testWORD.doc", "processed", "antiword", 60)
    assert "text" not in hit
    assert "Microsoft" in hit["snippet"] and len(hit["snippet"]) < 400


def test_a_word_the_text_lacks_finds_nothing(gateway: Gateway, corpus: Path, tmp_path: Path) -> None:
    record_conversion(gateway, upload(gateway, corpus / DOCUMENT), corpus / DOCUMENT, tmp_path)
    assert search(gateway, q="zebrafish").json() == {"uploads": []}
    assert found_ids(gateway, "Microsoft zebrafish") == []


def test_only_processed_uploads_are_found_newest_first_up_to_the_limit(
    gateway: Gateway, corpus: Path, tmp_path: Path
) -> None:
    first, second = upload(gateway, corpus / DOCUMENT), upload(gateway, corpus / DOCUMENT)
    upload(gateway, corpus / DOCUMENT)
    for upload_id in (first, second):
        record_conversion(gateway, upload_id, corpus / DOCUMENT, tmp_path)
    assert found_ids(gateway, "Microsoft") == [second, first]
    reply = search(gateway, q="Microsoft", limit="1")
    assert [u["id"] for u in reply.json()["uploads"]] == [second]


@pytest.mark.parametrize(("q", "matches"), HOSTILE)
def test_query_syntax_in_the_words_is_searched_as_text(
    gateway: Gateway, corpus: Path, tmp_path: Path, q: str, matches: bool
) -> None:
    upload_id = upload(gateway, corpus / DOCUMENT)
    record_conversion(gateway, upload_id, corpus / DOCUMENT, tmp_path)
    assert found_ids(gateway, q) == ([upload_id] if matches else [])
    assert gateway.row_count() == 1
    assert found_ids(gateway, "Microsoft") == [upload_id]


def test_an_empty_or_overlong_query_is_refused_with_400(gateway: Gateway) -> None:
    for params in ({}, {"q": ""}, {"q": "   "}, {"q": "word " * 41}, {"q": "Microsoft", "limit": "0"}):
        reply = search(gateway, **params)
        assert reply.status_code == 400, params
        assert reply.json()["status"] == 400
        assert ("limit" if "limit" in params else "q") in reply.json()["error"]


def alembic(engine: Engine, revision: str, *, down: bool = False) -> None:
    config = Config()
    config.set_main_option("script_location", str(files("spreadgate") / "migrations"))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        (command.downgrade if down else command.upgrade)(config, revision)


def test_the_upgrade_indexes_rows_already_in_the_table_and_downgrades_cleanly(db_url: str, tmp_path: Path) -> None:
    engine = db.make_engine(db_url)
    try:
        alembic(engine, "0001")
        with db.sessions(engine).begin() as session:
            session.add(UploadedFile(path="/old/minutes.doc", name="minutes.doc", size=1, sha256="0" * 64,
                                     state=State.PROCESSED.value, text="Minutes of the harbour committee\n",
                                     lines=1))
        for _ in range(2):  # the gateway's start upgrades; a downgrade then removes every trace of the index
            for gateway in harness.start(tmp_path, database_url=db_url):
                assert found_ids(gateway, "harbour committee") == [1]
                assert found_ids(gateway, "lighthouse") == []
            alembic(engine, "0001", down=True)
        with engine.connect() as connection:
            assert connection.scalar(select(func.count()).select_from(UploadedFile)) == 1
    finally:
        engine.dispose()


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_postgresql_matches_with_the_expression_its_gin_index_holds(gateway: Gateway) -> None:
    matching = f"SELECT id FROM uploaded_files WHERE {fulltext.POSTGRES_VECTOR} @@ plainto_tsquery('simple', 'x')"
    with gateway.sessions() as session:
        session.execute(text("SET LOCAL enable_seqscan = off"))
        plan = "\n".join(session.scalars(text("EXPLAIN " + matching)))
    assert "ix_uploaded_files_text_fts" in plan, plan


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_the_sqlite_index_follows_updates_and_deletes(gateway: Gateway, corpus: Path, tmp_path: Path) -> None:
    upload_id = upload(gateway, corpus / DOCUMENT)
    record_conversion(gateway, upload_id, corpus / DOCUMENT, tmp_path)
    with gateway.sessions.begin() as session:
        session.get_one(UploadedFile, upload_id).text = "Replaced by the harbour minutes"
    assert (found_ids(gateway, "Microsoft"), found_ids(gateway, "harbour")) == ([], [upload_id])
    with gateway.sessions.begin() as session:
        session.delete(session.get_one(UploadedFile, upload_id))
        # With rank 1 FTS5 also compares its index with the content table.
        session.execute(text("INSERT INTO uploaded_files_fts(uploaded_files_fts, rank) VALUES ('integrity-check', 1)"))
    assert found_ids(gateway, "harbour") == []
