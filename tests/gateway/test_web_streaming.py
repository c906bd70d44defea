"""A 50 MiB form upload streams to disk: the gateway's memory does not grow with the file."""

from __future__ import annotations

import hashlib
import os
import resource
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Self

import pytest

from tests.gateway import web_harness as harness
from tests.gateway.web_harness import (
    Gateway,
    form_parts,
    new_boundary,
    post_stream,
)

SIZE = 50 * 1024 * 1024
PIECE = 64 * 1024
# Far below the file: a handler that held the file (or even a fifth of it) in memory fails.
MEMORY_BUDGET = 10 * 1024 * 1024



@pytest.fixture
def gateway(tmp_path: Path) -> Iterator[Gateway]:
    yield from harness.start(tmp_path)


class RssSampler:
    """Samples this process's resident set size in a thread; ``peak`` is the largest seen."""

    def __init__(self) -> None:
        self.peak = self.now()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    @staticmethod
    def now() -> int:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

    def _run(self) -> None:
        while not self._stop.wait(0.002):
            self.peak = max(self.peak, self.now())

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(10)


@pytest.fixture(scope="module")
def big_file(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    path = tmp_path_factory.mktemp("big") / "big.bin"
    digest = hashlib.sha256()
    with path.open("wb") as out:
        for _ in range(SIZE // PIECE):
            piece = os.urandom(PIECE)
            digest.update(piece)
            out.write(piece)
    return path, digest.hexdigest()


def pieces_of(path: Path) -> Iterator[bytes]:
    with path.open("rb") as source:
        while piece := source.read(PIECE):
            yield piece


@pytest.mark.parametrize("chunked", [False, True], ids=["with Content-Length", "chunked"])
def test_a_50_mib_file_uploads_without_the_gateway_holding_it_in_memory(
        gateway: Gateway, big_file: tuple[Path, str], chunked: bool) -> None:
    path, sha256 = big_file
    boundary = new_boundary()
    overhead = sum(len(p) for p in form_parts(boundary, {"folder": "big"}, [(path.name, [])]))
    body = form_parts(boundary, {"folder": "big"}, [(path.name, pieces_of(path))])
    maxrss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    with RssSampler() as sampler:
        baseline = sampler.peak
        status, reply = post_stream(gateway, body, boundary=boundary, length=None if chunked else overhead + SIZE)
    maxrss_growth = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - maxrss_before
    assert status == 201, reply
    assert sampler.peak - baseline < MEMORY_BUDGET, f"resident memory grew by {sampler.peak - baseline} bytes"
    assert maxrss_growth < MEMORY_BUDGET, f"peak resident memory grew by {maxrss_growth} bytes"
    [row] = gateway.rows()
    assert (row.path, row.size, row.sha256) == ("/big/big.bin", SIZE, sha256)
    assert (gateway.share / "big" / "big.bin").stat().st_size == SIZE
