"""Runs one external converter with an argument list, a time limit and resource limits.

No shell is ever involved, so a file name cannot become a command.  The
child gets a scrubbed environment (no inherited secrets), a private
temporary folder as its home and working directory (removed afterwards), an
address-space limit, a CPU limit and a file-size limit that also caps how
much it may print.  stdout goes to a file, never into this process's memory;
only the beginning of stderr is kept.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from processor.errors import OutputTooLarge, ToolCrashed, ToolRefused, ToolTimedOut

MAX_OUTPUT_BYTES = 64 * 1024 * 1024
STDERR_KEEP = 2000
SAFE_PATH = "/usr/local/bin:/usr/bin:/bin"


@dataclass(frozen=True)
class Limits:
    """What one tool run may use."""

    timeout_s: float = 60.0
    memory_mb: int = 1024
    output_bytes: int = MAX_OUTPUT_BYTES


@dataclass(frozen=True)
class ToolRun:
    """A finished run: the exit status, where stdout is (the caller removes it), stderr's beginning."""

    returncode: int
    stdout: Path
    stderr: str


def limited(argv: list[str], limits: Limits) -> list[str]:
    """``argv`` under util-linux's prlimit.

    Setting limits in a ``preexec_fn`` instead could deadlock: the processor
    has several threads, and only async-signal-safe work is safe after fork.
    """
    return ["prlimit", f"--as={limits.memory_mb * 1024 * 1024}", f"--cpu={int(limits.timeout_s) + 1}",
            f"--fsize={limits.output_bytes}", "--core=0", "--", *argv]


def scrubbed_env(home: Path) -> dict[str, str]:
    """The whole environment a tool sees: nothing inherited, UTF-8 output, a private home."""
    return {"PATH": SAFE_PATH, "LC_ALL": "C.UTF-8", "LANG": "C.UTF-8", "HOME": str(home), "TMPDIR": str(home)}


def run_tool(argv: list[str], limits: Limits, out_dir: Path, *, check: bool = True,
             name: str | None = None) -> ToolRun:
    """Run ``argv``; stdout lands in a file under ``out_dir``.

    Raises :class:`ToolTimedOut`, :class:`ToolCrashed` or :class:`OutputTooLarge`, and with
    ``check`` also :class:`ToolRefused` for a non-zero exit status; messages start with ``name``
    (default: the program's file name).  On any error no file is left.
    """
    tool = name or Path(argv[0]).name
    home = Path(tempfile.mkdtemp(prefix="sg-tool-", dir=out_dir))
    stdout_fd, stdout_name = tempfile.mkstemp(prefix="sg-out-", dir=out_dir)
    stdout = Path(stdout_name)
    try:
        with os.fdopen(stdout_fd, "wb") as out, tempfile.TemporaryFile(dir=home) as err:
            code = _wait(argv, tool, limits, home, out, err)
            err.seek(0)
            stderr = err.read(STDERR_KEEP).decode("utf-8", "replace").strip()
        run = ToolRun(code, stdout, stderr)
        _check(tool, run, limits, check)
        return run
    except BaseException:
        stdout.unlink(missing_ok=True)
        raise
    finally:
        shutil.rmtree(home, ignore_errors=True)


def _wait(argv: list[str], tool: str, limits: Limits, home: Path, out: IO[bytes], err: IO[bytes]) -> int:
    proc = subprocess.Popen(limited(argv, limits), stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                            env=scrubbed_env(home), cwd=home, start_new_session=True)
    try:
        return proc.wait(limits.timeout_s)
    except subprocess.TimeoutExpired:
        # The whole session: a tool's own children must not outlive it.
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        raise ToolTimedOut(f"{tool} timed out after {limits.timeout_s:g} s") from None
    except BaseException:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        raise


def _check(tool: str, run: ToolRun, limits: Limits, check: bool) -> None:
    size = run.stdout.stat().st_size
    if run.returncode == -signal.SIGXFSZ or size >= limits.output_bytes:
        raise OutputTooLarge(f"{tool}: output too large (more than {limits.output_bytes} bytes)")
    if run.returncode < 0:
        name = _signal_name(-run.returncode)
        if -run.returncode == signal.SIGXCPU:
            raise ToolTimedOut(f"{tool} used too much CPU time (killed by signal {name})")
        raise ToolCrashed(f"{tool} crashed (killed by signal {name})")
    if check and run.returncode != 0:
        first = run.stderr.splitlines()[0] if run.stderr else f"exit status {run.returncode}"
        raise ToolRefused(f"{tool}: {first}")


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return str(number)
