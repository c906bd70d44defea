"""Removes what a gateway that was killed mid-upload left behind."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from gateway.intake import TEMP_PREFIX

log = logging.getLogger(__name__)


def sweep_temp_files(share: Path) -> int:
    """Delete unfinished upload files in the share; run before serving, when none can be in use.

    This walks the whole share once at start; an upload that was cut off by a
    crash was never acknowledged, so its partial bytes are only garbage.
    """
    removed = 0
    for folder, _, names in os.walk(share):
        for name in names:
            if name.startswith(TEMP_PREFIX):
                Path(folder, name).unlink(missing_ok=True)
                removed += 1
    if removed:
        log.info("removed %d unfinished upload file(s) left by an earlier stop", removed)
    return removed
