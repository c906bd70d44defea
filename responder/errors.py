"""The responder's exceptions."""

from __future__ import annotations


class ResponderError(Exception):
    """Base of every error the responder raises."""


class MalformedResult(ResponderError):
    """A result header whose values cannot be stored (wrong types, out of range)."""
