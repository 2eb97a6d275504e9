"""Where a project's files and its local state live.

A project is a folder holding `Pulumi.yaml` and `stacks/` (`offboard init DIR` makes one), found
at OFFBOARD_PROJECT or upward from the current folder. Its `runbooks/` (workflows, templates,
catalog) are its own when it has that folder, else the tool's. Local state (the embedded
endpoint, stack outputs, journals and work files) lives in `.offboard/` beside them unless
OFFBOARD_STATE_DIR points elsewhere.
"""

from __future__ import annotations

import fcntl
import os
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from offboard.errors import OffboardError

PROJECT_FILE = "Pulumi.yaml"
EXAMPLE_STACK = "example"  # stacks/Pulumi.example.yaml shows how to fill one in; it is no customer
TOOL_ROOT = Path(__file__).resolve().parents[2]  # the tool's checkout (src/offboard/project.py)


@dataclass(frozen=True)
class Project:
    root: Path
    state_dir: Path

    @classmethod
    def find(cls, start: Path | None = None) -> Project:
        """The project at OFFBOARD_PROJECT, or the nearest folder upward holding Pulumi.yaml."""
        explicit = os.environ.get("OFFBOARD_PROJECT")
        here = (start or Path.cwd()).resolve()
        candidates = [Path(explicit)] if explicit else [here, *here.parents]
        for folder in candidates:
            if (folder / PROJECT_FILE).is_file():
                state = os.environ.get("OFFBOARD_STATE_DIR")
                return cls(root=folder, state_dir=Path(state) if state else folder / ".offboard")
        where = explicit or str(here)
        raise OffboardError(f"no {PROJECT_FILE} found at or above {where}: run offboard inside a project folder "
                            "(`offboard init DIR` makes one), or set OFFBOARD_PROJECT to it")

    @property
    def stacks_dir(self) -> Path:
        return self.root / "stacks"

    @property
    def runbooks_dir(self) -> Path:
        own = self.root / "runbooks"
        return own if own.is_dir() else TOOL_ROOT / "runbooks"

    def stack_file(self, stack: str) -> Path:
        return self.stacks_dir / f"Pulumi.{stack}.yaml"

    def stack_names(self) -> list[str]:
        """The customers: every stack file but the example."""
        names = (p.name[len("Pulumi."):-len(".yaml")] for p in self.stacks_dir.glob("Pulumi.*.yaml"))
        return sorted(name for name in names if name != EXAMPLE_STACK)

    def stack_state_dir(self, stack: str) -> Path:
        return self.state_dir / "stacks" / stack

    def shown(self, path: Path) -> str:
        """A path as messages name it: from the project folder when inside it."""
        return str(path.relative_to(self.root)) if path.is_relative_to(self.root) else str(path)


def read_utf8(path: Path, shown: str) -> str:
    """The text of a file a person wrote (a stack file, a mapping); unreadable or not UTF-8, it is
    one OffboardError line naming `shown` and, for bad bytes, their line and offset."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise OffboardError(f"cannot read {shown}: {error.strerror}") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise OffboardError(f"{shown} line {line}: not UTF-8 text at byte offset {error.start}") from None


def write_private(path: Path, text: str) -> Path:
    """Write a file only its owner can read (0600 from the moment it exists)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)  # the file may have existed with wider bits
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    return path


@contextmanager
def held(lock_file: Path, busy: str) -> Iterator[None]:
    """Hold an exclusive lock on `lock_file`, or raise `busy` at once; the OS frees it if we die."""
    lock_file.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_file, "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise OffboardError(f"{busy} (lock {handle.name})") from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def is_held(lock_file: Path) -> bool:
    """Whether a process (this one too) holds the lock `held` takes on `lock_file`, asked without
    waiting and without creating the file."""
    try:
        handle = open(lock_file)
    except FileNotFoundError:
        return False
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(handle, fcntl.LOCK_UN)
        return False
