"""Per-process scratch folders that a later start cleans up if their process was killed."""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from pathlib import Path

log = logging.getLogger(__name__)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def scratch_dir(role: str, base: str | None = None) -> Path:
    """A new folder ``spreadgate-<role>-<pid>-…``; folders of dead processes are removed first."""
    parent = Path(base or tempfile.gettempdir())
    prefix = f"spreadgate-{role}-"
    for stale in parent.glob(f"{prefix}*"):
        pid = stale.name[len(prefix):].split("-", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            log.info("removing %s, left by a %s that was stopped abruptly", stale, role)
            shutil.rmtree(stale, ignore_errors=True)
    return Path(tempfile.mkdtemp(prefix=f"{prefix}{os.getpid()}-", dir=parent))
