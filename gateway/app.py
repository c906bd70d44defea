"""Assembles the gateway's WSGI application: the WebDAV share at ``/`` and the pages under ``/_/``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session, sessionmaker
from wsgidav.dir_browser import WsgiDavDirBrowser  # type: ignore[import-untyped]
from wsgidav.error_printer import ErrorPrinter  # type: ignore[import-untyped]
from wsgidav.http_authenticator import HTTPAuthenticator  # type: ignore[import-untyped]
from wsgidav.request_resolver import RequestResolver  # type: ignore[import-untyped]
from wsgidav.wsgidav_app import WsgiDAVApp  # type: ignore[import-untyped]

from gateway.auth import ReadOnlyGuard, UserDomainController
from gateway.debounce import Debouncer
from gateway.events import EventTap
from gateway.forwarder import Forwarder
from gateway.intake import TEMP_PREFIX, Intake
from gateway.locks import CappedLockStorage
from gateway.pathguard import PathGuard
from gateway.provider import GatewayProvider
from gateway.web import WebPages
from gateway.xmlguard import XmlGuard
from spreadgate.settings import Settings

# The copy buffer between the request body and the file: 64 KiB writes are the
# fastest on these disks (WsgiDAV's default is 8 KiB).
BLOCK_SIZE = 64 * 1024


@dataclass(frozen=True)
class GatewayContext:
    """What the pages under ``/_/`` use, found at ``config["spreadgate"]``."""

    settings: Settings
    intake: Intake
    sessions: sessionmaker[Session]
    forwarder: Forwarder | None
    debouncer: Debouncer | None = None
    lock_storage: CappedLockStorage | None = None
    property_manager: Any = True


def make_app(context: GatewayContext) -> Any:
    config = {
        "provider_mapping": {"/": GatewayProvider(context.intake, context.sessions)},
        "lock_storage": context.lock_storage or True,
        "property_manager": context.property_manager,
        "add_header_MS_Author_Via": True,
        "hotfixes": {"emulate_win32_lastmod": True, "re_encode_path_info": True},
        "http_authenticator": {"domain_controller": UserDomainController, "accept_basic": True,
                               "accept_digest": True, "default_to_digest": True},
        "middleware_stack": [ErrorPrinter, HTTPAuthenticator, ReadOnlyGuard, XmlGuard, WebPages,
                             WsgiDavDirBrowser, EventTap, RequestResolver],
        "dir_browser": {"ignore": [".DS_Store", "._*", "Thumbs.db", "~$*", ".~lock.*#",
                                   f"{TEMP_PREFIX}*"]},
        "block_size": BLOCK_SIZE,
        "verbose": 1,
        "logging": {"enable": False},
        "spreadgate": context,
    }
    return PathGuard(WsgiDAVApp(config))
