"""Picks and runs the converter for a document, with a fallback for Word files.

antiword handles Word 97-2003 ``.doc`` but refuses valid small documents
("text stream ... too small") and crashes on some corrupt ones, so catdoc is
tried next; the result names the converter that produced the text.  Every
converter runs through :mod:`processor.sandbox`, the formats parsed in Python
too (:mod:`processor.extract`), so one hostile file meets the same limits.
"""

from __future__ import annotations

import codecs
import hashlib
import logging
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from processor.errors import ConversionError, ToolError, ToolRefused
from processor.sandbox import Limits, run_tool
from processor.sniff import Format, sniff

log = logging.getLogger(__name__)

BLOCK = 64 * 1024


@dataclass(frozen=True)
class ConversionResult:
    """What a conversion produced; the text, if any, is in a UTF-8 file the caller removes."""

    ok: bool
    converter: str | None
    text_path: Path | None
    lines: int | None
    text_bytes: int
    text_sha256: str | None
    error: str | None
    duration_ms: int

    @classmethod
    def failed(cls, error: str, duration_ms: int = 0, converter: str | None = None) -> ConversionResult:
        return cls(False, converter, None, None, 0, None, error, duration_ms)


def python_tool(kind: str) -> list[str]:
    return [sys.executable, "-m", "processor.extract", kind]


# Per format, the converters to try in order: (name, argv); "{file}" marks where the path goes,
# else it is appended.
TOOLS: dict[str, tuple[tuple[str, list[str]], ...]] = {
    "doc": (("antiword", ["antiword"]), ("catdoc", ["catdoc", "-d", "utf-8"])),
    "pdf": (("pdftotext", ["pdftotext", "-enc", "UTF-8", "-q", "{file}", "-"]),),
    "docx": (("docx", python_tool("docx")),),
    "odt": (("odt", python_tool("odt")),),
    "wordml": (("wordml", python_tool("wordml")),),
    "rtf": (("rtf", python_tool("rtf")),),
}
# Plain text needs no tool: it is only re-encoded as UTF-8.
TEXT_ENCODINGS = {"text": "utf-8", "latin1": "latin-1"}


def convert(path: Path, work_dir: Path, limits: Limits) -> ConversionResult:
    """Convert ``path``; never raises for a bad document, it returns a failed result."""
    started = time.monotonic()
    try:
        converter, text = _convert(sniff(path), path, work_dir, limits)
    except ConversionError as exc:
        return ConversionResult.failed(str(exc), _ms(started))
    size, sha, lines = measure(text)
    return ConversionResult(True, converter, text, lines, size, sha, None, _ms(started))


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


def _convert(fmt: Format, path: Path, work_dir: Path, limits: Limits) -> tuple[str, Path]:
    if fmt.kind in TEXT_ENCODINGS:
        return "text", as_utf8(path, work_dir, TEXT_ENCODINGS[fmt.kind])
    if fmt.kind not in TOOLS:
        raise ConversionError(fmt.detail or f"unsupported format: {fmt.kind}")
    reasons = []
    for name, argv in TOOLS[fmt.kind]:
        try:
            return name, _run(name, argv, path, work_dir, limits)
        except ToolError as exc:
            # Tools name the (temporary) file they read; the uploader knows which document it was.
            reason = str(exc).replace(str(path), "the document")
            log.debug("%s failed on %s: %s", name, path.name, reason)
            reasons.append(reason)
    raise ConversionError("; then ".join(reasons))


def _run(name: str, argv: list[str], path: Path, work_dir: Path, limits: Limits) -> Path:
    command = [str(path) if a == "{file}" else a for a in argv]
    if "{file}" not in argv:
        command.append(str(path))
    run = run_tool(command, limits, work_dir, name=name)
    try:
        if name == "catdoc" and run.stdout.stat().st_size == 0:
            raise ToolRefused(f"{name}: no text found")
        return as_utf8(run.stdout, work_dir, "utf-8")
    finally:
        run.stdout.unlink(missing_ok=True)


def as_utf8(source: Path, work_dir: Path, encoding: str) -> Path:
    """A copy of ``source`` as valid UTF-8 (undecodable bytes replaced), streamed."""
    fd, name = tempfile.mkstemp(prefix="sg-text-", suffix=".txt", dir=work_dir)
    os.close(fd)
    target = Path(name)
    decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
    with source.open("rb") as src, target.open("w", encoding="utf-8", newline="") as dst:
        while block := src.read(BLOCK):
            dst.write(decoder.decode(block))
        dst.write(decoder.decode(b"", final=True))
    return target


def measure(text: Path) -> tuple[int, str, int]:
    """Bytes, sha256 and line count (newlines, as ``wc -l`` counts) of the text file."""
    digest, size, lines = hashlib.sha256(), 0, 0
    with text.open("rb") as handle:
        while block := handle.read(BLOCK):
            digest.update(block)
            size += len(block)
            lines += block.count(b"\n")
    return size, digest.hexdigest(), lines
