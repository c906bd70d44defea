"""Picks and runs the converter for a document, with a fallback for Word files.

antiword handles Word 97-2003 ``.doc`` but refuses valid small documents
("text stream ... too small") and crashes on some corrupt ones, so catdoc is
tried next; the result names the converter that produced the text.  Every
converter runs through :mod:`processor.sandbox`.
"""

from __future__ import annotations

import codecs
import hashlib
import logging
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from processor.sandbox import Limits, ToolError, ToolRun, run_tool
from processor.sniff import sniff

log = logging.getLogger(__name__)

BLOCK = 64 * 1024
ENCRYPTED_MARKS = ("encrypted", "does not contain a word document")


class ConversionError(Exception):
    """No converter produced text; ``str()`` is the reason shown to users."""


@dataclass(frozen=True)
class ConversionResult:
    """What a conversion produced; the text, if any, is in a UTF-8 file."""

    ok: bool
    converter: str | None
    text_path: Path | None
    lines: int | None
    text_bytes: int
    text_sha256: str | None
    error: str | None
    duration_ms: int


def python_tool(kind: str) -> list[str]:
    return [sys.executable, "-m", "processor.extract", kind]


TOOLS: dict[str, tuple[tuple[str, list[str]], ...]] = {
    "doc": (("antiword", ["antiword"]), ("catdoc", ["catdoc", "-d", "utf-8"])),
    "pdf": (("pdftotext", ["pdftotext", "-enc", "UTF-8", "-q", "{file}", "-"]),),
    "docx": (("docx", python_tool("docx")),),
    "odt": (("odt", python_tool("odt")),),
    "wordml": (("wordml", python_tool("wordml")),),
    "rtf": (("rtf", python_tool("rtf")),),
}


def convert(path: Path, work_dir: Path, limits: Limits) -> ConversionResult:
    """Convert ``path``; never raises for a bad document, it returns a failed result."""
    started = time.monotonic()
    try:
        converter, text = _convert(path, work_dir, limits)
    except ConversionError as exc:
        return ConversionResult(False, None, None, None, 0, None, str(exc), _ms(started))
    size, sha, lines = _measure(text)
    return ConversionResult(True, converter, text, lines, size, sha, None, _ms(started))


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


def _convert(path: Path, work_dir: Path, limits: Limits) -> tuple[str, Path]:
    kind = sniff(path)
    if kind == "empty":
        raise ConversionError("empty file: nothing to convert")
    if kind == "text":
        return "text", _as_utf8(path, work_dir)
    if kind not in TOOLS:
        raise ConversionError("unsupported format: not a Word, OpenDocument, RTF, PDF or text file")
    reasons = []
    for name, argv in TOOLS[kind]:
        try:
            return name, _run(name, argv, path, work_dir, limits)
        except ToolError as exc:
            reasons.append(f"{name}: {exc}")
            if any(mark in str(exc).lower() for mark in ENCRYPTED_MARKS) and name == "antiword":
                raise ConversionError(f"encrypted document ({exc})") from None
    raise ConversionError("; ".join(reasons))


def _run(name: str, argv: list[str], path: Path, work_dir: Path, limits: Limits) -> Path:
    command = [str(path) if a == "{file}" else a for a in argv]
    if "{file}" not in argv:
        command.append(str(path))
    run = run_tool(command, limits, work_dir)
    try:
        try:
            _check(name, run)
        except ToolError as exc:
            # Tools name the (temporary) file they read; the user knows which document it was.
            raise ToolError(str(exc).replace(str(path), "the document")) from None
        return _as_utf8(run.stdout, work_dir)
    finally:
        run.stdout.unlink(missing_ok=True)


def _check(name: str, run: ToolRun) -> None:
    if run.returncode != 0:
        first = run.stderr.splitlines()[0] if run.stderr else f"exit status {run.returncode}"
        raise ToolError(first)
    if name == "catdoc" and run.stdout.stat().st_size == 0:
        raise ToolError("no text found")


def _as_utf8(source: Path, work_dir: Path) -> Path:
    """A copy of ``source`` as valid UTF-8 (bad bytes replaced), streamed."""
    target = work_dir / f"{source.name}.txt"
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    with source.open("rb") as src, target.open("w", encoding="utf-8", newline="") as dst:
        while block := src.read(BLOCK):
            dst.write(decoder.decode(block))
        dst.write(decoder.decode(b"", final=True))
    return target


def _measure(text: Path) -> tuple[int, str, int]:
    """Bytes, sha256 and line count (newlines, as ``wc -l`` counts) of the text file."""
    digest, size, lines = hashlib.sha256(), 0, 0
    with text.open("rb") as handle:
        while block := handle.read(BLOCK):
            digest.update(block)
            size += len(block)
            lines += block.count(b"\n")
    return size, digest.hexdigest(), lines
