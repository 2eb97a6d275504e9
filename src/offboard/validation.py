"""Pydantic's validation errors as the one line a user reads, and what a person writes into the
journal (who, why) checked to be readable."""

from __future__ import annotations

import unicodedata
from typing import Annotated, Any

from pydantic import AfterValidator, ValidationError

from offboard.errors import OffboardError

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


def format_version(expected: int) -> Any:
    """The type of a document's `format` field: only the version this code reads passes."""

    def check(value: int) -> int:
        if value != expected:
            raise ValueError(f"format {value} is not supported (expected {expected})")
        return value

    return Annotated[int, AfterValidator(check)]


def said(text: str | None, missing: str) -> str:
    """A name, note or reason a person gives, as the journal keeps it: without control or invisible
    characters (an escape sequence would hide it on a terminal), and with a letter or digit left;
    else the `missing` refusal."""
    text = "".join(char for char in (text or "") if not unicodedata.category(char).startswith("C")).strip()
    if not any(char.isalnum() for char in text):
        raise OffboardError(missing)
    return text
