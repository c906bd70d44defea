"""Fixtures every test layer shares: the corpus, and isolated real databases."""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

REPO = Path(__file__).resolve().parents[1]
CORPUS = Path(os.environ.get("SPREADGATE_CORPUS", REPO.parent / "shared" / "corpus"))

POSTGRES = os.environ.get("SPREADGATE_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
MARIADB = os.environ.get("SPREADGATE_TEST_MARIADB", "mysql+pymysql://root@127.0.0.1:3306/test")


@pytest.fixture(scope="session")
def corpus() -> Path:
    if not (CORPUS / "expected.json").is_file():
        pytest.fail(f"the document corpus is missing at {CORPUS} (set SPREADGATE_CORPUS)")
    return CORPUS


@pytest.fixture(scope="session")
def expected(corpus: Path) -> dict[str, dict[str, Any]]:
    """expected.json of the corpus and of bad/, keyed by the path relative to the corpus."""
    table = json.loads((corpus / "expected.json").read_text())
    bad = json.loads((corpus / "bad" / "expected.json").read_text())
    return table | {f"bad/{name}": entry for name, entry in bad.items()}


def _postgres_schema() -> Iterator[str]:
    name = f"sg_{secrets.token_hex(4)}"
    admin = create_engine(POSTGRES, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE SCHEMA {name}"))
    try:
        yield f"{POSTGRES}?options=-csearch_path%3D{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP SCHEMA {name} CASCADE"))
        admin.dispose()


def mariadb_database(charset: str = "utf8mb4") -> Iterator[str]:
    """A fresh MariaDB database whose tables default to ``charset``; dropped afterwards."""
    name = f"sg_{secrets.token_hex(4)}"
    admin = create_engine(MARIADB, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name} CHARACTER SET {charset}"))
    try:
        yield f"{MARIADB.rsplit('/', 1)[0]}/{name}?charset=utf8mb4"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE {name}"))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql", "mariadb"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL to an empty database of each engine, dropped afterwards."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'spreadgate.db'}"
    elif request.param == "postgresql":
        yield from _postgres_schema()
    else:
        yield from mariadb_database()
