"""``POST /_/upload``: commit each file of a streamed form as an explicit upload."""

from __future__ import annotations

import logging
from typing import Any

from gateway.web.contract import Context, Intake
from gateway.web.errors import BadRequest
from gateway.web.form import FormReader, Received
from gateway.web.respond import Response, json_response, redirect, wants_html
from spreadgate.logs import upload_log

log = logging.getLogger(__name__)

MIB = 1024 * 1024


def handle_upload(context: Context, environ: dict[str, Any]) -> Response:
    """Stream the form to disk, commit every file; 303 to the page for a browser, else 201 JSON."""
    limit = context.settings.gateway_max_upload_mb * MIB or None
    files = FormReader(context.intake, limit).read(environ)
    uploads = _commit_all(context.intake, files)
    if wants_html(environ):
        return redirect(environ.get("SCRIPT_NAME", "").rstrip("/") + "/_/")
    return json_response({"uploads": uploads}, 201)


def _commit_all(intake: Intake, files: list[Received]) -> list[dict[str, Any]]:
    uploads = []
    for index, received in enumerate(files):
        try:
            upload_id = intake.commit(received.share_path, received.temp_path, size=received.size,
                                      sha256=received.sha256, content_type=received.content_type,
                                      explicit=True)
        except Exception as exc:
            # The files not committed yet would otherwise stay behind as temporary files.
            for pending in files[index:]:
                intake.discard(pending.temp_path)
            if isinstance(exc, ValueError):
                raise BadRequest(f"file {received.name!r} cannot be stored: {exc}") from exc
            raise
        _log_commit(upload_id, received)
        uploads.append({"name": received.name, "path": received.share_path, "size": received.size,
                        "sha256": received.sha256, "id": upload_id})
    return uploads


def _log_commit(upload_id: int | None, received: Received) -> None:
    if upload_id is None:
        log.info("form file %s stored, not forwarded (%d bytes)", received.share_path, received.size)
    else:
        upload_log(log, upload_id).info("%s received from the form (%d bytes, sha256 %s)",
                                        received.share_path, received.size, received.sha256)
