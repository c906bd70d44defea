"""Shapes result text and messages so every engine (SQLite, PostgreSQL, MariaDB) stores them alike.

Decisions, the same on every engine:

* NUL characters are removed: PostgreSQL's ``text`` type refuses them outright
  (SQLite and MariaDB would keep them), and no converter's NUL carries meaning.
* Lone surrogates, which no driver can encode as UTF-8, become ``?``.
* Text longer than a cap keeps its head, cut on a character boundary; the row
  stays ``processed`` and its ``error`` column says what was cut (the table has
  no other free-form column, and the status page and API show ``error``).
* On MySQL/MariaDB the cap also follows the server's ``max_allowed_packet``:
  the drivers (PyMySQL, mysqlclient) inline parameters as escaped literals, so
  the statement must fit one packet with its escapes counted; a larger one
  makes the server drop the connection, which looks like an outage.
"""

from __future__ import annotations

from dataclasses import dataclass

#: Bytes that MySQL drivers escape with a backslash when they inline a string literal.
MYSQL_ESCAPED = tuple(bytes([b]) for b in b"\0\n\r\\'\"\x1a")
#: Room in a MySQL packet left for the statement around the text (the other
#: columns, error at most ERROR_MAX_BYTES escaped, and the SQL itself).
STATEMENT_MARGIN = 64 * 1024
#: MySQL's TEXT column (``error``) holds 65,535 bytes; a message needs far less.
ERROR_MAX_BYTES = 16 * 1024
#: ``converter`` and ``processor`` are VARCHAR(64).
NAME_MAX_CHARS = 64


@dataclass(frozen=True)
class Fitted:
    """Text ready to store; ``cut_from`` is the original size in bytes when only its head is kept."""

    text: str
    cut_from: int | None = None


def clean(value: str) -> str:
    """``value`` without NUL and lone surrogates."""
    value = value.replace("\0", "")
    return value.encode("utf-8", "replace").decode("utf-8")


def head_bytes(value: str, limit: int) -> str:
    """The longest head of ``value`` that is at most ``limit`` bytes of UTF-8."""
    data = value.encode("utf-8")
    return value if len(data) <= limit else data[:limit].decode("utf-8", "ignore")


def mysql_escaped_size(data: bytes) -> int:
    """How long ``data`` becomes as an escaped MySQL string literal."""
    return len(data) + sum(data.count(b) for b in MYSQL_ESCAPED)


def mysql_text_budget(max_allowed_packet: int) -> int:
    """Escaped bytes a text may take in one statement under ``max_allowed_packet``."""
    return max(max_allowed_packet - STATEMENT_MARGIN, max_allowed_packet // 2)


def fit(text: str, limit: int, escaped_budget: int | None = None) -> Fitted:
    """``text`` cleaned and cut to ``limit`` bytes, and to ``escaped_budget`` escaped bytes if given."""
    text = clean(text)
    data = text.encode("utf-8")
    keep = min(len(data), limit)
    if escaped_budget is not None and mysql_escaped_size(data[:keep]) > escaped_budget:
        keep = _mysql_prefix(data[:keep], escaped_budget)
    if keep == len(data):
        return Fitted(text)
    return Fitted(data[:keep].decode("utf-8", "ignore"), len(data))


def _mysql_prefix(data: bytes, budget: int) -> int:
    """The longest prefix of ``data`` (give or take a byte) that escapes to at most ``budget`` bytes."""
    # A byte costs at most two once escaped, so half the room left can always
    # be taken; the room halves each round and each byte is counted once.
    keep = used = 0
    while (step := (budget - used) // 2) > 0 and keep < len(data):
        window = data[keep : keep + step]
        used += mysql_escaped_size(window)
        keep += len(window)
    return keep
