"""Links in the org's binaries: the text files (wiki pages) of the tables whose content the
catalog marks `links`, rewritten in the target's store by the fix-up's rules.

The org's files in a target are those its imports wrote there, as the store's owner record says
(`offboard.files.owners`: kept with the store, out of reach of the bucket's key), each with the
sha256 it was delivered with; every name is checked as the import checks it before anything is
written, and no link is followed. Only text is touched: UTF-8 without NUL, and not a PDF. A file
is rewritten from what was delivered or from what the last fix-up left (its report): anything
else was changed by someone else and is left for verify to report. A rewritten file replaces the
old one in one rename, with its mode; the report records its new size and sha256, and files
verify checks it against those instead of the delivery's.
"""

from __future__ import annotations

import codecs
import errno
import hashlib
import os
import secrets
import stat
from collections import Counter
from collections.abc import Collection, Iterable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from typing import NamedTuple

from offboard.errors import OffboardError
from offboard.files.owners import RESERVED, OwnerRecord
from offboard.files.selection import StoreFolders, StoreRoots
from offboard.fixup.report import RewrittenFile
from offboard.fixup.rewrite import Rewriter

LIMIT = 16 * 1024 * 1024  # bytes: a wiki page is a few KB; a larger text is left and counted, never loaded
PEEK = 64 * 1024  # what is read of a larger file to tell text from binary
PDF = b"%PDF-"  # even an all-ASCII PDF holds byte offsets that a longer link would break

# Why a file is left as it is (a binary is left too, and not counted).
TOO_LARGE = "too_large"  # text larger than LIMIT
CHANGED = "changed"  # neither as delivered nor as the last fix-up left it: verify reports it
MISSING = "missing"  # the record names it, the store lacks it (an import that did not finish)
NOT_REGULAR = "not_regular"  # a symbolic link (never followed), a folder, a device


@dataclass(frozen=True)
class LinkedFile:
    """One of the org's files in a store whose binaries may hold links."""

    store: str
    relative: str  # inside the store
    path: str  # in the target, checked to lie inside the store's root
    delivered: str  # sha256 of what the org's import wrote there

    @property
    def name(self) -> str:
        return f"{self.store}/{self.relative}"


@dataclass
class FilesFixup:
    """The org's linked files rewritten (or as the last fix-up left them), and those left: reason -> names."""

    files: list[RewrittenFile] = field(default_factory=list)
    left: dict[str, list[str]] = field(default_factory=dict)


class _Left(Exception):
    """A file left as it is, for the reason given."""


class _Page(NamedTuple):
    text: str
    data: bytes
    mode: int


def linked_files(roots: StoreRoots, org_id: str, pages: Collection[tuple[str, str]]) -> list[LinkedFile]:
    """The files the org's imports wrote into the target's stores (`org_id`: the org's id in the
    target) that the org's rows of a table whose binaries hold links point at (`pages`: store,
    path; offboard.db.content.org_content), in name order. Refused in one line, before anything
    is written, when a name is not a plain path inside its store, as the import would refuse it."""
    stores = {store: root for store, root in roots.items() if any(page[0] == store for page in pages)}
    folders = StoreFolders(stores)
    found = []
    for store, root in sorted(folders.roots.items()):
        record = OwnerRecord(root)
        for relative, sha256 in sorted(record.delivered(org_id).items()):
            try:
                path = folders.path(f"{store}/{relative}")
            except OffboardError as error:
                raise OffboardError(f"fix-up of the files refused, nothing rewritten: {error}; check the record of who owns "
                                    f"the store's files ({record.path}) and the links in the store") from None
            if (store, relative) in pages:  # not an attachment, an image: the org's too, but no page
                found.append(LinkedFile(store, relative, path, sha256))
    return found


def rewrite_linked_files(files: Iterable[LinkedFile], rewriter: Rewriter, earlier: Mapping[str, RewrittenFile], *,
                         dry_run: bool = False) -> FilesFixup:
    """The rules applied to the text among `files` (`linked_files`); `earlier`: what the target's last
    fix-ups rewrote (`offboard.fixup.report.read_rewritten`). With `dry_run` nothing is written."""
    result = FilesFixup()
    for file in files:
        try:
            rewritten = _fix(file, rewriter, earlier.get(file.name), dry_run)
        except _Left as left:
            result.left.setdefault(str(left), []).append(file.name)
        except OSError as error:
            raise OffboardError(f"could not rewrite {file.name} ({error.strerror or error}), which is unchanged: "
                                "make the store writable and run the fix-up again") from None
        else:
            if rewritten is not None:
                result.files.append(rewritten)
    return result


def _fix(file: LinkedFile, rewriter: Rewriter, earlier: RewrittenFile | None, dry_run: bool) -> RewrittenFile | None:
    """The file rewritten, or as the last fix-up left it; None for a binary, or text without a link."""
    with _folder(file.path) as folder:
        leaf = os.path.basename(file.path)
        page = _page(folder, leaf)
        if page is None:
            return None
        digest = hashlib.sha256(page.data).hexdigest()
        if digest == file.delivered:
            base = None
        elif earlier is not None and digest == earlier.sha256:
            base = earlier
        else:
            raise _Left(CHANGED)
        tally: Counter = Counter()
        text = rewriter.text(page.text, tally, (file.store, file.relative))
        if text == page.text:
            return base
        data = text.encode("utf-8")
        if not dry_run:
            _replace(folder, leaf, data, page.mode)
        return RewrittenFile(store=file.store, path=file.relative, size=len(data), sha256=hashlib.sha256(data).hexdigest(),
                             delivered=base.delivered if base else digest, links=(base.links if base else 0) + tally.total())


@contextmanager
def _folder(path: str) -> Iterator[int]:
    """The folder holding `path`, open: the file is read and replaced in this very folder."""
    try:
        folder = os.open(os.path.dirname(path), os.O_RDONLY | os.O_DIRECTORY)
    except (FileNotFoundError, NotADirectoryError):
        raise _Left(MISSING) from None
    try:
        yield folder
    finally:
        os.close(folder)


def _page(folder: int, leaf: str) -> _Page | None:
    """The file as text, None when it is not text; a link is never followed, a large text never loaded."""
    try:
        handle = os.open(leaf, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=folder)
    except FileNotFoundError:
        raise _Left(MISSING) from None
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise _Left(NOT_REGULAR) from None
        raise
    with os.fdopen(handle, "rb") as stream:
        info = os.fstat(stream.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise _Left(NOT_REGULAR)
        data = stream.read(PEEK if info.st_size > LIMIT else LIMIT + 1)
    if info.st_size > LIMIT or len(data) > LIMIT:
        if _text(data[:PEEK], whole=False) is None:
            return None  # a binary: not counted
        raise _Left(TOO_LARGE)
    text = _text(data, whole=True)
    return None if text is None else _Page(text, data, stat.S_IMODE(info.st_mode))


def _text(data: bytes, whole: bool) -> str | None:
    """`data` decoded, or None unless it is UTF-8 without NUL and not a PDF; not `whole`: the start
    of a file, which may end inside a character."""
    if b"\0" in data or data.startswith(PDF):
        return None
    try:
        return codecs.getincrementaldecoder("utf-8")().decode(data, final=whole)
    except UnicodeDecodeError:
        return None


def _replace(folder: int, leaf: str, data: bytes, mode: int) -> None:
    """`data` in place of `leaf` in one rename: written beside it, with its mode, on disk first."""
    temporary = f"{RESERVED}fixup-{secrets.token_hex(8)}"
    handle = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600, dir_fd=folder)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fchmod(out.fileno(), mode)
            os.fsync(out.fileno())
        os.replace(temporary, leaf, src_dir_fd=folder, dst_dir_fd=folder)
    except BaseException:
        with suppress(FileNotFoundError):
            os.unlink(temporary, dir_fd=folder)
        raise
    os.fsync(folder)
