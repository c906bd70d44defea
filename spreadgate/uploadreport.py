"""What ``spreadgate upload`` prints when it is done: a table, or JSON with ``--json``."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING, TextIO

from spreadgate import texttable

if TYPE_CHECKING:
    from spreadgate.upload import FileResult

WAIT_COLUMNS = ("path", "state", "lines", "converter", "error")
PUT_COLUMNS = ("path", "http", "state", "error")


def report(results: Sequence[FileResult], waited: bool, as_json: bool, status: int, elapsed_s: float,
           out: TextIO) -> None:
    counts = Counter(result.state for result in results)
    if as_json:
        document = {"waited": waited, "exit_status": status, "elapsed_s": round(elapsed_s, 3),
                    "counts": dict(sorted(counts.items())), "files": [r.as_json() for r in results]}
        out.write(json.dumps(document, indent=2) + "\n")
        return
    rows: list[tuple[object, ...]]
    if waited:
        rows = [(r.path, r.state, r.lines, r.converter, r.error) for r in results]
    else:
        rows = [(r.path, r.http_status, r.state, r.error) for r in results]
    lines = texttable.render(WAIT_COLUMNS if waited else PUT_COLUMNS, rows)
    summary = ", ".join(f"{count} {state}" for state, count in sorted(counts.items()))
    files = "1 file" if len(results) == 1 else f"{len(results)} files"
    lines += ["", f"{files}: {summary or 'none'} ({elapsed_s:.1f} s)"]
    out.write("\n".join(lines) + "\n")
