"""PUT throughput of ``spreadgate up`` against stock WsgiDAV, nginx's WebDAV module and the disk itself.

Cases: one large PUT (512 MiB), and 500 PUTs of 64 KiB over one keep-alive connection and over
8 concurrent keep-alive connections. Bodies are generated in 64 KiB blocks as they are sent. After
every run the stored files are checked on disk (count and size) and then removed. For spreadgate,
each run waits for the forwarding/processing backlog of the previous one to drain first, so runs
do not overlap (the work a run starts still happens during that run, as it would in use).

    .venv/bin/python bench/put_throughput.py [--quick] [--runs 3] [--targets spreadgate,wsgidav,nginx,dd]
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import secrets
import struct
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from spreadgate.supervisor import free_port

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (
    BLOCK,
    MB,
    PYTHON,
    ROOT,
    Row,
    Server,
    ServerError,
    blocks,
    list_uploads,
    save_rows,
    summary,
    table,
)

SMALL = 64 * 1024
CONNECTIONS = 8
SETTLE_DEADLINE_S = 600.0
STALL_S = 10.0
STALL_RECEIVED_S = 120.0
FINAL = ("processed", "failed")
NGINX_DAV_MODULE = "/usr/lib/nginx/modules/ngx_http_dav_ext_module.so"
LABELS = {"spreadgate": "spreadgate", "wsgidav": "stock WsgiDAV", "nginx": "nginx dav", "dd": "disk (dd, fsync)"}


@dataclass
class Target:
    """A running server: where to send PUTs and where the files land on disk."""

    name: str
    port: int
    store: Path
    settle: Callable[[], str]


# --- servers -------------------------------------------------------------------------------------
def spreadgate_server(work: Path, log: Path) -> tuple[Server, Path]:
    port, spread_port = free_port(), free_port()
    data = work / "data"
    argv = [PYTHON, "-m", "spreadgate", "up", "--data-dir", str(data), "--listen", f"127.0.0.1:{port}",
            "--spread-port", str(spread_port)]
    return Server("spreadgate up", argv, port, ready_prefix="spreadgate is up:", cwd=str(ROOT), log_path=log), data


def wsgidav_server(work: Path, log: Path) -> Server:
    port = free_port()
    argv = [PYTHON, str(Path(__file__).with_name("stock_wsgidav.py")), str(work / "share"), str(port)]
    return Server("stock WsgiDAV", argv, port, ready_prefix="stock wsgidav ready", log_path=log)


NGINX_CONF = """\
load_module {module};
worker_processes auto;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log;
events {{ worker_connections 256; }}
http {{
    access_log off;
    client_body_temp_path {prefix}/body_temp;
    proxy_temp_path {prefix}/proxy_temp;
    fastcgi_temp_path {prefix}/fastcgi_temp;
    uwsgi_temp_path {prefix}/uwsgi_temp;
    scgi_temp_path {prefix}/scgi_temp;
    server {{
        listen 127.0.0.1:{port};
        root {root};
        location / {{
            dav_methods PUT DELETE MKCOL COPY MOVE;
            dav_ext_methods PROPFIND OPTIONS;
            create_full_put_path on;
            client_max_body_size 0;
        }}
    }}
}}
"""


def nginx_server(work: Path, log: Path) -> Server:
    port = free_port()
    prefix = work / "nginx"
    prefix.mkdir()
    share = work / "share"
    # The workers run as an unprivileged user when nginx is started as root.
    work.chmod(0o755)
    for folder in (prefix, share):
        folder.chmod(0o777)
    conf = prefix / "nginx.conf"
    conf.write_text(NGINX_CONF.format(module=NGINX_DAV_MODULE, prefix=prefix, port=port, root=share))
    argv = ["nginx", "-c", str(conf), "-p", str(prefix), "-e", str(prefix / "error.log"), "-g", "daemon off;"]
    return Server("nginx", argv, port, log_path=log)


def no_settle() -> str:
    return ""


def spreadgate_settle(port: int) -> Callable[[], str]:
    """Waits until every upload has a result, or until nothing has changed state for a while."""
    def settle() -> str:
        start = changed = time.monotonic()
        last: dict[str, int] = {}
        while time.monotonic() - start < SETTLE_DEADLINE_S:
            counts = Counter(str(u["state"]) for u in list_uploads(port))
            if not set(counts) - set(FINAL):
                return f"backlog drained in {time.monotonic() - start:.1f} s"
            if counts != last:
                last, changed = counts, time.monotonic()
            # A row still 'received' may be streaming out right now (a large file takes a while).
            elif time.monotonic() - changed > (STALL_RECEIVED_S if counts.get("received") else STALL_S):
                return f"backlog stalled: {dict(counts)}"
            time.sleep(0.5)
        return f"backlog NOT drained after {SETTLE_DEADLINE_S:.0f} s: {dict(last)}"
    return settle


@contextmanager
def running(name: str, work: Path) -> Iterator[Target]:
    share = work / "share"
    share.mkdir(parents=True)
    log = work / f"{name}.log"
    if name == "spreadgate":
        server, data = spreadgate_server(work, log)
        store = data / "share"
    else:
        server = wsgidav_server(work, log) if name == "wsgidav" else nginx_server(work, log)
        store = share
    with server:
        server.start()
        settle = spreadgate_settle(server.port) if name == "spreadgate" else no_settle
        yield Target(name, server.port, store, settle)


# --- clients -------------------------------------------------------------------------------------
class UploadError(RuntimeError):
    """A PUT was refused or did not store what was sent."""


def put_stream(port: int, path: str, total: int, block: bytes) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    try:
        conn.putrequest("PUT", path)
        conn.putheader("Content-Length", str(total))
        conn.putheader("Content-Type", "application/octet-stream")
        conn.endheaders()
        for piece in blocks(total, block):
            conn.send(piece)
        resp = conn.getresponse()
        answer = resp.read()
        if resp.status not in (200, 201, 204):
            raise UploadError(f"PUT {path}: {resp.status} {answer[:200]!r}")
    finally:
        conn.close()


def put_many(port: int, paths: list[str], base: bytes, indices: list[int]) -> None:
    """PUT ``paths[i]`` for each i in ``indices`` over one keep-alive connection; each body unique."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    headers = {"Content-Type": "application/octet-stream"}
    try:
        for i in indices:
            conn.request("PUT", paths[i], body=struct.pack(">Q", i) + base[8:], headers=headers)
            resp = conn.getresponse()
            answer = resp.read()
            if resp.status not in (200, 201, 204):
                raise UploadError(f"PUT {paths[i]}: {resp.status} {answer[:200]!r}")
    finally:
        conn.close()


def put_concurrent(port: int, paths: list[str], base: bytes, connections: int) -> float:
    """Seconds for ``connections`` threads, each with its own keep-alive connection, to PUT every path."""
    errors: list[BaseException] = []
    gate = threading.Barrier(connections + 1)

    def work(lane: int) -> None:
        try:
            gate.wait(30)
            put_many(port, paths, base, list(range(lane, len(paths), connections)))
        except (OSError, UploadError, http.client.HTTPException, threading.BrokenBarrierError) as exc:
            # reported by the main thread
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(lane,)) for lane in range(connections)]
    for thread in threads:
        thread.start()
    gate.wait(30)
    start = time.perf_counter()
    for thread in threads:
        thread.join(600)
    elapsed = time.perf_counter() - start
    if errors:
        raise UploadError(f"{len(errors)} connection(s) failed; first: {errors[0]}")
    return elapsed


def check_stored(store: Path, names: list[str], size: int) -> None:
    wrong = [n for n in names if not (store / n).is_file() or (store / n).stat().st_size != size]
    if wrong:
        raise UploadError(f"{len(wrong)} of {len(names)} files missing or of the wrong size on disk, e.g. {wrong[0]}")


def tidy(target: Target, names: list[str]) -> None:
    """Removes what a run stored, except from spreadgate, whose own bookkeeping still refers to it
    (and whose blob store keeps the bytes anyway); everything goes with the temporary folder."""
    if target.name != "spreadgate":
        remove(target.store, names)


def remove(store: Path, names: list[str]) -> None:
    for name in names:
        (store / name).unlink(missing_ok=True)


# --- cases ---------------------------------------------------------------------------------------
def big_put(target: Target, run: int, total: int) -> float:
    name = f"big-{run}.bin"
    block = secrets.token_bytes(BLOCK)
    start = time.perf_counter()
    put_stream(target.port, "/" + name, total, block)
    elapsed = time.perf_counter() - start
    check_stored(target.store, [name], total)
    tidy(target, [name])
    return total / elapsed / MB


def small_puts(target: Target, run: int, count: int, connections: int) -> float:
    names = [f"s{connections}-{run}-{i:04d}.bin" for i in range(count)]
    paths = ["/" + n for n in names]
    base = secrets.token_bytes(SMALL)
    if connections == 1:
        start = time.perf_counter()
        put_many(target.port, paths, base, list(range(count)))
        elapsed = time.perf_counter() - start
    else:
        elapsed = put_concurrent(target.port, paths, base, connections)
    check_stored(target.store, names, SMALL)
    tidy(target, names)
    return count / elapsed


def dd_mb_s(work: Path, block: str, count: int) -> float:
    out = work / "dd.bin"
    done = subprocess.run(["dd", "if=/dev/zero", f"of={out}", f"bs={block}", f"count={count}", "conv=fdatasync"],
                          capture_output=True, text=True, timeout=600, check=True)
    out.unlink()
    match = re.search(r"^(\d+) bytes .* copied, ([\d.,]+) s", done.stderr, re.MULTILINE)
    if match is None:
        raise RuntimeError(f"unexpected dd output: {done.stderr}")
    return int(match.group(1)) / float(match.group(2).replace(",", ".")) / MB


def durable_files(work: Path, count: int, threads: int) -> float:
    """Files/s for writing ``count`` 64 KiB files durably (fsync file, rename, fsync folder), no HTTP."""
    base = secrets.token_bytes(SMALL)

    def lane(first: int) -> None:
        for i in range(first, count, threads):
            temp, final = work / f".tmp-{i}", work / f"f{i:04d}.bin"
            with temp.open("wb") as handle:
                handle.write(struct.pack(">Q", i) + base[8:])
                handle.flush()
                os.fsync(handle.fileno())
            temp.replace(final)
            folder = os.open(work, os.O_RDONLY | os.O_DIRECTORY)
            try:
                os.fsync(folder)
            finally:
                os.close(folder)

    workers = [threading.Thread(target=lane, args=(n,)) for n in range(threads)]
    start = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(600)
    elapsed = time.perf_counter() - start
    check_stored(work, [f"f{i:04d}.bin" for i in range(count)], SMALL)
    remove(work, [f"f{i:04d}.bin" for i in range(count)])
    return count / elapsed


def measure_durable(runs: int, rows: list[Row], count: int) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-fsync-") as tmp:
        for threads in (1, CONNECTIONS):
            values = [durable_files(Path(tmp), count, threads) for _ in range(runs)]
            print(f"  durable 64 KiB files, {threads} thread(s): {[round(v) for v in values]} files/s", flush=True)
            case = f"PUT {count} × 64 KiB, " + ("1 keep-alive conn" if threads == 1 else f"{CONNECTIONS} keep-alive conns")
            rows.append(Row(case, "disk (fsync per file)", "files/s", values, [],
                            f"no HTTP: write, fsync, rename, fsync folder; {threads} thread(s)"))


# --- driver --------------------------------------------------------------------------------------
def measure_server(name: str, runs: int, big: int, count: int, rows: list[Row]) -> None:
    label = LABELS[name]
    refs = {"spreadgate": ["nginx dav", "stock WsgiDAV"], "wsgidav": ["nginx dav"], "nginx": []}[name]
    big_case, ka_case, conc_case = (f"PUT 1 × {big // 2**20} MiB", f"PUT {count} × 64 KiB, 1 keep-alive conn",
                                    f"PUT {count} × 64 KiB, {CONNECTIONS} keep-alive conns")
    big_refs = refs if name == "wsgidav" else [*refs, "disk (dd)"]
    cases: list[tuple[str, str, Callable[[Target, int], float], list[str]]] = [
        (big_case, "MB/s", lambda t, r: big_put(t, r, big), big_refs),
        (ka_case, "files/s", lambda t, r: small_puts(t, r, count, 1), refs),
        (conc_case, "files/s", lambda t, r: small_puts(t, r, count, CONNECTIONS), refs)]
    with tempfile.TemporaryDirectory(prefix=f"bench-put-{name}-") as tmp:
        try:
            with running(name, Path(tmp)) as target:
                for case, unit, measure, references in cases:
                    values: list[float] = []
                    notes: list[str] = []
                    for run in range(runs):
                        notes.append(target.settle())
                        values.append(measure(target, run))
                        print(f"  {label:14} {case:40} run {run + 1}: {values[-1]:,.1f} {unit}", flush=True)
                    undrained = [n for n in notes if "NOT" in n or "stalled" in n][-1:]
                    rows.append(Row(case, label, unit, values, references,
                                    "; ".join(["stored size checked", *undrained])))
        except (ServerError, UploadError, OSError, RuntimeError, ValueError, KeyError) as exc:
            print(f"  {label}: NOT MEASURED: {exc}", flush=True)
            for case, unit, _, references in cases:
                if not any(r.case == case and r.target == label for r in rows):
                    rows.append(Row(case, label, unit, [], references, f"not measured: {summary(exc)}"))


def measure_dd(runs: int, rows: list[Row], big: int) -> None:
    """dd at 64 KiB blocks (the ceiling) and at 256 KiB and 1 MiB, in a rotating order."""
    variants = [("64k", 64 * 1024), ("256k", 256 * 1024), ("1M", 2**20)]
    values: dict[str, list[float]] = {block: [] for block, _ in variants}
    with tempfile.TemporaryDirectory(prefix="bench-dd-") as tmp:
        for run in range(runs):
            # Rotated each run: on these disks the position in the sequence matters as much as the size.
            for block, size in variants[run % 3:] + variants[: run % 3]:
                values[block].append(dd_mb_s(Path(tmp), block, big // size))
    case = f"PUT 1 × {big // 2**20} MiB"
    for block, size in variants:
        print(f"  dd bs={block}: {[round(v) for v in values[block]]} MB/s", flush=True)
        ceiling = block == "64k"
        rows.append(Row(case, "disk (dd)" if ceiling else f"disk (dd bs={block})", "MB/s", values[block],
                        [] if ceiling else ["disk (dd)"],
                        f"dd if=/dev/zero bs={block} count={big // size} conv=fdatasync"
                        + ("; the ceiling" if ceiling else "; block-size check")))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="64 MiB and 100 files: a smoke pass")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--targets", default="dd,nginx,wsgidav,spreadgate")
    parser.add_argument("--json", help="also write the rows to this file (for run_all.py)")
    args = parser.parse_args(argv)
    big, count = (64 * 2**20, 100) if args.quick else (512 * 2**20, 500)
    rows: list[Row] = []
    for name in args.targets.split(","):
        print(f"{LABELS[name]} …", flush=True)
        if name == "dd":
            measure_dd(args.runs, rows, big)
            measure_durable(args.runs, rows, count)
        else:
            measure_server(name, args.runs, big, count, rows)
    order = {c: i for i, c in enumerate(dict.fromkeys(r.case for r in rows))}
    rows.sort(key=lambda r: order[r.case])
    print(table(rows))
    save_rows(args.json, rows, {"title": "PUT throughput", "runs": args.runs, "quick": args.quick})
    return 0


if __name__ == "__main__":
    sys.exit(main())
