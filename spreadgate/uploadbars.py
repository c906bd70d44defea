"""Progress bars of ``spreadgate upload`` on a terminal: bytes sent, files uploaded, files processed."""

from __future__ import annotations

from types import TracebackType
from typing import Self, TextIO

from rich import progress as rp
from rich.console import Console
from rich.text import Text


class AmountColumn(rp.ProgressColumn):
    """Bytes and speed for the byte bar, ``done/total`` for the file bars."""

    def __init__(self) -> None:
        super().__init__()
        self.size, self.speed = rp.DownloadColumn(), rp.TransferSpeedColumn()

    def render(self, task: rp.Task) -> Text:
        if task.fields.get("unit") == "bytes":
            return Text.assemble(self.size.render(task), " ", self.speed.render(task))
        return Text(f"{int(task.completed)}/{int(task.total or 0)} files")


class Bars:
    """The bars, drawn on ``stream`` when ``enabled``; every method is safe from any thread."""

    def __init__(self, stream: TextIO, enabled: bool) -> None:
        self.progress = rp.Progress(rp.TextColumn("{task.description:<10}"), rp.BarColumn(), AmountColumn(),
                                    rp.TimeElapsedColumn(), console=Console(file=stream),
                                    disable=not enabled)
        self._bytes = self._files = self._processed = rp.TaskID(-1)

    def __enter__(self) -> Self:
        self.progress.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.progress.stop()

    def start_upload(self, total_bytes: int, total_files: int) -> None:
        self._bytes = self.progress.add_task("sent", total=total_bytes, unit="bytes")
        self._files = self.progress.add_task("uploaded", total=total_files)

    def sent(self, count: int) -> None:
        self.progress.advance(self._bytes, count)

    def uploaded(self) -> None:
        self.progress.advance(self._files)

    def start_waiting(self, total_files: int) -> None:
        self._processed = self.progress.add_task("processed", total=total_files)

    def processed(self) -> None:
        self.progress.advance(self._processed)

    def note(self, text: str) -> None:
        """A line on ``stream``, above the bars while they are drawn."""
        self.progress.console.print(text, markup=False, highlight=False, soft_wrap=True)
