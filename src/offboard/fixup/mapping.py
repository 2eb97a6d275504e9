"""The user mapping: the MSP directory sync's CSV of cloud user ids and the ids of the same people
in the new home (header cloud_id,target_id,email)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from offboard.errors import OffboardError
from offboard.project import read_utf8

MAPPING_HEADER = ["cloud_id", "target_id", "email"]
MAPPING_FIELD_LENGTH = 1024  # characters: far more than an id or an address, far less than garbage


def read_user_mapping(path: Path) -> dict[str, str]:
    """cloud id -> target id from the directory sync's CSV (header cloud_id,target_id,email).

    Anything but such a CSV is refused in one line naming the file and line: a header alone is an
    empty mapping, garbage never is. `db fixup` reads it, and `runbook render` before the first step.
    """
    shown = f"the user mapping {path}"
    rows = csv.reader(io.StringIO(read_utf8(path, shown).removeprefix("\ufeff"), newline=""))
    mapping: dict[str, str] = {}
    try:
        if next(rows, None) != MAPPING_HEADER:
            raise OffboardError(f"{shown}: expected the header {','.join(MAPPING_HEADER)}")
        for row in rows:
            if not row:
                continue  # a blank line
            cloud, target = mapping_row(row, f"{shown} line {rows.line_num}")
            if mapping.get(cloud, target) != target:
                raise OffboardError(f"{shown} line {rows.line_num}: cloud id {cloud} is mapped twice")
            mapping[cloud] = target
    except csv.Error as error:
        raise OffboardError(f"{shown} line {rows.line_num}: not a CSV file ({error})") from None
    both = set(mapping) & set(mapping.values())
    if both:
        raise OffboardError(f"{shown}: {', '.join(sorted(both))} is a cloud id and a target id; a second run would map it again")
    return mapping


def mapping_row(row: list[str], where: str) -> tuple[str, str]:
    """The cloud id and target id of one row of the mapping, unless it is not three sane fields."""
    if len(row) != len(MAPPING_HEADER):
        raise OffboardError(f"{where}: expected {len(MAPPING_HEADER)} fields ({','.join(MAPPING_HEADER)}), found {len(row)}")
    if any(len(field) > MAPPING_FIELD_LENGTH for field in row):
        raise OffboardError(f"{where}: a field longer than {MAPPING_FIELD_LENGTH} characters")
    cloud, target, email = (field.strip() for field in row)
    if not cloud or not target:
        raise OffboardError(f"{where}: cloud_id and target_id are both required")
    if not all(value.isprintable() for value in (cloud, target, email)):  # NUL, line breaks, other control characters
        raise OffboardError(f"{where}: a control character in an id or address")
    return cloud, target


