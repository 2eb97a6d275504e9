"""Pydantic's validation errors as the one line a user reads."""

from __future__ import annotations

from pydantic import ValidationError

SHOWN_PROBLEMS = 5


def describe(error: ValidationError) -> str:
    """`where: problem` joined by semicolons, the first few only.

    A plain value is echoed back; a mapping or list is not: it may be a whole document, or
    hold a database URL and so a password.
    """
    parts = []
    for item in error.errors()[:SHOWN_PROBLEMS]:
        where = ".".join(str(part) for part in item["loc"]) or "document"
        if item["type"] == "extra_forbidden":
            parts.append(f"{where}: unknown setting")
        elif item["type"] == "missing":
            parts.append(f"{where}: required")
        else:
            value = item.get("input")
            got = f" (got {value!r})" if isinstance(value, (str, int, float)) else ""
            parts.append(f"{where}: {item['msg'].removeprefix('Value error, ')}{got}")
    return "; ".join(parts)
