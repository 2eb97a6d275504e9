"""What a stage needs when it runs, besides the customer's values that its caller spells out.

A stage (export, import, fix-up, verify, provision, teardown) is called with the customer's
values as concrete arguments: org id, bucket, database URLs, content stores. A rendered
runbook module writes them out for review; a CLI command takes them from the stack file.
What is not spelled out comes from here when the stage runs: the project's folders, the
stack's state folder, and the customer's key, read from the stack's state (never written
into a module). With `dry_run` a stage says what it would do and changes nothing. A stage called
without its own `progress=` reports to `progress`: a runbook step's display and log
(offboard.runbook.progress), or nowhere.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, ContextManager, Protocol, TypeVar

from offboard.customer import Customer, load_customer
from offboard.errors import OffboardError
from offboard.infra.outputs import StackOutputs
from offboard.project import Project, held

if TYPE_CHECKING:
    from offboard.db.scan import Progress as RowsProgress
    from offboard.files.progress import Progress as FilesProgress

Result = TypeVar("Result")
STAGES_LOCK = "stages.lock"


class StageProgress(Protocol):
    """Where a stage reports progress it was given no sink for: each call starts a new display."""

    def files(self) -> FilesProgress | None: ...

    def rows(self) -> RowsProgress | None: ...


class NoProgress:
    def files(self) -> None:
        return None

    def rows(self) -> None:
        return None


NO_PROGRESS = NoProgress()


@dataclass(frozen=True)
class Runtime:
    project: Project
    stack: str
    backend: str | None  # where the stack lives: "local" (embedded endpoint), "pulumi", or None: no bucket needed
    dry_run: bool = False
    progress: StageProgress = NO_PROGRESS

    @property
    def state_dir(self) -> Path:
        return self.project.stack_state_dir(self.stack)

    def customer(self) -> Customer:
        """The stack file, for what reads it whole: Pulumi provisions from it."""
        return load_customer(self.project, self.stack)

    def outputs(self, bucket: str) -> StackOutputs:
        """The stack's outputs with its key; refused unless they name the bucket the caller expects."""
        from offboard.infra import (
            stacks,  # the infrastructure loads only when a stage reaches for the key
        )

        if self.backend is None:
            raise OffboardError(f"stack {self.stack}: this stage was given no backend, so it cannot reach the bucket")
        outputs = stacks.outputs(self.project, self.customer(), self.backend)
        if outputs.bucket != bucket:
            raise OffboardError(f"stack {self.stack} holds bucket {outputs.bucket}, not {bucket}: render its runbook modules again")
        return outputs

    def changing(self) -> ContextManager[None]:
        """Held while something changes the stack: its bucket, its work folders or a target."""
        return held(self.state_dir / STAGES_LOCK, f"another offboard command is changing stack {self.stack}; try again when it ends")

    def s3(self, bucket: str):
        """An S3 client with the customer's own key, for its bucket."""
        from offboard.transfer.session import customer_s3

        return customer_s3(self.outputs(bucket))


def one_at_a_time(stage: Callable[..., Result]) -> Callable[..., Result]:
    """For a stage that changes the bucket, the stack's work folders or a target: while it runs,
    no other such stage of the same stack may (two exports of one delivery would write the same
    archives and chunks). A dry run changes nothing and takes no lock."""

    @functools.wraps(stage)
    def locked(runtime: Runtime, **values: Any) -> Result:
        if runtime.dry_run:
            return stage(runtime, **values)
        with runtime.changing():
            return stage(runtime, **values)

    return locked
