"""Fuzzing the path mapping and the upload form: nothing ever lands outside the share."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.orm import sessionmaker

from gateway.intake import TEMP_PREFIX, Intake
from tests.hostile.fuzzing import fuzz, fuzz_gateway
from tests.hostile.kit import SECRET, Target, target

SEGMENTS = st.sampled_from(["", ".", "..", "...", "a", "link", "%2e%2e", "..\\..", "\0", "~", "..%2f",
                            "\u2025", "\uff0e\uff0e", "\xc0\xae"]) | st.text(max_size=6)
share_paths = st.lists(SEGMENTS, max_size=6).map("/".join) | st.text(max_size=30)


@pytest.fixture(scope="module")
def intake(tmp_path_factory: pytest.TempPathFactory) -> Intake:
    data_dir = tmp_path_factory.mktemp("resolve")
    made = Intake(data_dir, sessionmaker())
    # A symbolic link inside the share that points out of it: resolve must not follow it out.
    os.symlink(data_dir, made.share / "link")
    return made


@fuzz
@given(share_paths)
def test_resolving_any_string_names_a_file_inside_the_share_or_raises(intake: Intake, path: str) -> None:
    try:
        found = intake.resolve(path)
    except ValueError:
        return
    assert found.resolve().is_relative_to(intake.share)
    assert found != intake.share


B = "sgfuzz"
names = st.text(st.characters(blacklist_characters='"\r\n'), max_size=20) | st.sampled_from(
    ["..", "../x", "/etc/passwd", "a\\..\\..\\x", "\x00", "C:\\x", "_", "%2e%2e", ".sg-upload-x"])
dispositions = st.sampled_from(['form-data; name="file"; filename="{}"', 'form-data; name="folder"',
                                'form-data; name="file"; filename={}', "attachment; filename={}",
                                'form-data; name="{}"', "{}"])


def part(disposition: str, name: str, data: bytes) -> bytes:
    head = f"--{B}\r\nContent-Disposition: {disposition.format(name)}\r\n\r\n"
    return head.encode("utf-8", "surrogatepass") + data + b"\r\n"


form_bodies = st.builds(lambda parts, end, cut: (b"".join(parts) + (f"--{B}--\r\n".encode() if end else b""))
                        [:cut], st.lists(st.builds(part, dispositions, names, st.binary(max_size=30)), max_size=4),
                        st.booleans(), st.none() | st.integers(0, 400))


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    with target(tmp_path_factory.mktemp("fuzzform")) as running:
        before = running.outside()
        yield running
        assert running.outside() == before
        assert running.sentinel.read_bytes() == SECRET


def files_in(share: Path) -> set[Path]:
    return {p for p in share.rglob("*") if p.is_file()}


@fuzz_gateway
@given(form_bodies)
def test_any_form_body_gets_a_known_answer_and_a_refusal_leaves_nothing(site: Target, body: bytes) -> None:
    before = files_in(site.share)
    status, answer = site.send("POST", "/_/upload", body, "Accept: application/json\r\n"
                               f"Content-Type: multipart/form-data; boundary={B}\r\n")
    assert status in (201, 400, 413, 415), answer
    after = files_in(site.share)
    assert not [p for p in after if p.name.startswith(TEMP_PREFIX)]
    if status != 201:
        assert after <= before, answer
