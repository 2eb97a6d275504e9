"""Where a delivery lands before it is moved into place: a folder inside each store's target root.

Inside the root means on the same filesystem, so moving into place is a rename; and nothing in
the target changes until every archive has been verified. The staging folder mirrors the
store's layout, so a folder the target lacks moves in with one rename however many files it
holds (an initial import moves a few top folders, not every file).
"""

from __future__ import annotations

import os
import shutil

from offboard.files.owners import RESERVED
from offboard.files.selection import split_name

PREFIX = f"{RESERVED}staging-"


class Staging:
    def __init__(self, real_roots: dict[str, str], org_id: str, delivery: str) -> None:
        self.roots = dict(real_roots)
        self.folders = {store: os.path.join(root, f"{PREFIX}{org_id}-{delivery}") for store, root in real_roots.items()}
        self.made: set[str] = set()  # folders known to exist: one mkdir per folder, not per file

    def folder(self, store: str) -> str | None:
        return self.folders.get(store)

    def path(self, name: str) -> str:
        """Where `name` is staged; its folder is made."""
        store, relative = split_name(name)
        path = os.path.join(self.folders[store], relative)
        folder = os.path.dirname(path)
        if folder not in self.made:
            os.makedirs(folder, exist_ok=True)
            self.made.add(folder)
        return path

    def reset(self) -> None:
        """Empty staging folders (what an interrupted import left is dropped)."""
        self.remove()
        for folder in self.folders.values():
            os.mkdir(folder, mode=0o700)

    def move_into_place(self) -> None:
        for store, folder in self.folders.items():
            merge(folder, self.roots[store])

    def remove(self) -> None:
        for folder in self.folders.values():
            shutil.rmtree(folder, ignore_errors=True)
        self.made.clear()


def merge(source: str, target: str) -> None:
    """Move everything under `source` into `target`: a folder the target lacks in one rename."""
    with os.scandir(source) as entries:
        for entry in entries:
            destination = os.path.join(target, entry.name)
            if entry.is_dir(follow_symlinks=False) and os.path.isdir(destination):
                merge(entry.path, destination)
            else:
                os.replace(entry.path, destination)
