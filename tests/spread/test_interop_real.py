"""Interop with the real Spread 4.4 toolkit (§13 item 10, Appendix A).

Needs ``SPREAD_REAL_DIR``: a directory holding the real ``spread`` daemon, ``spuser`` and
``spflooder`` binaries built from the Spread 4.4.0 sources. Without it every test here is
skipped with that reason. Nothing here builds Spread.

* the Python client against a real daemon started for this module (classic snippet,
  membership, multi-group, SELF_DISCARD, size limits, Unix socket, handshake rejects);
* the real C tools (``spuser``, ``spflooder``) against the embedded daemon, with the real
  daemon as a control where that makes the comparison meaningful.
"""

from __future__ import annotations

import contextlib
import grp
import os
import pwd
import random
import re
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

import spread
from spread.daemon import Daemon, DaemonConfig

REAL_DIR = os.environ.get("SPREAD_REAL_DIR", "")
TOOLS = ("spread", "spuser", "spflooder")
WAIT = 10.0


def _why_skip() -> str | None:
    if not REAL_DIR:
        return "SPREAD_REAL_DIR is not set (a directory with the real Spread 4.4 spread, spuser, spflooder)"
    missing = [t for t in TOOLS if not os.access(Path(REAL_DIR) / t, os.X_OK)]
    if missing:
        return f"SPREAD_REAL_DIR={REAL_DIR} lacks executable {', '.join(missing)}"
    return None


pytestmark = [
    pytest.mark.interop,
    pytest.mark.skipif(_why_skip() is not None, reason=_why_skip() or ""),
]


def tool(name: str) -> str:
    return str(Path(REAL_DIR) / name)


def _free_port() -> int:
    """A port p with TCP p, UDP p and UDP p+1 free (the real daemon uses all three)."""
    for _ in range(200):
        p = random.randint(20000, 40000)
        socks = []
        try:
            for kind, port in (
                (socket.SOCK_STREAM, p),
                (socket.SOCK_DGRAM, p),
                (socket.SOCK_DGRAM, p + 1),
            ):
                s = socket.socket(socket.AF_INET, kind)
                socks.append(s)
                s.bind(("", port))
            if not os.path.exists(f"/tmp/{p}"):
                return p
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    raise RuntimeError("no free port")


@dataclass
class Endpoint:
    label: str
    port: int

    @property
    def address(self) -> str:
        return f"{self.port}@127.0.0.1"


def _connect_retry(address: str, deadline: float) -> None:
    while True:
        try:
            spread.connect(address, "", 0, 0).disconnect()
            return
        except spread.error:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


@pytest.fixture(scope="module")
def real(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Endpoint]:
    """A real Spread 4.4 daemon named ``localhost`` on a free loopback port."""
    port = _free_port()
    d = tmp_path_factory.mktemp("real-spread")
    conf = d / "spread.conf"
    conf.write_text(
        f"Spread_Segment 127.0.0.255:{port} {{\n\tlocalhost 127.0.0.1\n}}\n"
        f"DaemonUser = {pwd.getpwuid(os.getuid()).pw_name}\n"
        f"DaemonGroup = {grp.getgrgid(os.getgid()).gr_name}\n"
        f"RuntimeDir = {d}\n"
    )
    with open(d / "spread.log", "w") as log:
        proc = subprocess.Popen(
            [tool("spread"), "-n", "localhost", "-c", str(conf)],
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=d,
        )
    try:
        _connect_retry(f"{port}@127.0.0.1", time.monotonic() + 20)
        yield Endpoint("real", port)
        assert proc.poll() is None, (
            "the real daemon died during the tests:\n"
            + (d / "spread.log").read_text()[-2000:]
        )
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        with contextlib.suppress(OSError):
            os.unlink(f"/tmp/{port}")


@pytest.fixture
def embedded() -> Iterator[Endpoint]:
    """The embedded daemon on a free port, also on the Unix socket /tmp/<port> like the real one."""
    port = _free_port()
    dm = Daemon(DaemonConfig(port=port, unix_path=f"/tmp/{port}")).start()
    try:
        yield Endpoint("embedded", dm.port)
    finally:
        dm.stop()
        with contextlib.suppress(OSError):
            os.unlink(f"/tmp/{port}")


@pytest.fixture(params=["real", "embedded"])
def any_daemon(request: pytest.FixtureRequest) -> Endpoint:
    return request.getfixturevalue(request.param)


@pytest.fixture
def boxes() -> Iterator[Callable[..., spread.Mailbox]]:
    opened: list[spread.Mailbox] = []

    def connect(address: str, name: str = "", membership: int = 1) -> spread.Mailbox:
        box = spread.connect(address, name, 0, membership)
        opened.append(box)
        return box

    yield connect
    for box in opened:
        with contextlib.suppress(spread.error, OSError):
            box.disconnect()


def uniq(prefix: str) -> str:
    return f"{prefix}{random.randint(0, 9999)}"[:10]


def recv(box: spread.Mailbox, timeout: float = WAIT) -> spread.Message:
    return box.receive(timeout=timeout)


def nothing(box: spread.Mailbox, within: float = 0.3) -> None:
    with pytest.raises(TimeoutError):
        msg = box.receive(timeout=within)
        pytest.fail(f"unexpected {msg!r}")


# --------------------------------------------------------------------------- Python client → real daemon


def test_the_classic_snippet_works_against_the_real_daemon(real: Endpoint) -> None:
    c = spread.connect(real.address, "uploadp", 0, 0)
    try:
        assert c.private_group == "#uploadp#localhost"
        c.join("uploadfiles")
        c.multicast(spread.RELIABLE_MESS, "uploadfiles", b"data")
        m = c.receive(timeout=WAIT)
        assert isinstance(m, spread.RegularMsgType)
        assert (m.sender, m.groups, m.message, m.msg_type, m.endian) == (
            "#uploadp#localhost",
            ("uploadfiles",),
            b"data",
            0,
            0,
        )
    finally:
        c.disconnect()


def test_membership_notifications_from_the_real_daemon(
    real: Endpoint, boxes: Callable[..., spread.Mailbox]
) -> None:
    na, nb = uniq("ma"), uniq("mb")
    pa, pb = f"#{na}#localhost", f"#{nb}#localhost"
    g = uniq("grp")
    a, b = boxes(real.address, na), boxes(real.address, nb)
    a.join(g)
    m1 = recv(a)
    assert (
        isinstance(m1, spread.MembershipMsgType) and m1.reason == spread.CAUSED_BY_JOIN
    )
    assert (m1.group, m1.members, m1.changed_member, m1.extra) == (g, (pa,), pa, (pa,))
    assert (
        m1.group_id is not None
        and m1.group_id.index == 1
        and m1.group_id.proc_id == 0x7F000001
    )
    b.join(g)
    ja, jb = recv(a), recv(b)
    assert ja == jb
    assert isinstance(ja, spread.MembershipMsgType)
    assert ja.members == tuple(sorted((pa, pb))) and ja.changed_member == pb
    assert (
        ja.group_id is not None
        and ja.group_id.index == 2
        and ja.group_id != m1.group_id
    )
    b.leave(g)
    sl = recv(b)
    assert isinstance(sl, spread.MembershipMsgType) and sl.is_self_leave
    assert (sl.reason, sl.group, sl.members, sl.group_id) == (
        spread.CAUSED_BY_LEAVE,
        g,
        (),
        None,
    )
    lv = recv(a)
    assert isinstance(lv, spread.MembershipMsgType)
    assert (lv.reason, lv.members, lv.changed_member) == (
        spread.CAUSED_BY_LEAVE,
        (pa,),
        pb,
    )
    b.join(g)
    recv(a), recv(b)
    b.disconnect()
    dc = recv(a)
    assert isinstance(dc, spread.MembershipMsgType)
    assert (dc.reason, dc.members, dc.changed_member) == (
        spread.CAUSED_BY_DISCONNECT,
        (pa,),
        pb,
    )
    assert dc.group_id is not None and dc.group_id.index == 5


def test_multigroup_self_discard_and_private_groups_against_the_real_daemon(
    real: Endpoint, boxes: Callable[..., spread.Mailbox]
) -> None:
    g1, g2 = uniq("mg1"), uniq("mg2")
    a, b = boxes(real.address, uniq("ga"), 0), boxes(real.address, uniq("gb"), 0)
    a.join(g1)
    b.join(g1)
    b.join(g2)
    time.sleep(0.2)
    a.multigroup_multicast(spread.AGREED_MESS, (g1, g2), b"both", -3)
    for box in (a, b):
        m = recv(box)
        assert isinstance(m, spread.RegularMsgType)
        assert (m.groups, m.message, m.msg_type) == ((g1, g2), b"both", -3)
        nothing(box)  # exactly one copy
    a.multicast(spread.SAFE_MESS | spread.SELF_DISCARD, g1, b"not-me", 32767)
    m = recv(b)
    assert isinstance(m, spread.RegularMsgType) and (m.message, m.msg_type) == (
        b"not-me",
        32767,
    )
    nothing(a)
    a.multicast(spread.FIFO_MESS, b.private_group, b"direct", -32768)
    m = recv(b)
    assert isinstance(m, spread.RegularMsgType)
    assert (m.sender, m.groups, m.message, m.msg_type) == (
        a.private_group,
        (b.private_group,),
        b"direct",
        -32768,
    )
    nothing(a)


def test_the_largest_safe_message_goes_through_the_real_daemon(
    real: Endpoint, boxes: Callable[..., spread.Mailbox]
) -> None:
    """B = 143,151 is delivered; the client refuses 143,152 itself (the real daemon would crash, §9)."""
    g = uniq("big")
    a, b = boxes(real.address, uniq("bga"), 0), boxes(real.address, uniq("bgb"), 0)
    b.join(g)
    time.sleep(0.2)
    payload = bytes(i % 251 for i in range(143_119))
    a.multicast(spread.RELIABLE_MESS, g, payload)
    m = recv(b)
    assert isinstance(m, spread.RegularMsgType) and m.message == payload
    with pytest.raises(spread.MessageTooLong):
        a.multicast(spread.RELIABLE_MESS, g, payload + b"x")
    a.multicast(spread.RELIABLE_MESS, g, b"still alive")
    m = recv(b)
    assert isinstance(m, spread.RegularMsgType) and m.message == b"still alive"


def test_the_python_client_uses_the_real_daemons_unix_socket(real: Endpoint) -> None:
    c = spread.connect(str(real.port), "unixc", 0, 1)
    try:
        c.join("unixg")
        m = recv(c)
        assert isinstance(m, spread.MembershipMsgType) and m.members == (
            "#unixc#localhost",
        )
    finally:
        c.disconnect()


@pytest.mark.parametrize(
    "name,error",
    [
        ("abcdefghijk", spread.RejectIllegalName),
        ("a#b", spread.RejectIllegalName),
        ("a b", spread.RejectIllegalName),
    ],
)
def test_the_real_daemons_handshake_rejects_reach_the_python_client(
    real: Endpoint, name: str, error: type[spread.SpreadError]
) -> None:
    with pytest.raises(error):
        spread.connect(real.address, name, 0, 1)


def test_a_duplicate_name_is_refused_by_the_real_daemon(
    real: Endpoint, boxes: Callable[..., spread.Mailbox]
) -> None:
    name = uniq("dup")
    boxes(real.address, name)
    with pytest.raises(spread.RejectNotUnique):
        spread.connect(real.address, name, 0, 1)


def test_the_real_daemon_delivers_43_groups_but_silently_drops_44(
    real: Endpoint, boxes: Callable[..., spread.Mailbox]
) -> None:
    """Observed with 4.4.0: header + groups must fit one 1432-byte fragment (48 + 32*G <= 1432).

    A message naming 44..100 groups passes validation but reaches nobody, the sender included,
    and the session stays usable. The embedded daemon delivers up to 100 groups.
    """
    g = uniq("g43")
    a = boxes(real.address, uniq("ga"), 0)
    a.join(g)
    time.sleep(0.2)
    groups43 = (g, *(f"z{i}" for i in range(42)))
    a.multigroup_multicast(spread.RELIABLE_MESS, groups43, b"y" * 10_000)
    m = recv(a)
    assert isinstance(m, spread.RegularMsgType) and m.groups == groups43
    a.multigroup_multicast(spread.RELIABLE_MESS, (*groups43, "z42"), b"dropped")
    nothing(a, 1.0)
    a.multicast(spread.RELIABLE_MESS, g, b"after")
    m = recv(a)
    assert isinstance(m, spread.RegularMsgType) and m.message == b"after"


def test_sending_a_lot_while_receiving_does_not_deadlock(
    any_daemon: Endpoint, boxes: Callable[..., spread.Mailbox]
) -> None:
    """A joined sender of 1500 x 10 KiB reads its own copies in another thread (§5.4)."""
    g = uniq("flood")
    a = boxes(any_daemon.address, uniq("fa"), 0)
    a.join(g)
    time.sleep(0.2)
    n = 1500
    got: list[int] = []

    def reader() -> None:
        while len(got) < n:
            m = a.receive(timeout=30)
            if isinstance(m, spread.RegularMsgType):
                got.append(m.msg_type)

    t = threading.Thread(target=reader, daemon=True)
    t.start()
    for i in range(n):
        a.multicast(spread.AGREED_MESS, g, b"x" * 10_240, i % 30000)
    t.join(60)
    assert not t.is_alive() and got == [i % 30000 for i in range(n)]


def test_total_order_with_two_senders_through_the_real_daemon(
    real: Endpoint, boxes: Callable[..., spread.Mailbox]
) -> None:
    g = uniq("ord")
    s1, s2 = boxes(real.address, uniq("s1"), 0), boxes(real.address, uniq("s2"), 0)
    r1, r2 = boxes(real.address, uniq("r1"), 0), boxes(real.address, uniq("r2"), 0)
    r1.join(g)
    r2.join(g)
    time.sleep(0.3)
    for i in range(200):
        s1.multicast(spread.AGREED_MESS, g, b"a%d" % i)
        s2.multicast(spread.AGREED_MESS, g, b"b%d" % i)
    seq1 = [recv(r1).message for _ in range(400)]  # type: ignore[union-attr]
    seq2 = [recv(r2).message for _ in range(400)]  # type: ignore[union-attr]
    assert seq1 == seq2
    assert [m for m in seq1 if m.startswith(b"a")] == [b"a%d" % i for i in range(200)]


# --------------------------------------------------------------------------- real C tools → either daemon


class SpUser:
    """Drives the real ``spuser`` through its stdin and collects its stdout."""

    def __init__(self, address: str, name: str) -> None:
        self.p = subprocess.Popen(
            [tool("spuser"), "-u", name, "-s", address],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        os.set_blocking(self.p.stdout.fileno(), False)  # type: ignore[union-attr]
        self.out = b""

    def cmd(self, line: str) -> None:
        assert self.p.stdin is not None
        self.p.stdin.write(line.encode() + b"\n")
        self.p.stdin.flush()

    def wait_for(self, text: str, timeout: float = WAIT) -> str:
        deadline = time.monotonic() + timeout
        while text.encode() not in self.out:
            if time.monotonic() > deadline:
                pytest.fail(
                    f"spuser never printed {text!r}; output:\n{self.out.decode(errors='replace')}"
                )
            chunk = self.p.stdout.read()  # type: ignore[union-attr]
            if chunk:
                self.out += chunk
            else:
                time.sleep(0.05)
        return self.out.decode(errors="replace")

    def quit(self) -> int:
        self.cmd("q")
        return self.p.wait(WAIT)


def test_spuser_joins_multicasts_and_leaves(
    any_daemon: Endpoint, boxes: Callable[..., spread.Mailbox]
) -> None:
    g = uniq("spg")
    obs_name, su_name = uniq("obs"), uniq("spu")
    obs = boxes(any_daemon.address, obs_name)
    po, ps = f"#{obs_name}#localhost", f"#{su_name}#localhost"
    obs.join(g)
    first = recv(obs)
    assert isinstance(first, spread.MembershipMsgType)
    su = SpUser(any_daemon.address, su_name)
    su.wait_for(f"connected to {any_daemon.address} with private group {ps}")
    su.cmd(f"j {g}")
    j = recv(obs)
    assert isinstance(j, spread.MembershipMsgType)
    assert (j.reason, j.members, j.changed_member) == (
        spread.CAUSED_BY_JOIN,
        tuple(sorted((po, ps))),
        ps,
    )
    assert j.group_id is not None
    me = sorted((po, ps)).index(ps)
    out = su.wait_for(f"Due to the JOIN of {ps}")
    assert (
        f"Received REGULAR membership for group {g} with 2 members, where I am member {me}:"
        in out
    )
    gid = j.group_id
    assert f"grp id is {gid.proc_id} {gid.time} {gid.index}" in out  # SP_get_memb_info
    obs.multicast(spread.RELIABLE_MESS, g, b"hello spuser", 5)
    recv(obs)
    su.wait_for(
        f"received RELIABLE message from {po}, of type 5, (endian 0) to 1 groups \n(12 bytes): hello spuser"
    )
    su.cmd(f"s {g} other{g}")
    su.cmd("from spuser")
    m = recv(obs)
    assert isinstance(m, spread.RegularMsgType)
    assert (m.sender, m.groups, m.message, m.msg_type, m.endian) == (
        ps,
        (g, f"other{g}"),
        b"from spuser\n",
        1,
        0,
    )
    su.wait_for(f"received SAFE message from {ps}, of type 1")
    su.cmd(f"l {g}")
    lv = recv(obs)
    assert isinstance(lv, spread.MembershipMsgType)
    assert (lv.reason, lv.members, lv.changed_member) == (
        spread.CAUSED_BY_LEAVE,
        (po,),
        ps,
    )
    su.wait_for(f"received membership message that left group {g}")
    su.cmd(f"j {g}")
    recv(obs)
    assert su.quit() == 0
    dc = recv(obs)
    assert isinstance(dc, spread.MembershipMsgType)
    assert (dc.reason, dc.members, dc.changed_member) == (
        spread.CAUSED_BY_DISCONNECT,
        (po,),
        ps,
    )


def test_spuser_sees_a_python_clients_membership_changes(
    any_daemon: Endpoint, boxes: Callable[..., spread.Mailbox]
) -> None:
    g = uniq("spm")
    su_name, py_name = uniq("spu"), uniq("py")
    ps, pp = f"#{su_name}#localhost", f"#{py_name}#localhost"
    su = SpUser(any_daemon.address, su_name)
    su.wait_for("connected to")
    su.cmd(f"j {g}")
    su.wait_for(f"Due to the JOIN of {ps}")
    py = boxes(any_daemon.address, py_name)
    py.join(g)
    su.wait_for(f"Due to the JOIN of {pp}")
    py.leave(g)
    su.wait_for(f"Due to the LEAVE of {pp}")
    py.join(g)
    su.wait_for(f"Received REGULAR membership for group {g} with 2 members")
    py.disconnect()
    out = su.wait_for(f"Due to the DISCONNECT of {pp}")
    idx = [int(x) for x in re.findall(r"grp id is \d+ \d+ (\d+)", out)]
    assert idx == [1, 2, 3, 4, 5]
    assert su.quit() == 0


@pytest.mark.parametrize("size,n", [(1024, 2000), (100_000, 200)])
@pytest.mark.parametrize("via", ["tcp", "unix"])
def test_spflooder_reader_and_writer(
    any_daemon: Endpoint, size: int, n: int, via: str
) -> None:
    """Appendix A's setup, small: one ``-ro`` receiver, one ``-wo`` sender; the receiver gets all N."""
    address = any_daemon.address if via == "tcp" else str(any_daemon.port)
    tag = f"{size % 997}{random.randint(0, 999)}"
    flooder = [tool("spflooder"), "-m", str(n), "-b", str(size), "-s", address]
    # spflooder's stdout is block-buffered on a pipe: watch its join with a Python member instead
    watcher = spread.connect(any_daemon.address, uniq("w"), 0, 1)
    rx = subprocess.Popen(
        [*flooder, "-ro", "-u", f"br{tag}"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        watcher.join("flooder")
        while True:
            m = recv(watcher)
            if isinstance(m, spread.MembershipMsgType) and f"#br{tag}#localhost" in m.members:
                break
        watcher.disconnect()  # rx counts this notification among its N, as it counts its own join
        t0 = time.perf_counter()
        tx = subprocess.run(
            [*flooder, "-wo", "-u", f"bs{tag}"],
            check=False,
            capture_output=True,
            text=True,
            timeout=120,
        )
        out, _ = rx.communicate(timeout=120)
        elapsed = time.perf_counter() - t0
    finally:
        with contextlib.suppress(spread.error, OSError):
            watcher.disconnect()
        if rx.poll() is None:
            rx.kill()
            rx.wait()
    assert tx.returncode == 0, tx.stdout
    assert (
        rx.returncode == 0
        and f"completed multicast of {n} messages, {size} bytes each" in out
    ), out[-500:]
    print(
        f"{any_daemon.label}/{via}: {n} x {size} B in {elapsed:.2f}s = {n / elapsed:.0f} msgs/s"
    )
