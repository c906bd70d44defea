"""Alembic environment: runs migrations on the connection spreadgate hands it."""

from alembic import context

from spreadgate.models import Base

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=Base.metadata)
with context.begin_transaction():
    context.run_migrations()
