"""Which backend a stack lives on: recorded by `stack up` in the stack's state folder, so a
command that is not told a backend works on the stack's own and one told another is refused.

Light on purpose (no boto3, no Pulumi): the runbook's commands and `fleet` ask it without
reaching any backend.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone

from pydantic import BaseModel

from offboard.errors import NotProvisioned, OffboardError
from offboard.infra.outputs import StackOutputs
from offboard.project import Project

BACKENDS = ("pulumi", "local")
DEFAULT_BACKEND = "pulumi"  # before a stack is provisioned, unless asked
RECORD_FILE = "backend.json"


class Provisioned(BaseModel):
    backend: str
    provisioned: datetime
    destroyed: datetime | None = None  # once destroyed, the stack lives nowhere: another backend may take it


def recorded(project: Project, stack: str) -> Provisioned | None:
    path = project.stack_state_dir(stack) / RECORD_FILE
    try:
        return Provisioned.model_validate_json(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except ValueError:
        raise OffboardError(f"{project.shown(path)} is not a backend record: remove it, then `offboard stack up {stack} --backend ...`") from None


def record_up(project: Project, stack: str, backend: str) -> None:
    """After `up` succeeded: the stack lives on `backend` (the first time's date is kept)."""
    previous = recorded(project, stack)
    since = previous.provisioned if previous and previous.backend == backend and not previous.destroyed else utc_now()
    write(project, stack, Provisioned(backend=backend, provisioned=since))


def record_destroyed(project: Project, stack: str) -> None:
    previous = recorded(project, stack)
    if previous:
        write(project, stack, previous.model_copy(update={"destroyed": utc_now()}))


def stack_backend(project: Project, stack: str, asked: str | None) -> str:
    """The backend a command on `stack` works on: the one it was provisioned on; before that (or
    once destroyed), the one asked (--backend, OFFBOARD_BACKEND), else pulumi. Asking for another
    backend than the stack's own is refused."""
    if asked is not None and asked not in BACKENDS:
        raise OffboardError(f"unknown backend {asked!r}: choose one of {', '.join(BACKENDS)}")
    record = recorded(project, stack)
    if record is None or record.destroyed:
        return asked or DEFAULT_BACKEND
    if asked not in (None, record.backend):
        raise OffboardError(f"stack {stack} lives on the {record.backend} backend (provisioned {record.provisioned:%Y-%m-%d %H:%M} UTC), "
                            f"not {asked}: drop --backend/OFFBOARD_BACKEND, or give --backend {record.backend}")
    return record.backend


def recorded_outputs(project: Project, stack: str) -> StackOutputs:
    """The public outputs recorded at `stack up`, with an empty secret: what plan and status
    show, without reaching the backend (nor needing the endpoint to run)."""
    made = StackOutputs.recorded(project.stack_state_dir(stack))
    if made is None:
        raise NotProvisioned(f"stack {stack} is not provisioned: run `offboard stack up {stack}`")
    return made


def write(project: Project, stack: str, record: Provisioned) -> None:
    folder = project.stack_state_dir(stack)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / RECORD_FILE).write_text(json.dumps(record.model_dump(mode="json"), indent=2) + "\n", encoding="utf-8")


def utc_now() -> datetime:
    return datetime.now(timezone.utc).replace(microsecond=0)
