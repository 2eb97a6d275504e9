"""The manifest of a delivery's files: the contract between export, import and verify.

It lists every file the delivery carries (size, mtime in ns, sha256, the archive holding it),
every archive with its sha256, the files deleted since the earlier deliveries, and the files
the database names but the source store lacks. The org's files after delivery N are the
earlier deliveries folded in order (`cumulative`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Iterable

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from offboard.errors import OffboardError
from offboard.delivery import DELIVERY
from offboard.files.layout import ARCHIVE
from offboard.files.selection import split_name
from offboard.validation import describe, format_version

FORMAT = 1
SHA256 = r"^[0-9a-f]{64}$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


# One per file, so plain slotted dataclasses (a third of a model's memory), validated by the
# models that hold them.
@dataclass(frozen=True, slots=True)
class Member:
    """A file as it was read into an archive."""

    __pydantic_config__ = ConfigDict(extra="forbid")
    size: Annotated[int, Field(ge=0)]
    mtime_ns: Annotated[int, Field(ge=0)]
    sha256: Annotated[str, Field(pattern=SHA256)]


@dataclass(frozen=True, slots=True)
class FileEntry(Member):
    archive: Annotated[str, Field(pattern=ARCHIVE.pattern)]


class ArchiveEntry(_Strict):
    size: int = Field(ge=0)
    sha256: str = Field(pattern=SHA256)
    files: int = Field(ge=0)


def _canonical(names: Iterable[str]) -> None:
    for name in names:
        try:
            split_name(name)
        except OffboardError as error:
            raise ValueError(str(error)) from None


class Manifest(_Strict):
    format: format_version(FORMAT)
    org_id: str = Field(alias="orgId", pattern=r"^[0-9]{1,20}$")
    delivery: str = Field(pattern=DELIVERY.pattern)
    created: str
    archives: dict[str, ArchiveEntry]
    files: dict[str, FileEntry]
    deleted: list[str] = []
    missing: list[str] = []  # named by the org's database rows, absent from the source store

    @model_validator(mode="after")
    def _consistent(self) -> Manifest:
        _canonical([*self.files, *self.deleted, *self.missing])
        for name in self.archives:
            if not ARCHIVE.match(name):
                raise ValueError(f"{name!r} is not an archive name")
        counts = dict.fromkeys(self.archives, 0)
        for name, entry in self.files.items():
            if entry.archive not in counts:
                raise ValueError(f"{name} lies in {entry.archive}, which the manifest does not list")
            counts[entry.archive] += 1
        for name, entry in self.archives.items():
            if counts[name] != entry.files:
                raise ValueError(f"archive {name} should carry {entry.files} files, the manifest gives it {counts[name]}")
        if set(self.deleted) & set(self.files):
            raise ValueError("a file is both carried and deleted")
        return self

    def to_json(self) -> str:
        return self.model_dump_json(by_alias=True, indent=1) + "\n"

    def by_archive(self) -> dict[str, dict[str, FileEntry]]:
        """archive -> the files it carries."""
        grouped: dict[str, dict[str, FileEntry]] = {name: {} for name in self.archives}
        for name, entry in self.files.items():
            grouped[entry.archive][name] = entry
        return grouped


def parse_manifest(text: str | bytes, where: str) -> Manifest:
    try:
        return Manifest.model_validate_json(text)
    except ValidationError as error:
        raise OffboardError(f"{where}: {describe(error)}") from None


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def cumulative(manifests: Iterable[Manifest]) -> dict[str, FileEntry]:
    """The org's files after these deliveries (given in order): later entries and deletions win."""
    state: dict[str, FileEntry] = {}
    for manifest in manifests:
        for name in manifest.deleted:
            state.pop(name, None)
        state.update(manifest.files)
    return state
