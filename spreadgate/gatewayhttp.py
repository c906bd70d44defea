"""What the command-line clients share when they talk HTTP to a gateway: sign-in and plain errors."""

from __future__ import annotations

import requests
from requests.auth import AuthBase, HTTPDigestAuth

ENV_USER = "SPREADGATE_USER"
ENV_PASSWORD = "SPREADGATE_PASSWORD"


class GatewayError(Exception):
    """The gateway could not be used; the message says why, for a person."""


class Unreachable(GatewayError):
    """No gateway answered at the address (refused, unknown host, timed out, not HTTP)."""


class CredentialsRefused(GatewayError):
    """The gateway answered 401: credentials are missing or wrong."""


def make_auth(user: str | None, password: str | None) -> AuthBase | None:
    """HTTP Digest for ``user`` (the gateway's default challenge), or ``None`` without a user."""
    if not user:
        return None
    return HTTPDigestAuth(user, password or "")


def refused(url: str, user: str | None) -> CredentialsRefused:
    """The error for a 401 from ``url``, telling whether credentials were missing or wrong."""
    if not user:
        return CredentialsRefused(
            f"the gateway at {url} asks for a user name and password: give --user and --password "
            f"(or set {ENV_USER} and {ENV_PASSWORD})")
    return CredentialsRefused(f"the gateway at {url} refused the user name or password of {user!r} (401)")


def unreachable(url: str, exc: requests.RequestException) -> Unreachable:
    return Unreachable(f"cannot reach the gateway at {url}: {reason(exc)}")


def reason(exc: BaseException) -> str:
    """The innermost operating-system reason of a failed request ("Connection refused"), else its text."""
    seen: set[int] = set()
    todo: list[BaseException | None] = [exc]
    while todo:
        current = todo.pop(0)
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, OSError) and current.strerror:
            return current.strerror
        inner = [current.__cause__, current.__context__, getattr(current, "reason", None), *current.args]
        todo += [e for e in inner if isinstance(e, BaseException)]
    if isinstance(exc, requests.Timeout):
        return "no answer in time"
    return str(exc)
