"""The Prometheus text exposition format (version 0.0.4), written without a client library."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
Labels = tuple[tuple[str, str], ...]


@dataclass
class Family:
    """One metric: its name, type (counter, gauge, histogram), help and samples."""

    name: str
    kind: str
    help: str
    samples: list[tuple[str, Labels, float]] = field(default_factory=list)

    def add(self, value: float, labels: Labels = (), suffix: str = "") -> Family:
        self.samples.append((self.name + suffix, labels, value))
        return self


def single(name: str, kind: str, help_text: str, value: float) -> Family:
    return Family(name, kind, help_text).add(value)


def histogram(name: str, help_text: str, bounds: Sequence[float], cumulative: Sequence[int],
              total: float, count: int) -> Family:
    """A histogram from its cumulative bucket counts (one per bound) and the sum and count of all."""
    family = Family(name, "histogram", help_text)
    for bound, seen in zip(bounds, cumulative, strict=True):
        family.add(seen, (("le", _number(bound)),), "_bucket")
    family.add(count, (("le", "+Inf"),), "_bucket")
    return family.add(total, suffix="_sum").add(count, suffix="_count")


def render(families: Iterable[Family]) -> str:
    lines: list[str] = []
    for family in families:
        lines.append(f"# HELP {family.name} {_escape_help(family.help)}")
        lines.append(f"# TYPE {family.name} {family.kind}")
        for name, labels, value in family.samples:
            lines.append(f"{name}{_labels(labels)} {_number(value)}")
    return "\n".join(lines) + "\n"


def _labels(labels: Labels) -> str:
    if not labels:
        return ""
    return "{" + ",".join(f'{key}="{_escape_value(value)}"' for key, value in labels) + "}"


def _number(value: float) -> str:
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _escape_help(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n")


def _escape_value(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
