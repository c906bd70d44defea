"""Full-text matching of the extracted text, in the SQL of each engine's own index.

The indexes come from migration 0002.  A query is cut into words (runs of
letters, digits and ``_``); every word must occur.  Words reach the database only
as bound parameters, and where the engine has a query syntax (FTS5, InnoDB's
boolean mode) each word is quoted as a phrase, so ``OR``, ``*``, ``-`` or a
quote in the query are text to look for, never operators.
"""

from __future__ import annotations

import re

from sqlalchemy import (
    ColumnElement,
    Select,
    bindparam,
    func,
    literal_column,
    select,
    table,
)
from sqlalchemy.orm import defer

from spreadgate.models import State, UploadedFile

WORD = re.compile(r"\w+")
SNIPPET_WORDS = 16
SNIPPET_CHARS = 160
# InnoDB leaves words shorter than innodb_ft_min_token_size (3 by default) out of its
# index, and a required word that cannot be in the index would make every search fail.
INNODB_MIN_WORD = 3
# The expression migration 0002 indexes; the same text lets PostgreSQL use the index.
POSTGRES_INDEXED_CHARS = 250000
POSTGRES_VECTOR = f"to_tsvector('simple'::regconfig, left(uploaded_files.text, {POSTGRES_INDEXED_CHARS}))"
FTS_TABLE = table("uploaded_files_fts", literal_column("rowid"))


def search_statement(dialect: str, query: str, limit: int) -> Select[UploadedFile, str] | None:
    """Processed uploads whose text holds every word of ``query``, newest first; None when nothing can match."""
    terms: list[str] = WORD.findall(query)
    if dialect in ("mysql", "mariadb"):
        terms = [term for term in terms if len(term) >= INNODB_MIN_WORD]
    if not terms:
        return None
    builder = {"sqlite": _sqlite, "postgresql": _postgres, "mysql": _mysql, "mariadb": _mysql}.get(dialect)
    if builder is None:
        raise NotImplementedError(f"no full-text search for the {dialect} database")
    statement, matches = builder(terms)
    return (statement.options(defer(UploadedFile.text))
            .where(matches, UploadedFile.state == State.PROCESSED.value)
            .order_by(UploadedFile.id.desc()).limit(limit))


def _phrases(terms: list[str], prefix: str = "") -> str:
    # A term holds only word characters, so it cannot close its own quotes.
    return " ".join(f'{prefix}"{term}"' for term in terms)


def _sqlite(terms: list[str]) -> tuple[Select[UploadedFile, str], ColumnElement[bool]]:
    fts: ColumnElement[str] = literal_column("uploaded_files_fts")
    snippet = func.snippet(fts, 0, "", "", "…", SNIPPET_WORDS)
    statement = select(UploadedFile, snippet).join(FTS_TABLE, FTS_TABLE.c.rowid == UploadedFile.id)
    return statement, fts.op("MATCH")(bindparam("terms", _phrases(terms)))


def _postgres(terms: list[str]) -> tuple[Select[UploadedFile, str], ColumnElement[bool]]:
    query = func.plainto_tsquery(literal_column("'simple'::regconfig"), bindparam("terms", " ".join(terms)))
    indexed = func.left(UploadedFile.text, POSTGRES_INDEXED_CHARS)
    # ts_headline would parse the whole indexed text of every hit again; finding the first word is cheaper.
    first = func.strpos(func.lower(indexed), func.lower(bindparam("first", terms[0])))
    return select(UploadedFile, _around(first)), literal_column(POSTGRES_VECTOR).op("@@")(query)


def _mysql(terms: list[str]) -> tuple[Select[UploadedFile, str], ColumnElement[bool]]:
    # LOCATE compares in the column's collation, so case does not matter, as in the index.
    first = func.locate(bindparam("first", terms[0]), UploadedFile.text)
    return select(UploadedFile, _around(first)), UploadedFile.text.match(bindparam("terms", _phrases(terms, "+")))


def _around(position: ColumnElement[int]) -> ColumnElement[str]:
    """The text around ``position`` (1-based; 0 when not found gives the start)."""
    return func.substring(UploadedFile.text, func.greatest(1, position - SNIPPET_CHARS // 3), SNIPPET_CHARS)
