"""Sign-in: configured users with Digest or Basic, read-only users, and no anonymous public gateway."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from requests.auth import HTTPBasicAuth, HTTPDigestAuth

from gateway.auth import AnonymousRemote, check_exposure, is_loopback, password_hash
from gateway.service import assemble
from spreadgate import settings
from tests.conftest import REPO
from tests.gateway.running import RunningGateway, embedded_daemon, running_gateway

USERS = {"alice": {"password_hash": password_hash("alice", "wonder land")},
         "rita": {"password_hash": password_hash("rita", "reader"), "read_only": True}}


@pytest.fixture
def gateway(tmp_path: Path) -> Iterator[RunningGateway]:
    with embedded_daemon() as daemon, running_gateway(tmp_path / "data", daemon.address, users=USERS) as gw:
        yield gw


@pytest.mark.parametrize("auth", [HTTPDigestAuth("alice", "wonder land"), HTTPBasicAuth("alice", "wonder land")],
                         ids=["digest", "basic"])
def test_a_configured_user_signs_in_with_digest_or_basic_and_writes(gateway: RunningGateway,
                                                                     auth: requests.auth.AuthBase) -> None:
    assert requests.put(f"{gateway.url}/in.doc", data=b"signed in", auth=auth, timeout=10).status_code == 201
    assert requests.get(f"{gateway.url}/in.doc", auth=auth, timeout=10).content == b"signed in"
    assert [r.path for r in gateway.settled()] == ["/in.doc"]


def test_without_credentials_the_gateway_asks_for_digest(gateway: RunningGateway) -> None:
    reply = requests.request("PROPFIND", f"{gateway.url}/", headers={"Depth": "1"}, timeout=10)
    assert reply.status_code == 401
    assert reply.headers["WWW-Authenticate"].startswith('Digest realm="spreadgate"')


@pytest.mark.parametrize("auth", [HTTPDigestAuth("alice", "wrong"), HTTPBasicAuth("alice", "wrong"),
                                  HTTPDigestAuth("mallory", "wonder land")], ids=["digest", "basic", "unknown"])
def test_a_wrong_password_or_unknown_user_gets_401_and_writes_nothing(gateway: RunningGateway,
                                                                       auth: requests.auth.AuthBase) -> None:
    assert requests.put(f"{gateway.url}/no.doc", data=b"no", auth=auth, timeout=10).status_code == 401
    assert not (gateway.share / "no.doc").exists()


def test_a_read_only_user_may_read_and_list_but_every_write_gets_403(gateway: RunningGateway) -> None:
    alice, rita = HTTPDigestAuth("alice", "wonder land"), HTTPDigestAuth("rita", "reader")
    requests.put(f"{gateway.url}/shared.doc", data=b"shared", auth=alice, timeout=10)
    assert requests.get(f"{gateway.url}/shared.doc", auth=rita, timeout=10).content == b"shared"
    listing = requests.request("PROPFIND", f"{gateway.url}/", headers={"Depth": "1"}, auth=rita, timeout=10)
    assert listing.status_code == 207 and "shared.doc" in listing.text
    for method, path, body in (("PUT", "/rita.doc", b"x"), ("DELETE", "/shared.doc", b""),
                               ("MKCOL", "/dir", b""), ("LOCK", "/shared.doc", b""),
                               ("POST", "/_/upload", b"")):
        reply = requests.request(method, f"{gateway.url}{path}", data=body, auth=rita, timeout=10)
        assert reply.status_code == 403, (method, reply.status_code)
    assert sorted(p.name for p in gateway.share.iterdir()) == ["shared.doc"]


def test_a_password_hash_is_made_by_the_helper_and_accepted_by_the_configuration(tmp_path: Path) -> None:
    made = subprocess.run([sys.executable, "-m", "gateway.auth", "bob"], input="s3cret\n", capture_output=True,
                          text=True, timeout=60, check=True, cwd=REPO)
    (tmp_path / "c.toml").write_text(made.stdout)
    [bob] = settings.load(tmp_path / "c.toml").users
    assert (bob.name, bob.password_hash, bob.read_only) == ("bob", password_hash("bob", "s3cret"), False)


def test_a_plain_text_password_or_unknown_user_key_is_a_configuration_error(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text('[users.eve]\npassword_hash = "hunter2"\npassword = "hunter2"\n')
    with pytest.raises(settings.ConfigError) as info:
        settings.load(path)
    text = "\n".join(info.value.problems)
    assert f"{path}: [users] eve.password_hash: expected 'digest-ha1:" in text
    assert f"{path}: [users] eve.password: unknown key" in text


@pytest.mark.parametrize(("host", "loopback"), [("127.0.0.1", True), ("::1", True), ("localhost", True),
                                                ("0.0.0.0", False), ("192.0.2.7", False)])
def test_only_loopback_addresses_count_as_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_a_public_address_without_users_is_refused_unless_explicitly_allowed(tmp_path: Path) -> None:
    public = settings.load(None, {"gateway_listen": "0.0.0.0:0", "gateway_data_dir": str(tmp_path)})
    with pytest.raises(AnonymousRemote, match="allow_anonymous_remote"):
        assemble(public)
    check_exposure(public.replace(gateway_allow_anonymous_remote=True))
    check_exposure(settings.load(None, {"gateway_listen": "0.0.0.0:0", "users": USERS}))


def test_the_gateway_command_refuses_to_start_anonymous_on_a_public_address(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "spreadgate", "gateway", "--listen", "0.0.0.0:0",
                             "--data-dir", str(tmp_path), "--spread", "1@127.0.0.1"],
                            capture_output=True, text=True, timeout=60, cwd=REPO, check=False)
    assert result.returncode == 2
    assert "refusing to listen on 0.0.0.0:0 without users" in result.stderr
    assert "gateway ready" not in result.stdout
