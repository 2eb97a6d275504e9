"""Row fingerprints: a digest per row and key, and an order-independent checksum of a table.

A digest is blake2b over the repr of a row's values as the driver returns them, computed by
chained C-level maps (no Python frame per row); a key identifies a row by its own values. In a
table with large objects, each LOB is hashed as its bytes instead (a repr of a 10 MB photo would
cost four times its size), after the repr of the other values. The tenant column is left out: the target holds
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
    lobs = [i for i in shape.digest_positions if shape.types[shape.column_names[i]].is_lob]
    if not lobs:
        return digests(map(itemgetter(*shape.digest_positions), batch))
    others = [i for i in shape.digest_positions if i not in lobs]
    return [_with_lobs(row, others, lobs) for row in batch]


def _with_lobs(row: Sequence, others: list[int], lobs: list[int]) -> bytes:
    digest = _blake2b(repr(tuple(row[i] for i in others)).encode())
    for i in lobs:
        value = row[i]
        if value is None:
            digest.update(b"N")
            continue
        data = value if isinstance(value, bytes) else value.encode("utf-8", "surrogatepass")
        digest.update(b"B" if isinstance(value, bytes) else b"S")
        digest.update(len(data).to_bytes(8, "big"))
        digest.update(data)
    return digest.digest()


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
