"""Index uploads by path: settling looks up the newest upload of each path it records.

MariaDB/MySQL index the first 255 characters (a key holds at most 3,072 bytes,
and a path of 1,024 characters in utf8mb4 can take 4,096); a lookup by the
whole path still uses it.

Revision ID: 0003
Revises: 0002
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_uploaded_files_path", "uploaded_files", ["path"], mysql_length=255)


def downgrade() -> None:
    op.drop_index("ix_uploaded_files_path", "uploaded_files")
