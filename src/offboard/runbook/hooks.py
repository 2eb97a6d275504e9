"""The stack's hook (`offboard:hooks.command`): run on each step event (waiting, confirmed, done,
failed, revoked, interrupted) with the step's facts as one JSON object on its input, so that an
MSP wires its ServiceNow, JIRA or Box to the runbook without changing the tool.

The hook runs without a shell, in the project folder, in a session of its own, and is stopped
after HOOK_TIMEOUT seconds. It gets the process environment without the AWS_* variables, the
*PASSWORD* ones and those the customer's database URLs name; its input holds no secret (the
key and the databases' passwords are redacted). A hook that is missing, fails or hangs is a
warning, never a failure of the step.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path
from typing import IO, Any, Callable

from offboard.customer import ENV_REFERENCE, Customer
from offboard.errors import OffboardError
from offboard.infra.outputs import StackOutputs
from offboard.project import Project
from offboard.runbook.engine import Notify, no_notice
from offboard.runbook.journal import Entry, Journal
from offboard.runbook.modules import secrets_of
from offboard.runbook.records import current
from offboard.runbook.workflow import Runbook, load_runbook

HOOK_TIMEOUT = 30.0  # seconds
STDERR_TAIL = 4096  # bytes of its stderr read back for the warning
HIDDEN_PREFIXES = ("AWS_", "PULUMI_")
HIDDEN_WORDS = ("PASSWORD", "PASSWD", "PASSPHRASE")  # a token of the MSP's own tools is the hook's to use
ENTRY_FACTS = {"workflow", "step", "actor", "kind", "status", "confirmed_by", "note", "ref", "reason", "error",
               "start", "end", "duration", "figures", "command"}


def notifier(project: Project, customer: Customer, outputs: Callable[[], StackOutputs | None]) -> Notify:
    """What the engine calls after each step event: the stack's hook, or nothing when it has none."""
    if customer.hooks is None:
        return no_notice
    return Hook(project, customer, outputs)


class Hook:
    def __init__(self, project: Project, customer: Customer, outputs: Callable[[], StackOutputs | None]) -> None:
        self.project, self.customer, self.outputs = project, customer, outputs
        self._runbook: Runbook | None = None

    def __call__(self, event: str, entry: Entry) -> str | None:
        sensitive = secrets_of(self.customer, self.outputs())
        facts = sensitive.redact_figures(self.facts(event, entry))
        warning = run_hook(self.project, self.customer, json.dumps(facts), f"{event} of {entry.step}")
        return sensitive.redact(warning) if warning else None

    def facts(self, event: str, entry: Entry) -> dict[str, Any]:
        records = current(Journal.of_stack(self.project, self.customer.stack))
        return {
            "stack": self.customer.stack, "customer": self.customer.customer_name, "org_id": self.customer.org_id,
            "event": event, "title": self.title(entry.step),
            **entry.model_dump(mode="json", include=ENTRY_FACTS),
            "records": {
                "cases": {name: found.value for name, found in records.cases.items()},
                "tickets": {name: found.value for name, found in records.tickets.items()},
                "cutover": records.cutover.value.isoformat() if records.cutover else None,
            },
        }

    def title(self, step: str) -> str | None:
        try:
            if self._runbook is None:
                self._runbook = load_runbook(self.project, self.customer, self.outputs())
            return self._runbook.find(step)[1].title
        except OffboardError:  # not a step of the workflows (a stage command run by hand)
            return None


def run_hook(project: Project, customer: Customer, facts: str, what: str) -> str | None:
    """Run the hook with `facts` on its input; a warning when it could not run, failed or hung."""
    argv = customer.hooks.command
    environment = hook_environment(customer)
    program = find_program(project, argv[0], environment.get("PATH"))
    if program is None:
        return f"hook not run on {what}: {argv[0]} is not an executable program; fix offboard:hooks.command"
    # Its stderr goes to a file, not a pipe: a child it leaves running cannot hold the run on the
    # pipe's end, and gigabytes of output cost disk, not memory; only the last line is read.
    with tempfile.TemporaryFile() as stderr:
        try:
            process = subprocess.Popen([program, *argv[1:]], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                       stderr=stderr, env=environment, cwd=project.root, start_new_session=True)
        except OSError as error:
            return f"hook not run on {what}: {error.strerror}"
        try:
            process.communicate(facts.encode("utf-8"), timeout=HOOK_TIMEOUT)
        except subprocess.TimeoutExpired:
            stop(process)
            return f"hook on {what} did not finish in {HOOK_TIMEOUT:g} s: stopped"
        except BaseException:  # Ctrl-C: the hook, in a session of its own, would not get it
            stop(process)
            raise
        if process.returncode != 0:
            said = last_line(stderr)
            return f"hook on {what} failed (exit {process.returncode})" + (f": {said[:200]}" if said else "")
    return None


def last_line(output: IO[bytes]) -> str:
    """The last non-blank line of what the hook wrote, from the file's last 4 KiB."""
    size = output.seek(0, os.SEEK_END)
    output.seek(max(0, size - STDERR_TAIL))
    lines = [line.strip() for line in output.read().decode("utf-8", "replace").splitlines() if line.strip()]
    return lines[-1] if lines else ""


def stop(process: subprocess.Popen) -> None:
    """Kill the hook and whatever it started in its session, then reap it."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait()


def find_program(project: Project, name: str, path: str | None) -> str | None:
    """The hook's program: a path (relative ones from the project folder), or a name on PATH."""
    if os.sep not in name:
        return shutil.which(name, path=path)
    program = project.root / Path(name).expanduser()
    return str(program) if program.is_file() and os.access(program, os.X_OK) else None


def hook_environment(customer: Customer) -> dict[str, str]:
    """This process's environment without the cloud's credentials (AWS, Pulumi: its passphrase opens
    every stack's secrets), passwords, and the databases' variables."""
    named = {name for side in filter(None, (customer.source, customer.staging, customer.production))
             for url in side.databases.values() for name in ENV_REFERENCE.findall(url)}
    return {name: value for name, value in os.environ.items()
            if not name.startswith(HIDDEN_PREFIXES) and not any(word in name.upper() for word in HIDDEN_WORDS)
            and name not in named}
