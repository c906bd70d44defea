"""Plain-text tables for the command line: left-aligned columns, one line per row."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def cell(value: Any) -> str:
    """``-`` for a missing value; whitespace (newlines included) folded to single spaces."""
    if value is None:
        return "-"
    # An error can span lines; a table row cannot.
    return " ".join(str(value).split())


def render(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[str]:
    """The header line and one line per row, each column as wide as its widest cell."""
    cells = [[cell(value) for value in row] for row in rows]
    widths = [max([len(column), *(len(row[i]) for row in cells)]) for i, column in enumerate(columns)]
    return [_line(columns, widths), *(_line(row, widths) for row in cells)]


def _line(cells: Sequence[str], widths: list[int]) -> str:
    return "  ".join(text.ljust(width) for text, width in zip(cells, widths, strict=True)).rstrip()
