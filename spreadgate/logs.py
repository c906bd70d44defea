"""Logging set-up for the entry points, and the one way to log about an upload.

A line about one upload is logged through :func:`upload_log`: its message then
begins with ``upload <id>:`` in every format, and the record carries the id as
the attribute ``upload_id``, which the JSON format writes as a field of its
own, so one upload can be followed through the gateway, the processors and
the responder by that id alone.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import MutableMapping
from typing import Any

UPLOAD_ID = "upload_id"


class UploadLog(logging.LoggerAdapter[logging.Logger]):
    """A logger for lines about one upload: ``upload <id>:`` before the message, the id in the record."""

    def __init__(self, logger: logging.Logger, upload_id: int) -> None:
        super().__init__(logger, {UPLOAD_ID: upload_id})
        self.upload_id = upload_id

    def process(self, msg: Any, kwargs: MutableMapping[str, Any]) -> tuple[Any, MutableMapping[str, Any]]:
        kwargs["extra"] = {**kwargs.get("extra", {}), UPLOAD_ID: self.upload_id}
        # Literal text before the message: an id contains no "%", so the lazy arguments still line up.
        return f"upload {self.upload_id}: {msg}", kwargs


def upload_log(logger: logging.Logger, upload_id: int) -> UploadLog:
    """``logger`` for the lines about upload ``upload_id``."""
    return UploadLog(logger, upload_id)


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time, level, component, logger, message, and
    ``upload_id`` when the record is about an upload."""

    def __init__(self, component: str = "") -> None:
        super().__init__()
        self.component = component

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": self.formatTime(record),
            "level": record.levelname,
            "component": self.component,
            "logger": record.name,
            "message": record.getMessage(),
        }
        upload_id = getattr(record, UPLOAD_ID, None)
        if upload_id is not None:
            entry[UPLOAD_ID] = upload_id
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def setup(level: str = "INFO", fmt: str = "text", component: str = "") -> None:
    """Send every record to stderr, as plain lines (``fmt="text"``) or JSON objects (``"json"``)."""
    handler = logging.StreamHandler(sys.stderr)
    if fmt == "json":
        handler.setFormatter(JsonFormatter(component))
    else:
        prefix = f"{component} " if component else ""
        handler.setFormatter(
            logging.Formatter(f"%(asctime)s {prefix}%(levelname)s %(name)s: %(message)s")
        )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # Alembic announces every plugin it loads at INFO; only its problems matter here.
    logging.getLogger("alembic").setLevel(max(root.level, logging.WARNING))
