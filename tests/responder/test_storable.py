"""Shaping text to what every engine stores: pure rules, no database."""

from __future__ import annotations

import pytest

from responder.storable import (
    Fitted,
    clean,
    fit,
    head_bytes,
    mysql_escaped_size,
    mysql_text_budget,
)


@pytest.mark.parametrize(("raw", "cleaned"), [
    ("plain", "plain"), ("a\0b", "ab"), ("\0\0", ""), ("x\ud800y", "x?y"), ("中文\n", "中文\n"),
])
def test_cleaning_removes_nul_and_unencodable_surrogates_only(raw: str, cleaned: str) -> None:
    assert clean(raw) == cleaned


@pytest.mark.parametrize(("value", "limit", "head"), [
    ("abc", 3, "abc"), ("abc", 2, "ab"), ("üü", 3, "ü"), ("📄x", 3, ""), ("📄x", 4, "📄"), ("", 0, ""),
])
def test_a_head_in_bytes_never_splits_a_character(value: str, limit: int, head: str) -> None:
    assert head_bytes(value, limit) == head


@pytest.mark.parametrize(("data", "size"), [
    (b"abc", 3), (b"a\nb", 4), (b"'\"\\", 6), (b"\0\r\x1a", 6), ("ü".encode(), 2),
])
def test_the_escaped_size_counts_each_byte_mysql_drivers_escape_twice(data: bytes, size: int) -> None:
    assert mysql_escaped_size(data) == size


def test_text_within_every_limit_is_kept_whole() -> None:
    assert fit("one\ntwo\n", 100, 100) == Fitted("one\ntwo\n")


def test_text_over_the_cap_keeps_its_head_and_its_original_size() -> None:
    assert fit("abcdef", 4) == Fitted("abcd", 6)


@pytest.mark.parametrize("text", ["\n" * 1000, "a\n" * 500, "'" * 999 + "a", "x" * 1000, "ü\n" * 400],
                         ids=["newlines", "half", "quotes", "plain", "two-byte"])
def test_a_cut_for_mysql_fits_the_escaped_budget_and_wastes_almost_none_of_it(text: str) -> None:
    budget = 301
    fitted = fit(text, 10_000, budget)
    kept = fitted.text.encode()
    assert text.startswith(fitted.text) and fitted.cut_from == len(text.encode())
    assert budget - 4 <= mysql_escaped_size(kept) <= budget


def test_the_mysql_budget_leaves_room_for_the_rest_of_the_statement() -> None:
    assert mysql_text_budget(16 * 1024 * 1024) == 16 * 1024 * 1024 - 64 * 1024
    assert mysql_text_budget(100_000) == 50_000
