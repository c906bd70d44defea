"""``spreadgate upload``: send files and folders to a gateway over WebDAV and wait for their results.

The steps: plan what goes where (:mod:`spreadgate.uploadplan`), ask the API
once to learn that a gateway answers and takes the credentials, create the
folders, stream the files with several PUTs at a time
(:mod:`spreadgate.davput`), then poll the API until each upload is processed
or failed (:mod:`spreadgate.uploadwait`) and print one row per file.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, TextIO

from spreadgate import gatewayhttp, uploadwait
from spreadgate.davput import Refused, Sender, sender
from spreadgate.uploadbars import Bars
from spreadgate.uploadplan import Item, make_plan
from spreadgate.uploadreport import report

RET_OK = 0
RET_FAILED = 1
RET_UNREACHABLE = 3
RET_REFUSED = 4
RET_CREDENTIALS = 5
RET_TIMEOUT = 6
# The worst state of any file decides the exit status.
_STATUS_BY_STATE = {"unreachable": RET_UNREACHABLE, "refused": RET_REFUSED, "waiting": RET_TIMEOUT,
                    "failed": RET_FAILED, "unreadable": RET_FAILED}
_PRECEDENCE = (RET_UNREACHABLE, RET_REFUSED, RET_TIMEOUT, RET_FAILED)
EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


@dataclass(frozen=True)
class Options:
    """What the command line asked for."""

    url: str
    to: str = "/"
    jobs: int = 4
    wait: bool = True
    timeout_s: float = 600.0
    user: str | None = None
    password: str | None = None
    as_json: bool = False
    poll_s: float = uploadwait.POLL_S


@dataclass(frozen=True)
class FileResult:
    """One file's outcome: ``processed``, ``failed``, ``stored`` (empty, never processed),
    ``skipped``, ``uploaded`` (without waiting), ``unreadable`` (locally), ``refused``,
    ``unreachable`` or ``waiting``."""

    local: str
    path: str
    size: int
    state: str
    http_status: int | None = None
    sha256: str | None = None
    upload_id: int | None = None
    lines: int | None = None
    converter: str | None = None
    error: str | None = None

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def exit_status_for(error: gatewayhttp.GatewayError) -> int:
    """The exit status for an error that stopped the whole command."""
    if isinstance(error, gatewayhttp.CredentialsRefused):
        return RET_CREDENTIALS
    return RET_REFUSED if isinstance(error, Refused) else RET_UNREACHABLE


def exit_status(results: Iterable[FileResult]) -> int:
    found = {_STATUS_BY_STATE.get(result.state, RET_OK) for result in results}
    return next((status for status in _PRECEDENCE if status in found), RET_OK)


def run(paths: list[Path], options: Options, ignored: Callable[[str], bool], out: TextIO,
        err: TextIO, show_bars: bool = False) -> int:
    """Upload ``paths`` and print the results; the exit status.

    Raises :class:`~spreadgate.uploadplan.PlanError` for unusable arguments and
    :class:`~spreadgate.gatewayhttp.GatewayError` when the gateway cannot be used at all.
    """
    started = time.monotonic()
    plan = make_plan(paths, options.to, ignored)
    results = {item.path: FileResult(str(item.local), item.path, item.size, "skipped", error=item.skip)
               for item in plan.items}
    for item in plan.items:
        if item.skip:
            err.write(f"skipped {item.local}: {item.skip}\n")
    poller = uploadwait.Poller(options.url, options.user, options.password)
    try:
        poller.uploads(limit=1)
        with sender(options.url, options.user, options.password) as dav, \
                Bars(err, enabled=show_bars and not options.as_json) as bars:
            dav.make_folders(plan.folders)
            results.update(_put_all(dav, plan.to_send, options, bars))
            if options.wait:
                results.update(_wait_all(poller, list(results.values()), options, bars))
    finally:
        poller.close()
    ordered = [results[item.path] for item in plan.items]
    status = exit_status(ordered)
    report(ordered, options.wait, options.as_json, status, time.monotonic() - started, out)
    return status


def _put_all(dav: Sender, items: list[Item], options: Options, bars: Bars) -> dict[str, FileResult]:
    bars.start_upload(sum(item.size for item in items), len(items))
    done: dict[str, FileResult] = {}
    with ThreadPoolExecutor(max_workers=options.jobs, thread_name_prefix="upload") as pool:
        futures = {pool.submit(_put_one, dav, item, options.wait, bars.sent): item for item in items}
        try:
            for future in as_completed(futures):
                result = future.result()
                done[result.path] = result
                bars.uploaded()
        finally:
            for future in futures:
                future.cancel()
    return done


def _put_one(dav: Sender, item: Item, wait: bool, on_bytes: Callable[[int], None]) -> FileResult:
    base = FileResult(str(item.local), item.path, item.size, "unreachable")
    try:
        put = dav.put(item.local, item.path, on_bytes)
    except gatewayhttp.Unreachable as exc:
        return replace(base, error=str(exc))
    except OSError as exc:  # removed or made unreadable since the plan was made
        return replace(base, state="unreadable", error=f"cannot read {item.local}: {exc.strerror or exc}")
    if put.status is None:
        return replace(base, sha256=put.sha256, error=put.error)
    if not put.stored:
        return replace(base, state="refused", http_status=put.status, sha256=put.sha256, error=put.error)
    stored = replace(base, http_status=put.status, sha256=put.sha256)
    if not wait:
        return replace(stored, state="uploaded")
    if put.sha256 == EMPTY_SHA256:
        # The gateway keeps an empty file as a placeholder and records no upload for it.
        return replace(stored, state="stored", error="empty: stored, but an empty file is never processed")
    return replace(stored, state="sent")


def _wait_all(poller: uploadwait.Poller, results: list[FileResult], options: Options,
              bars: Bars) -> dict[str, FileResult]:
    sent = {r.path: r.sha256 for r in results if r.state == "sent" and r.sha256}
    bars.start_waiting(len(sent))
    outcome = uploadwait.wait(poller, sent, options.timeout_s, lambda _path, _row: bars.processed(),
                              options.poll_s)
    by_path = {r.path: r for r in results}
    done = {path: _from_row(by_path[path], row) for path, row in outcome.final.items()}
    left = [path for path in sent if path not in done]
    for path in left:
        seen = outcome.seen.get(path)
        last = seen.get("state") if seen and seen.get("sha256") == sent[path] else "not recorded yet"
        state = "unreachable" if outcome.error else "waiting"
        done[path] = replace(by_path[path], state=state,
                             error=f"no result within {options.timeout_s:g} s (last state: {last})")
    if left:
        why = f"; the gateway stopped answering: {outcome.error}" if outcome.error else ""
        bars.note(f"gave up waiting after {options.timeout_s:g} s: {len(left)} of {len(sent)} "
                  f"uploads have no result yet{why}")
    return done


def _from_row(result: FileResult, row: uploadwait.Row) -> FileResult:
    return replace(result, state=str(row["state"]), upload_id=row.get("id"), lines=row.get("lines"),
                   converter=row.get("converter"), error=row.get("error"))
