"""The gateway's own pages under ``/_/``: upload page, form upload and JSON API."""

from gateway.web.middleware import WebPages

__all__ = ["WebPages"]
