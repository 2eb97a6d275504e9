"""What an export carries: (store, relative path) pairs under per-store roots.

In a multi-tenant content store the binaries of all orgs lie side by side, so the org's files
are named by its own database rows, one pair per file; an export never ships a whole folder.
A file is called `<store>/<relative path>` (forward slashes) in manifests and archives; the
same name maps to a path under the target's root of that store on import.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Iterable, Mapping

from offboard.errors import OffboardError

Selection = Iterable[tuple[str, str]]  # (store, path relative to that store's root)
StoreRoots = Mapping[str, Path]  # store -> its root folder (source on export, target on import)

STORE = re.compile(r"^[a-z][a-z0-9_-]{0,62}$")


def check_store(store: str) -> None:
    if not STORE.match(store):
        raise OffboardError(f"store name {store!r}: expected lower-case letters, digits, - and _")


def file_name(store: str, relative: str) -> str:
    """The canonical `<store>/<relative>`; refuses absolute paths, `..` and unusable names."""
    check_store(store)
    if not isinstance(relative, str) or not relative or "\x00" in relative:
        raise OffboardError(f"{store}: {relative!r} is not a relative path")
    if relative.startswith("/"):
        raise OffboardError(f"{store}: {relative!r} is an absolute path; the selection holds paths relative to the store")
    parts = [part for part in relative.split("/") if part not in ("", ".")]
    if ".." in parts:
        raise OffboardError(f"{store}: {relative!r} climbs out of the store with '..'")
    if not parts:
        raise OffboardError(f"{store}: {relative!r} names the store itself, not a file")
    try:
        relative.encode("utf-8")
    except UnicodeEncodeError:
        raise OffboardError(f"{store}: {relative!r} is not valid UTF-8") from None
    return "/".join([store, *parts])


def split_name(name: str) -> tuple[str, str]:
    """(store, relative) of a name from a manifest or an archive, which must be canonical."""
    store, _, relative = name.partition("/")
    if file_name(store, relative) != name:
        raise OffboardError(f"{name!r} is not a canonical file name (<store>/<relative path>)")
    return store, relative


class StoreFolders:
    """Paths of names under the store roots, refused when a link leads outside a root.

    Each folder is resolved once (one lstat per folder and per file, not one per component of
    every path): a selection holds many files, a content store many folders.
    """

    def __init__(self, roots: StoreRoots) -> None:
        self.roots: dict[str, str] = {}
        for store, root in roots.items():
            check_store(store)
            if not os.path.isdir(root):
                raise OffboardError(f"the root of store {store}, {root}, is not a folder")
            self.roots[store] = os.path.realpath(root)
        self.real: dict[str, str] = {root: root for root in self.roots.values()}

    def _real(self, path: str) -> str:
        real = self.real.get(path)
        if real is None:
            parent, leaf = os.path.split(path)
            candidate = os.path.join(self._real(parent), leaf)
            real = os.path.realpath(candidate) if os.path.islink(candidate) else candidate
            self.real[path] = real
        return real

    def path(self, name: str) -> str:
        """Where `name` lies under its store's root."""
        store, relative = split_name(name)
        root = self.roots.get(store)
        if root is None:
            known = ", ".join(sorted(self.roots)) or "none"
            raise OffboardError(f"{name}: no root is configured for store {store!r} (stores: {known})")
        path = os.path.join(root, relative)
        parent, leaf = os.path.split(path)
        real = os.path.join(self._real(parent), leaf)
        if os.path.islink(real):
            real = os.path.realpath(real)
        if not real.startswith(root + os.sep):
            raise OffboardError(f"{name} resolves outside the root of store {store}")
        return path
