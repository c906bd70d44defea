"""The benchmarks keep running: a quick pass of ``bench/run_all.py``, checked for what it
measured, never for how fast (the figures of a quick pass mean little)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))
from run_all import BENCHES


@pytest.mark.timeout(2400)
def test_every_benchmark_runs_and_reports_each_target(tmp_path: Path) -> None:
    out = tmp_path / "results.md"
    done = subprocess.run([sys.executable, "bench/run_all.py", "--quick", "--runs", "1", "--out", str(out)],
                          cwd=REPO, capture_output=True, text=True, timeout=2400, check=False)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    text = out.read_text()
    for bench in BENCHES:
        assert f"## {bench.title}\n\n`bench/{bench.script}` — ok," in text
    assert "not measured" not in text
    for target in ("disk (dd)", "nginx dav", "stock WsgiDAV", "spreadgate", "antiword loop",
                   "spreadgate, 2 processors", "4 processors"):
        assert f"| {target} |" in text
    assert "growth MiB" in text and "ratio MB/s" in text
