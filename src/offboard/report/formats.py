"""How the report writes quantities for people: sizes, durations, times, and a step's figures."""

from __future__ import annotations

from datetime import datetime
from typing import Any

SIZE_UNITS = ("bytes", "kB", "MB", "GB", "TB")
DURATION_UNITS = ((86400, "d"), (3600, "h"), (60, "min"), (1, "s"))


def size(count: float) -> str:
    """1234567 -> '1.2 MB' (decimal units, as S3 and the stage commands count)."""
    value, unit = float(count), 0
    while value >= 1000 and unit < len(SIZE_UNITS) - 1:
        value, unit = value / 1000, unit + 1
    return f"{int(value)} {SIZE_UNITS[0]}" if unit == 0 else f"{value:.1f} {SIZE_UNITS[unit]}"


def duration(seconds: float | None) -> str:
    """The two largest units: '3 d 4 h', '2 min 5 s', '0.4 s'."""
    if seconds is None:
        return ""
    if seconds < 10:
        return f"{seconds:.1f} s"
    parts, rest = [], round(seconds)
    for length, unit in DURATION_UNITS:
        if rest >= length:
            parts.append(f"{rest // length} {unit}")
            rest %= length
        if len(parts) == 2 or (parts and not rest):
            break
    return " ".join(parts)


def when(moment: datetime | None) -> str:
    """A time of the journal (UTC) as people read it: '2026-10-12 14:05'."""
    return f"{moment:%Y-%m-%d %H:%M}" if moment else ""


def number(value: Any) -> str:
    return f"{value:,}" if isinstance(value, int) and not isinstance(value, bool) else str(value)


def figure(name: str, value: Any) -> str:
    """One of a step's figures as text: sizes in units, lists joined, yes/no for flags."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int) and (name == "bytes" or name.startswith("bytes_")):
        return f"{size(value)} ({value:,} bytes)" if value >= 1000 else f"{value} bytes"
    if isinstance(value, (list, tuple)):
        return ", ".join(number(item) for item in value) or "none"
    if isinstance(value, dict):
        return "; ".join(f"{key}: {figure(key, item)}" for key, item in value.items()) or "none"
    return number(value)


def figure_rows(figures: dict[str, Any]) -> list[tuple[str, str]]:
    """A step's figures as (name, value) rows of a table: 'bytes_sent' -> 'bytes sent'."""
    return [(name.replace("_", " "), figure(name, value)) for name, value in figures.items()]


def first_line(text: str | None) -> str:
    return text.strip().splitlines()[0] if text and text.strip() else ""


FILTERS = {"size": size, "duration": duration, "when": when, "number": number, "figure_rows": figure_rows}
