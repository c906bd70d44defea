"""The work-sharing rule and the attempt bookkeeping of the receiver, as plain logic."""

from __future__ import annotations

from collections import Counter

from processor.receiver import Newest, View
from spreadgate.wire import Envelope, FileHeader, Kind

HEADER = FileHeader("/a.doc", "a.doc", "application/msword", 1, "0" * 64, 1)


def view_of(me: str, *members: str) -> View:
    view = View()
    view.me, view.members = me, members
    return view


def test_the_owner_is_picked_from_the_sorted_members_without_the_sender() -> None:
    view = view_of("#p2#h", "#p3#h", "#gw#h", "#p1#h", "#p2#h")
    assert [view.owner("#gw#h", upload_id) for upload_id in range(4)] == ["#p1#h", "#p2#h", "#p3#h", "#p1#h"]


def test_every_member_agrees_and_each_upload_has_exactly_one_owner() -> None:
    members = ("#p1#h", "#p2#h", "#p3#h", "#gw#h")
    views = [view_of(me, *members) for me in members if me != "#gw#h"]
    owners: Counter[int] = Counter()
    for upload_id in range(1, 301):
        env = Envelope(Kind.FILE, upload_id, 1, 0, False, b"")
        owners.update(upload_id for view in views if view.owns("#gw#h", env, HEADER))
    assert owners == Counter(range(1, 301))


def test_a_processor_that_is_not_in_the_view_owns_nothing() -> None:
    view = view_of("#p9#h", "#p1#h")
    env = Envelope(Kind.FILE, 1, 1, 0, False, b"")
    assert not view.owns("#gw#h", env, HEADER) and view.owner("#p1#h", 1) is None


def test_an_older_attempt_is_superseded_once_a_newer_one_is_spooled() -> None:
    newest = Newest()
    newest.note(7, 2)
    newest.note(7, 1)  # a late older attempt does not roll it back
    assert (newest.superseded(7, 1), newest.superseded(7, 2), newest.superseded(8, 1)) == (True, False, False)
