"""Who may use the gateway: configured users (Digest and Basic), read-only users, anonymous on loopback.

A user's ``password_hash`` is the HTTP Digest HA1 for the realm
:data:`REALM`, ``md5("name:spreadgate:password")`` (RFC 7616, MD5): it lets
WsgiDAV check Digest without the password, and Basic by hashing the password
the client sent.  Make one with ``python -m gateway.auth NAME``.
"""

from __future__ import annotations

import getpass
import hashlib
import hmac
import ipaddress
import socket
import sys
from collections.abc import Callable, Iterable
from typing import Any

from wsgidav.dc.base_dc import BaseDomainController  # type: ignore[import-untyped]
from wsgidav.mw.base_mw import BaseMiddleware  # type: ignore[import-untyped]

from spreadgate.settings import Settings, User

REALM = "spreadgate"
HASH_PREFIX = "digest-ha1:"
# What a read-only user may do; everything else changes the share or its locks.
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PROPFIND"})


class AuthError(Exception):
    """The gateway's authentication setup cannot be used."""


class AnonymousRemote(AuthError):
    """Refusal to serve a non-loopback address to anyone without a password."""


def ha1(name: str, password: str) -> str:
    return hashlib.md5(f"{name}:{REALM}:{password}".encode()).hexdigest()


def password_hash(name: str, password: str) -> str:
    """The ``password_hash`` value for the configuration file."""
    return HASH_PREFIX + ha1(name, password)


def is_loopback(host: str) -> bool:
    """True when ``host`` (an address or a name) only ever reaches this machine."""
    try:
        infos = socket.getaddrinfo(host or None, None)
    except socket.gaierror:
        return False
    return bool(infos) and all(ipaddress.ip_address(str(i[4][0]).split("%")[0]).is_loopback for i in infos)


def check_exposure(settings: Settings) -> None:
    """Raise :class:`AnonymousRemote` for a non-loopback address with no users, unless allowed."""
    host = settings.listen[0]
    if settings.users or settings.gateway_allow_anonymous_remote or is_loopback(host):
        return
    raise AnonymousRemote(
        f"refusing to listen on {settings.gateway_listen} without users: anyone who can reach it "
        "could read and write the share. Add a [users.<name>] table (python -m gateway.auth NAME "
        "prints its password_hash), listen on 127.0.0.1, or set [gateway] "
        "allow_anonymous_remote = true.")


class UserDomainController(BaseDomainController):  # type: ignore[misc]
    """WsgiDAV domain controller over ``[users]``; with none configured, access is anonymous."""

    def __init__(self, wsgidav_app: Any, config: dict[str, Any]) -> None:
        super().__init__(wsgidav_app, config)
        settings: Settings = config["spreadgate"].settings
        self.users = {user.name: user for user in settings.users}

    def get_domain_realm(self, path_info: str, environ: dict[str, Any] | None) -> str:
        return REALM

    def require_authentication(self, realm: str, environ: dict[str, Any] | None) -> bool:
        return bool(self.users)

    def basic_auth_user(self, realm: str, user_name: str, password: str,
                        environ: dict[str, Any]) -> bool:
        user = self.users.get(user_name)
        return user is not None and hmac.compare_digest(user.password_hash,
                                                        password_hash(user_name, password))

    def supports_http_digest_auth(self) -> bool:
        return True

    def digest_auth_user(self, realm: str, user_name: str, environ: dict[str, Any]) -> str | bool:
        user = self.users.get(user_name)
        return False if user is None else user.password_hash[len(HASH_PREFIX):]


class ReadOnlyGuard(BaseMiddleware):  # type: ignore[misc]
    """Middleware after the authenticator: read-only users get 403 for every write."""

    def __init__(self, wsgidav_app: Any, next_app: Callable[..., Iterable[bytes]],
                 config: dict[str, Any]) -> None:
        super().__init__(wsgidav_app, next_app, config)
        users: Iterable[User] = config["spreadgate"].settings.users
        self.read_only = {user.name for user in users if user.read_only}

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        user = environ.get("wsgidav.auth.user_name")
        if user in self.read_only and environ["REQUEST_METHOD"] not in READ_METHODS:
            body = f"403 Forbidden: {user} may only read\n".encode()
            start_response("403 Forbidden", [("Content-Type", "text/plain; charset=utf-8"),
                                             ("Content-Length", str(len(body)))])
            return [body]
        return self.next_app(environ, start_response)  # type: ignore[no-any-return]


def main(argv: list[str] | None = None) -> int:
    """``python -m gateway.auth NAME``: print a ``[users.NAME]`` table for the password typed."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m gateway.auth NAME  (the password is read from the terminal or stdin)",
              file=sys.stderr)
        return 2
    password = getpass.getpass() if sys.stdin.isatty() else sys.stdin.readline().rstrip("\n")
    print(f'[users.{args[0]}]\npassword_hash = "{password_hash(args[0], password)}"\nread_only = false')
    return 0


if __name__ == "__main__":
    sys.exit(main())
