"""The corpus and bad/ tables, read at collection time so tests can be parametrized over them."""

from __future__ import annotations

import json
from typing import Any

from tests.conftest import CORPUS


def _table() -> dict[str, dict[str, Any]]:
    if not (CORPUS / "expected.json").is_file():
        return {}  # the corpus fixture then fails every test that needs it, with the reason
    table: dict[str, dict[str, Any]] = json.loads((CORPUS / "expected.json").read_text())
    bad = json.loads((CORPUS / "bad" / "expected.json").read_text())
    return table | {f"bad/{name}": entry for name, entry in bad.items()}


EXPECTED = _table()
ALL_FILES = sorted(EXPECTED)
# Word files antiword converts (exit 0): their line count must match expected.json exactly.
ANTIWORD_DOCS = sorted(rel for rel, entry in EXPECTED.items()
                       if rel.endswith(".doc") and entry.get("antiword_exit") == 0)
