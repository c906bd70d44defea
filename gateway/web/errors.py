"""Errors of the gateway's own pages; each carries the HTTP status it becomes."""

from __future__ import annotations


class WebError(Exception):
    """A request to the pages cannot be served; ``status`` is its HTTP answer."""

    status = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BadRequest(WebError):
    """The request is malformed: a broken form, a bad name, a bad parameter."""

    status = 400


class NotFound(WebError):
    """No page, API route or upload answers to this path."""

    status = 404


class MethodNotAllowed(WebError):
    """The path exists but not for this method; ``allow`` lists the methods that work."""

    status = 405

    def __init__(self, message: str, allow: tuple[str, ...]) -> None:
        super().__init__(message)
        self.allow = allow


class Conflict(WebError):
    """The upload exists but is not in a state that has what was asked for."""

    status = 409


class TooLarge(WebError):
    """A file in the form is larger than the configured upload limit."""

    status = 413


class UnsupportedMediaType(WebError):
    """The upload body is not multipart/form-data."""

    status = 415
