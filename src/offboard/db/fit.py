"""Values checked against their columns' catalog types before they are written.

DB2 and PostgreSQL refuse a value longer than its VARCHAR, a number that is not one or out
of its type's range, a timestamp that is none (the export writes ISO 8601, the date and the
time); SQLite takes them all. So the catalog's types are checked here, the
same on every engine, and a refusal names the column and the record. Lengths are counted in
UTF-8 bytes, as DB2 counts CHAR(n), VARCHAR(n) and CLOB(n).

A batch is checked column by column in C loops (map, max, a regular expression over a column's
values joined, datetime.fromisoformat); only a column that fails is walked in Python, to name
its first value that does not fit.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from operator import attrgetter, is_not, itemgetter

from offboard.db.catalog import is_integer_type, is_text_type, max_chars

_INTEGER_RANGE = {"SMALLINT": 1 << 15, "INTEGER": 1 << 31, "BIGINT": 1 << 63}
_INTEGER = re.compile(r"(?:-?[0-9]{1,19}\n)*")
_NOT_NULL = partial(is_not, None)
_DATE_AND_TIME = len("2024-01-02 03:04:05")
_NOT_IN_TIMESTAMPS = str.maketrans("", "", "0123456789-:. T")  # deletes every character a timestamp may hold
_TIMESTAMP_SEPARATORS = {4: {"-"}, 7: {"-"}, 10: {" ", "T"}, 13: {":"}, 16: {":"}}  # position in the text -> what may stand there


@dataclass(frozen=True)
class Misfit:
    row: int  # index in the batch
    column: str
    problem: str


def _text_check(limit: int) -> Callable[[list[str]], bool]:
    def check(values: list[str]) -> bool:
        text, longest = "".join(values), max(map(len, values), default=0)
        if "\0" in text:  # PostgreSQL's text cannot hold it
            return False
        if longest <= limit // 4 or (longest <= limit and text.isascii()):  # bytes are characters, or at most 4 of them
            return True
        return max(map(len, map(str.encode, values))) <= limit
    return check


def _integer_check(type_text: str) -> Callable[[list[str]], bool]:
    bound = _INTEGER_RANGE[type_text]
    digits = len(str(bound)) - 1  # numbers with fewer digits are always in range

    def check(values: list[str]) -> bool:
        text = "\n".join(values) + "\n" if values else ""
        if text.count("\n") != len(values) or not _INTEGER.fullmatch(text):  # a line end of a value's own would pass the match
            return False
        return max(map(len, values), default=0) <= digits or all(-bound <= number < bound for number in map(int, values))
    return check


def _timestamp_check(values: list[str]) -> bool:
    """yyyy-mm-dd hh:mm:ss[.fraction] (or a T between date and time), in range (no 30 February),
    without a time zone. fromisoformat alone would take week dates, a decimal comma, and more."""
    if not values:
        return True
    if min(map(len, values)) < _DATE_AND_TIME or "".join(values).translate(_NOT_IN_TIMESTAMPS):
        return False
    if any(set(map(itemgetter(at), values)) - allowed for at, allowed in _TIMESTAMP_SEPARATORS.items()):
        return False
    try:
        stamps = list(map(datetime.fromisoformat, values))
    except ValueError:
        return False
    return not any(map(attrgetter("tzinfo"), stamps))


def _check(type_text: str) -> Callable[[list[str]], bool]:
    if is_text_type(type_text):
        return _text_check(max_chars(type_text))  # n of CHAR(n) and VARCHAR(n), or a CLOB's length
    if is_integer_type(type_text):
        return _integer_check(type_text)
    return _timestamp_check


def _problem(type_text: str, value: str) -> str:
    if is_integer_type(type_text) or type_text == "TIMESTAMP":
        return f"holds {value[:40]!r}, not a {type_text}"
    if "\0" in value:
        return "holds a NUL character, which PostgreSQL cannot store in text"
    return f"holds {len(value.encode())} bytes, more than its {type_text} can"


class Fit:
    """The checks of some columns, in the order of the values of the rows it is given (rows may
    hold more values after them). `keys`: the columns that are part of the key, never NULL (SQLite
    would take a NULL there too)."""

    def __init__(self, columns: Sequence[tuple[str, str]], keys: Sequence[str] = ()) -> None:
        self.columns = list(columns)
        self.keys = set(keys)
        self._checks = [_check(type_text) for _, type_text in self.columns]

    def first_misfit(self, rows: Sequence[Sequence[str | None]]) -> Misfit | None:
        for position, ((name, type_text), check) in enumerate(zip(self.columns, self._checks)):
            column = list(map(itemgetter(position), rows))
            if name in self.keys and None in column:
                return Misfit(column.index(None), name, "is NULL, and it is part of the key")
            values = list(filter(_NOT_NULL, column))  # NULL fits any other column
            if not check(values):
                row = next(i for i, r in enumerate(rows) if r[position] is not None and not check([r[position]]))
                return Misfit(row, name, _problem(type_text, rows[row][position]))
        return None
