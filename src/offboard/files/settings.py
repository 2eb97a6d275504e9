"""How big archives and parts are and how much runs at once: the knobs of throughput and memory.

Memory stays near (parts_in_flight + archives_in_flight) x part_bytes whatever the tree's size.
"""

from __future__ import annotations

from dataclasses import dataclass

from offboard.errors import OffboardError

MiB = 1024 * 1024
S3_MIN_PART = 5 * MiB
S3_MAX_PARTS = 10_000


@dataclass(frozen=True)
class TransferSettings:
    archive_bytes: int = 256 * MiB  # a larger file gets an archive of its own
    archive_files: int = 5_000  # small files still spread over several archives in flight
    part_bytes: int = 8 * MiB
    parts_in_flight: int = 8
    archives_in_flight: int = 3

    def __post_init__(self) -> None:
        if self.part_bytes < S3_MIN_PART:
            raise OffboardError(f"part size {self.part_bytes} is below S3's minimum of {S3_MIN_PART} bytes")
        if min(self.archive_bytes, self.archive_files, self.parts_in_flight, self.archives_in_flight) < 1:
            raise OffboardError("archive size, files per archive and the counts in flight must be positive")

    def part_size(self, object_size: int) -> int:
        """The part size for an object: ours, or larger when S3's limit of 10,000 parts needs it."""
        needed = -(-object_size // (S3_MAX_PARTS - 1))
        return max(self.part_bytes, -(-needed // MiB) * MiB)
