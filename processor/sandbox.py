"""Runs one external converter with an argument list, a time limit and resource limits.

No shell is ever involved, so a file name cannot become a command.  The
child gets a scrubbed environment (no inherited secrets), a private
temporary folder as its home and working directory, an address-space limit,
a CPU limit and a file-size limit that also caps how much it may print.
stdout goes to a file, never into this process's memory.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

MAX_OUTPUT_BYTES = 64 * 1024 * 1024
STDERR_KEEP = 2000


class ToolError(Exception):
    """The tool refused the input, crashed, hung or printed too much; ``str()`` says which."""


@dataclass(frozen=True)
class Limits:
    timeout_s: float = 60.0
    memory_mb: int = 1024
    output_bytes: int = MAX_OUTPUT_BYTES


@dataclass(frozen=True)
class ToolRun:
    """A finished run: the exit status, where stdout is, and stderr's beginning."""

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


def run_tool(argv: list[str], limits: Limits, out_dir: Path) -> ToolRun:
    """Run ``argv``; raise :class:`ToolError` unless it exits normally (any exit status)."""
    home = Path(tempfile.mkdtemp(prefix="sg-tool-", dir=out_dir))
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LC_ALL": "C.UTF-8", "LANG": "C.UTF-8",
           "HOME": str(home), "TMPDIR": str(home)}
    stdout_fd, stdout_name = tempfile.mkstemp(prefix="sg-out-", dir=out_dir)
    try:
        with os.fdopen(stdout_fd, "wb") as out, tempfile.TemporaryFile() as err:
            proc = subprocess.Popen(limited(argv, limits), stdin=subprocess.DEVNULL, stdout=out,
                                    stderr=err, env=env, cwd=home, start_new_session=True)
            try:
                code = proc.wait(limits.timeout_s)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
                raise ToolError(f"{Path(argv[0]).name} timed out after {limits.timeout_s:g} s") from None
            err.seek(0)
            stderr = err.read(STDERR_KEEP).decode("utf-8", "replace").strip()
        _check_signal(argv[0], code)
        return ToolRun(code, Path(stdout_name), stderr)
    except BaseException:
        Path(stdout_name).unlink(missing_ok=True)
        raise
    finally:
        shutil.rmtree(home, ignore_errors=True)


def _check_signal(tool: str, code: int) -> None:
    if code >= 0:
        return
    name = signal.Signals(-code).name
    if -code == signal.SIGXFSZ:
        raise ToolError(f"{Path(tool).name} printed too much output (killed by {name})")
    if -code == signal.SIGXCPU:
        raise ToolError(f"{Path(tool).name} used too much CPU time (killed by {name})")
    raise ToolError(f"{Path(tool).name} crashed (killed by signal {name})")
