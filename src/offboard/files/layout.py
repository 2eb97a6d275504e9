"""Where a delivery's files part lives in the customer's bucket.

    <delivery>/files/archives/00001.tar   the tar archives, each a multipart upload
    <delivery>/files/journal/00001.json   one record per committed archive: the resume point
    <delivery>/files/manifest.jsonl       written last: without it the delivery does not exist

`files/` sits under the delivery prefix because the database part of the same delivery has a
manifest of its own.
"""

from __future__ import annotations

import re

from offboard.errors import OffboardError

ARCHIVE = re.compile(r"^([0-9]{5,})\.tar$")


def files_prefix(delivery: str) -> str:
    return f"{delivery}/files/"


def manifest_key(delivery: str) -> str:
    return f"{files_prefix(delivery)}manifest.jsonl"


def archive_name(number: int) -> str:
    return f"{number:05d}.tar"


def archive_number(name: str) -> int:
    match = ARCHIVE.match(name)
    if not match:
        raise OffboardError(f"{name!r} is not an archive name (00001.tar, ...)")
    return int(match[1])


def archive_key(delivery: str, archive: str) -> str:
    return f"{files_prefix(delivery)}archives/{archive}"


def journal_prefix(delivery: str) -> str:
    return f"{files_prefix(delivery)}journal/"


def journal_key(delivery: str, archive: str) -> str:
    return f"{journal_prefix(delivery)}{archive.removesuffix('.tar')}.json"
