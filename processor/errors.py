"""The processor's exceptions: what went wrong with a tool run or a conversion."""

from __future__ import annotations


class ProcessorError(Exception):
    """Base of every error the processor raises; ``str()`` is fit to show to the uploader."""


class ToolError(ProcessorError):
    """An external tool did not produce output; subclasses say why."""


class ToolRefused(ToolError):
    """The tool exited with a non-zero status; the message is its first line of stderr."""


class ToolCrashed(ToolError):
    """The tool was killed by a signal (a segfault, an abort, a CPU limit)."""


class ToolTimedOut(ToolError):
    """The tool ran past its time limit and was killed."""


class OutputTooLarge(ToolError):
    """The tool printed more than the output cap allows."""


class ConversionError(ProcessorError):
    """No converter produced text for a document; the message is the reason."""
