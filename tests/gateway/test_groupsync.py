"""Group commit: every waiter returns only after a sync that began after its change, and
waiters at the same time share one."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from gateway.groupsync import FolderSync, GroupSync


class Recorder:
    """A sync that notes how many changes had been written when it began; the first one
    waits for ``release`` so that others can queue up behind it."""

    def __init__(self) -> None:
        self.group = GroupSync(self.sync)
        self.began_after: list[int] = []
        self.release = threading.Event()
        self.started = threading.Event()

    def sync(self) -> None:
        self.began_after.append(self.group._written)
        self.started.set()
        self.release.wait(30)


def test_waiters_that_queue_behind_a_running_sync_share_the_next_one() -> None:
    rec = Recorder()
    returned: list[int] = []

    def save() -> None:
        ticket = rec.group.changed()
        rec.group.wait(ticket)
        returned.append(ticket)

    first = threading.Thread(target=save)
    first.start()
    assert rec.started.wait(30)
    others = [threading.Thread(target=save) for _ in range(7)]
    for thread in others:
        thread.start()
    while rec.group._written < 8:  # every other change is written before the first sync ends
        threading.Event().wait(0.001)
    rec.release.set()
    for thread in [first, *others]:
        thread.join(30)
    assert sorted(returned) == list(range(1, 9))
    # The first sync covered one change; the seven written meanwhile share the second.
    assert rec.began_after == [1, 8]


def test_a_failed_sync_is_raised_to_the_waiter_and_tried_again_by_the_next() -> None:
    calls: list[str] = []

    def sync() -> None:
        calls.append("sync")
        if len(calls) == 1:
            raise OSError("disk gone")

    group = GroupSync(sync)
    ticket = group.changed()
    with pytest.raises(OSError, match="disk gone"):
        group.wait(ticket)
    group.wait(ticket)
    assert calls == ["sync", "sync"]
    group.wait(ticket)  # durable now: no further sync
    assert calls == ["sync", "sync"]


def test_folder_sync_syncs_each_folder_and_reports_one_that_is_gone(tmp_path: Path) -> None:
    folders = FolderSync()
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "f").write_bytes(b"x")
    folders.sync(tmp_path / "a")
    with pytest.raises(FileNotFoundError):
        folders.sync(tmp_path / "missing")
