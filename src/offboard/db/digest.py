"""Row fingerprints: a digest per row and key, and an order-independent checksum of a table.

A digest is blake2b over the repr of a row's values as the driver returns them, computed by
chained C-level maps (no Python frame per row); a key identifies a row by its own values. The tenant column is left out: the target holds
the org's rows under the MSP's org id, and the tenant is the same on every row anyway.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from functools import partial
from operator import itemgetter, methodcaller

from offboard.db.catalog import TableShape

DIGEST_BYTES = 16
_MODULUS = 1 << (8 * DIGEST_BYTES)
_blake2b = partial(hashlib.blake2b, digest_size=DIGEST_BYTES)
_digest = methodcaller("digest")


def digests(values: Iterable[object]) -> list[bytes]:
    return list(map(_digest, map(_blake2b, map(str.encode, map(repr, values)))))


def row_digests(shape: TableShape, batch: Sequence[Sequence]) -> list[bytes]:
    return digests(map(itemgetter(*shape.digest_positions), batch))


class Checksum:
    """The sum of the row digests modulo 2**128: the same for the same rows in any order."""

    def __init__(self) -> None:
        self.rows = 0
        self._total = 0

    def add(self, row_digests: list[bytes]) -> None:
        self.rows += len(row_digests)
        self._total += sum(map(int.from_bytes, row_digests))

    def hexdigest(self) -> str:
        return f"{self._total % _MODULUS:0{2 * DIGEST_BYTES}x}"
