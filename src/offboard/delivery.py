"""How deliveries are named: `initial`, then `delta-1`, `delta-2`, ... (one bucket prefix each)."""

from __future__ import annotations

import re

from offboard.errors import OffboardError

INITIAL = "initial"
DELIVERY = re.compile(r"^(initial|delta-([1-9]\d{0,5}))$")


def delivery_number(delivery: str) -> int:
    """0 for the initial delivery, N for delta-N."""
    match = DELIVERY.match(delivery)
    if not match:
        raise OffboardError(f"{delivery!r} is not a delivery name (initial, delta-1, delta-2, ...)")
    return int(match[2] or 0)


def delivery_name(number: int) -> str:
    return INITIAL if number == 0 else f"delta-{number}"
