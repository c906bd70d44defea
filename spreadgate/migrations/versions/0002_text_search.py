"""Full-text index over the extracted text, in each engine's own way.

SQLite: an FTS5 table with the uploads as external content, kept current by
triggers.  PostgreSQL: a GIN index on ``to_tsvector('simple', …)`` of the
text's first 250,000 characters (a tsvector holds at most 1 MB of words, so
indexing more could make storing a long text fail).  MariaDB/MySQL: an InnoDB
FULLTEXT index, built without a stopword list so every word is searchable.
Rows already in the table are indexed by the upgrade.

Revision ID: 0002
Revises: 0001
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

SQLITE_UP = (
    ("CREATE VIRTUAL TABLE uploaded_files_fts USING fts5("
     "text, content='uploaded_files', content_rowid='id', tokenize='unicode61 remove_diacritics 2')"),
    # The FTS5 documentation's external-content triggers; 'delete' must see the old text exactly.
    ("CREATE TRIGGER uploaded_files_fts_insert AFTER INSERT ON uploaded_files BEGIN "
     "INSERT INTO uploaded_files_fts(rowid, text) VALUES (new.id, new.text); END"),
    ("CREATE TRIGGER uploaded_files_fts_delete AFTER DELETE ON uploaded_files BEGIN "
     "INSERT INTO uploaded_files_fts(uploaded_files_fts, rowid, text) VALUES ('delete', old.id, old.text); END"),
    ("CREATE TRIGGER uploaded_files_fts_update AFTER UPDATE OF text ON uploaded_files BEGIN "
     "INSERT INTO uploaded_files_fts(uploaded_files_fts, rowid, text) VALUES ('delete', old.id, old.text); "
     "INSERT INTO uploaded_files_fts(rowid, text) VALUES (new.id, new.text); END"),
    "INSERT INTO uploaded_files_fts(uploaded_files_fts) VALUES ('rebuild')",
)
SQLITE_DOWN = (
    "DROP TRIGGER uploaded_files_fts_update",
    "DROP TRIGGER uploaded_files_fts_delete",
    "DROP TRIGGER uploaded_files_fts_insert",
    "DROP TABLE uploaded_files_fts",
)
# gateway.web.fulltext matches with this very expression, so the planner can use the index.
POSTGRES_UP = (("CREATE INDEX ix_uploaded_files_text_fts ON uploaded_files "
                "USING gin (to_tsvector('simple'::regconfig, left(text, 250000)))"),)
POSTGRES_DOWN = ("DROP INDEX ix_uploaded_files_text_fts",)
MYSQL_UP = (
    # InnoDB fixes an index's stopword list when it is built; without one "the" or "who" is found too.
    "SET SESSION innodb_ft_enable_stopword = OFF",
    "CREATE FULLTEXT INDEX ix_uploaded_files_text_fts ON uploaded_files (text)",
    "SET SESSION innodb_ft_enable_stopword = DEFAULT",
)
MYSQL_DOWN = ("DROP INDEX ix_uploaded_files_text_fts ON uploaded_files",)

STATEMENTS = {
    "sqlite": (SQLITE_UP, SQLITE_DOWN),
    "postgresql": (POSTGRES_UP, POSTGRES_DOWN),
    "mysql": (MYSQL_UP, MYSQL_DOWN),
    "mariadb": (MYSQL_UP, MYSQL_DOWN),
}


def upgrade() -> None:
    _run(0)


def downgrade() -> None:
    _run(1)


def _run(direction: int) -> None:
    dialect = op.get_bind().dialect.name
    if dialect not in STATEMENTS:
        raise NotImplementedError(f"no full-text index for the {dialect} database")
    for statement in STATEMENTS[dialect][direction]:
        op.execute(statement)
