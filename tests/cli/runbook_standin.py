"""`offboard` as a user runs it (`python -m tests.cli.runbook_standin runbook run ...`), with three
things stood in for: the machine steps' modules (tests.runbook.support.FakeActions, some made slow,
waiting on IBM or failing as STANDIN asks), the stack outputs, and the bucket the journal is
mirrored into (a file beside the journal)."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from offboard.errors import OffboardError, Waiting
from offboard.project import Project
from offboard.runbook import commands, mirror
from tests.runbook.support import OUTPUTS, STACK, FakeActions, workflow_actions

STANDIN = "OFFBOARD_TEST_STANDIN"  # JSON: {"<action>": "sleep" | "wait" | "wait once" | "fail", "slow outputs": "<marker file>"}
MIRRORED = "mirrored-journal.jsonl"  # what the journal's mirror put in the "bucket", beside the journal
NOT_YET = "the initial delivery is not committed in the bucket yet"


def stood_in(how: str, recorded):
    """An action that sleeps until interrupted, waits on IBM (always, or the first time only), or fails."""
    looks = []

    def action(**args):
        looks.append(1)
        if how == "sleep":
            time.sleep(60)
        if how == "wait" or (how == "wait once" and len(looks) == 1):
            raise Waiting(NOT_YET)
        if how == "fail":
            raise OffboardError("the embedded endpoint is not running")
        return recorded(**args)

    return action


def slow_outputs(marker: Path):
    """Stack outputs that take their time, as a backend does: the marker says the command is starting."""
    def outputs(project, customer, backend):
        marker.touch()
        time.sleep(60)
    return outputs


class FileBucket:
    def __init__(self, project: Project) -> None:
        self.path = project.stack_state_dir(STACK) / MIRRORED

    def put_object(self, Bucket: str, Key: str, Body: bytes) -> None:
        self.path.write_bytes(Body)


def main() -> None:
    project = Project.find()
    wanted = json.loads(os.environ.get(STANDIN, "{}"))
    actions = FakeActions(workflow_actions(project))
    for name, how in wanted.items():
        if name != "slow outputs":
            actions.replace(name, stood_in(how, actions.recorder(name)))
    commands.RenderedModules = lambda *args: actions
    commands.recorded = lambda project, stack: True  # the stack counts as provisioned: its outputs are asked for
    commands.stack_outputs = slow_outputs(Path(wanted["slow outputs"])) if "slow outputs" in wanted else lambda *args: OUTPUTS
    mirror.customer_s3 = lambda outputs: FileBucket(project)

    from offboard.cli import main as offboard

    offboard()


if __name__ == "__main__":
    main()
