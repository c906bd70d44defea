"""External tools run with a time limit, resource limits, a clean environment and bounded output."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from processor.errors import OutputTooLarge, ToolCrashed, ToolRefused, ToolTimedOut
from processor.sandbox import Limits, run_tool


def python(code: str) -> list[str]:
    return [sys.executable, "-c", code]


def test_a_tool_that_hangs_is_stopped_at_the_time_limit(tmp_path: Path) -> None:
    with pytest.raises(ToolTimedOut, match="sleep timed out after 0.5 s"):
        run_tool(["sleep", "30"], Limits(timeout_s=0.5), tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_a_tool_that_crashes_is_reported_with_its_signal(tmp_path: Path) -> None:
    with pytest.raises(ToolCrashed, match="killed by signal SIGSEGV"):
        run_tool(python("import os, signal; os.kill(os.getpid(), signal.SIGSEGV)"), Limits(), tmp_path)


def test_antiword_crashing_on_a_corrupt_file_is_a_crash_not_a_refusal(corpus: Path, tmp_path: Path) -> None:
    with pytest.raises(ToolCrashed, match="antiword crashed \\(killed by signal SIGSEGV\\)"):
        run_tool(["antiword", str(corpus / "bad" / "segfault-2byte-flip.doc")], Limits(), tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_a_refusal_carries_the_first_line_the_tool_wrote_to_stderr(corpus: Path, tmp_path: Path) -> None:
    with pytest.raises(ToolRefused) as caught:
        run_tool(["antiword", str(corpus / "testWORD6.doc")], Limits(), tmp_path, name="antiword")
    assert str(caught.value) == "antiword: I'm afraid the text stream of this file is too small to handle."


def test_a_refusal_can_be_inspected_instead_of_raised(tmp_path: Path) -> None:
    run = run_tool(python("import sys; print('partial'); sys.exit(3)"), Limits(), tmp_path, check=False)
    assert (run.returncode, run.stdout.read_text()) == (3, "partial\n")


def test_a_tool_that_floods_its_output_is_stopped_and_leaves_nothing(tmp_path: Path) -> None:
    with pytest.raises(OutputTooLarge, match="yes: output too large"):
        run_tool(["yes"], Limits(output_bytes=1024 * 1024), tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_stderr_is_kept_only_in_part(tmp_path: Path) -> None:
    run = run_tool(python("import sys; sys.stderr.write('x' * 10_000_000)"), Limits(), tmp_path)
    assert len(run.stderr) == 2000


def test_a_tool_that_takes_too_much_memory_fails(tmp_path: Path) -> None:
    run = run_tool(python("b = bytearray(400 * 1024 * 1024)"), Limits(memory_mb=200), tmp_path, check=False)
    assert run.returncode != 0 and "MemoryError" in run.stderr


def test_a_tool_that_spins_is_stopped_by_its_cpu_limit_or_the_clock(tmp_path: Path) -> None:
    with pytest.raises(ToolTimedOut):
        run_tool(python("while True: pass"), Limits(timeout_s=1), tmp_path)


def test_a_tool_sees_only_a_scrubbed_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_PASSWORD", "hunter2")
    run = run_tool(["env"], Limits(), tmp_path)
    env = dict(line.split("=", 1) for line in run.stdout.read_text().splitlines())
    assert set(env) == {"PATH", "LC_ALL", "LANG", "HOME", "TMPDIR"}
    assert env["LC_ALL"] == "C.UTF-8" and Path(env["HOME"]).parent == tmp_path


def test_the_private_home_is_removed_afterwards(tmp_path: Path) -> None:
    run = run_tool(["sh", "-c", 'echo "$HOME"; touch "$HOME/left-behind"'], Limits(), tmp_path)
    home = Path(run.stdout.read_text().strip())
    assert not home.exists() and list(tmp_path.iterdir()) == [run.stdout]


def test_a_file_name_is_never_run_by_a_shell(tmp_path: Path) -> None:
    evil = tmp_path / "$(touch pwned); x.doc"
    evil.write_bytes(b"")
    with pytest.raises(ToolRefused):
        run_tool(["antiword", str(evil)], Limits(), tmp_path)
    assert not list(tmp_path.rglob("pwned"))
