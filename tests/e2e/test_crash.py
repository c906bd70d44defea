"""Nothing is lost: components killed with SIGKILL mid-stream, every accepted upload still ends once."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.crashkit import TARGETS, crash_run


@pytest.mark.parametrize("target", TARGETS)
def test_every_accepted_upload_reaches_one_final_state_when_a_component_is_killed(
    target: str, tmp_path: Path, corpus: Path
) -> None:
    report = crash_run(tmp_path, corpus, target, uploads=100, kills=2, rate=20.0,
                        seed=len(target))
    print(report.line())
    assert report.kills == 2
    assert report.accepted > 0
    assert report.lost == [], report.line()
    assert report.duplicated == [], report.line()
    assert report.wrong_lines == [], report.line()
    assert report.processed == report.accepted, report.line()
    assert report.leftovers == [], report.leftovers
