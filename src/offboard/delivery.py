"""How deliveries are named: `initial`, then `delta-1`, `delta-2`, ... (one bucket prefix each)."""

from __future__ import annotations

import re

from offboard.errors import OffboardError

INITIAL = "initial"
DELIVERY = re.compile(r"^(initial|delta-([1-9][0-9]{0,5}))$")


def delivery_number(delivery: str) -> int:
    """0 for the initial delivery, N for delta-N."""
    match = DELIVERY.match(delivery)
    if not match:
        raise OffboardError(f"{delivery!r} is not a delivery name (initial, delta-1, delta-2, ...)")
    return int(match[2] or 0)


def delivery_name(number: int) -> str:
    return INITIAL if number == 0 else f"delta-{number}"


def delivery_prefixes(s3, bucket: str) -> list[str]:
    """Names of the deliveries with anything in the bucket, in order."""
    names = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Delimiter="/"):
        names += [p["Prefix"].rstrip("/") for p in page.get("CommonPrefixes", []) if DELIVERY.match(p["Prefix"].rstrip("/"))]
    return sorted(names, key=delivery_number)


def pick(committed: list[str], requested: str, what: str, bucket: str) -> list[str]:
    """`initial`, `delta-N`, `delta` (the newest delta) or `all`, as committed delivery names, in order."""
    wanted = {"all": committed, "delta": [name for name in committed if name != INITIAL][-1:]}.get(requested, [requested])
    if not wanted or wanted[0] not in committed:
        raise OffboardError(f"{what} delivery {wanted[0] if wanted else requested} is not committed in bucket {bucket} "
                            f"(committed: {', '.join(committed) or 'none'})")
    return wanted
