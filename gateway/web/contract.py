"""What the pages need from the gateway: the shared context and its intake, as protocols."""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO, Protocol

from sqlalchemy.orm import Session, sessionmaker

from spreadgate.settings import Settings


class Intake(Protocol):
    """Stores a finished document under the share and records it as an upload."""

    def resolve(self, share_path: str) -> Path: ...

    def temp_for(self, share_path: str) -> tuple[BinaryIO, Path]: ...

    def commit(
        self,
        share_path: str,
        temp_path: Path,
        *,
        size: int,
        sha256: str,
        content_type: str,
        explicit: bool = True,
    ) -> int | None: ...

    def discard(self, temp_path: Path) -> None: ...


class Context(Protocol):
    """The object the gateway puts at ``config["spreadgate"]``."""

    @property
    def settings(self) -> Settings: ...

    @property
    def intake(self) -> Intake: ...

    @property
    def sessions(self) -> sessionmaker[Session]: ...
