"""Total order across senders, receivers and membership events (§8, §13 item 8)."""

from __future__ import annotations

import threading
from collections.abc import Callable

import spread

from .helpers import WAIT, wait_for

Connect = Callable[..., spread.Mailbox]
PER_SENDER = 300


def test_all_receivers_see_the_same_interleaving_of_several_senders(
    connect: Connect,
) -> None:
    receivers = [connect(f"r{i}", 0) for i in range(3)]
    for r in receivers:
        r.join("ord")
    senders = [connect(f"s{i}", 0) for i in range(3)]
    for r in receivers:  # every join applied before any data
        r.multicast(spread.AGREED_MESS, r.private_group, b"sync")
        wait_for(r, lambda m: getattr(m, "message", None) == b"sync")

    def blast(box: spread.Mailbox, tag: int) -> None:
        for i in range(PER_SENDER):
            box.multicast(
                spread.AGREED_MESS, "ord", bytes([tag]) + i.to_bytes(4, "big")
            )

    threads = [
        threading.Thread(target=blast, args=(s, i)) for i, s in enumerate(senders)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(WAIT)
    sequences = []
    for r in receivers:
        seq = [r.receive(timeout=WAIT).message for _ in range(3 * PER_SENDER)]  # type: ignore[union-attr]
        sequences.append(seq)
    assert sequences[0] == sequences[1] == sequences[2]
    for tag in range(3):  # each sender's FIFO order is kept
        mine = [int.from_bytes(m[1:], "big") for m in sequences[0] if m[0] == tag]
        assert mine == list(range(PER_SENDER))


def test_membership_events_are_sequenced_with_data_the_same_way_for_everyone(
    connect: Connect,
) -> None:
    a, b = connect("a"), connect("b")
    a.join("mix")
    b.join("mix")
    for box in (a, b):  # both joins applied before any data
        wait_for(
            box,
            lambda m: isinstance(m, spread.MembershipMessage) and len(m.members) == 2,
        )
    joiner = connect("j")
    sender = connect("s", 0)

    def blast() -> None:
        for i in range(200):
            sender.multicast(spread.AGREED_MESS, "mix", i.to_bytes(2, "big"))

    t = threading.Thread(target=blast)
    t.start()
    joiner.join("mix")
    joiner.leave("mix")
    t.join(WAIT)

    def trace(box: spread.Mailbox) -> list[object]:
        out: list[object] = []
        while len(out) < 202:  # 200 data messages, the join and the leave of j
            m = box.receive(timeout=WAIT)
            if isinstance(m, spread.RegularMessage):
                out.append(m.message)
            elif "#j#localhost" in (m.changed_member or ""):
                out.append((m.service_type, m.group_id))
        return out

    ta, tb = trace(a), trace(b)
    assert ta == tb
    assert sum(not isinstance(x, bytes) for x in ta) == 2  # the join and the leave of j


def test_a_joiner_never_receives_messages_sent_before_its_join(
    connect: Connect,
) -> None:
    early = connect("e", 0)
    early.join("late")
    early.multicast(spread.AGREED_MESS, early.private_group, b"sync")
    wait_for(early, lambda m: getattr(m, "message", None) == b"sync")
    for _ in range(100):
        early.multicast(spread.AGREED_MESS, "late", b"before")
    early.multicast(spread.AGREED_MESS, early.private_group, b"applied")
    wait_for(early, lambda m: getattr(m, "message", None) == b"applied")
    joiner = connect("j", 1)
    joiner.join("late")
    first = joiner.receive(timeout=WAIT)
    assert (
        isinstance(first, spread.MembershipMessage)
        and first.changed_member == "#j#localhost"
    )
    early.multicast(spread.AGREED_MESS, "late", b"after")
    second = joiner.receive(timeout=WAIT)
    assert isinstance(second, spread.RegularMessage) and second.message == b"after"
