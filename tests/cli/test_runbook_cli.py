"""`offboard runbook ...` as a user runs it: exit codes, --json, Ctrl-C, the order of people's steps.

Each command runs in a child process through tests.cli.runbook_standin (the real CLI, with the
machine steps, the stack outputs and the journal's bucket stood in for); what only prepares a
stack runs in this process through tests.runbook.support.Driver."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from offboard.runbook import mirror
from offboard.runbook.fleet import row_of
from offboard.runbook.journal import Journal
from tests.cli.runbook_standin import MIRRORED, NOT_YET, STANDIN
from tests.conftest import REPO
from tests.runbook.support import STACK, Driver, FakeActions, FakeS3, workflow_actions


@pytest.fixture
def driver(project, monkeypatch) -> Driver:
    monkeypatch.setattr(mirror, "customer_s3", lambda outputs: FakeS3())
    return Driver(project, FakeActions(workflow_actions(project)))


def command(project, *args: str, standin: dict | None = None) -> list:
    """The child process's command line and environment."""
    env = {**os.environ, "OFFBOARD_PROJECT": str(project.root), STANDIN: json.dumps(standin or {})}
    return [[sys.executable, "-m", "tests.cli.runbook_standin", *args], env]


def offboard(project, *args: str, standin: dict | None = None) -> subprocess.CompletedProcess:
    line, env = command(project, *args, standin=standin)
    return subprocess.run(line, env=env, cwd=REPO, capture_output=True, text=True, timeout=60)


def started(project, *args: str, standin: dict, until) -> subprocess.Popen:
    """A command started, once `until()` says it got where the test interrupts it."""
    line, env = command(project, *args, standin=standin)
    process = subprocess.Popen(line, env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 30
    while not until():
        assert process.poll() is None and time.monotonic() < deadline, process.communicate()
        time.sleep(0.05)
    return process


def step_status(driver: Driver, step: str) -> str:
    return {view.id: view.status for view in driver.status("initial")}[step]


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_step_stopped_by_ctrl_c_is_journaled_interrupted_and_run_resumes_there(project, driver, signum):
    driver.confirm("select-msp")
    journal = Journal(driver.journal)

    def provisioning() -> bool:
        latest = journal.latest().get("provision")
        return latest is not None and latest.status == "started"

    process = started(project, "runbook", "run", STACK, "initial", standin={"stack.up": "sleep"}, until=provisioning)
    assert step_status(driver, "provision") == "running" and row_of(project, STACK).status == "running"
    process.send_signal(signum)
    stdout, stderr = process.communicate(timeout=30)
    assert (process.returncode, stderr) == (130, "offboard: interrupted during provision; run again to resume\n"), stdout
    last = journal.entries()[-1]
    assert (last.step, last.status) == ("provision", "interrupted") and last.end > last.start and last.duration > 0
    assert (driver.journal.parent / MIRRORED).read_bytes() == driver.journal.read_bytes()
    assert step_status(driver, "provision") == "interrupted" and row_of(project, STACK).status == "interrupted"

    resumed = driver.run("initial")
    assert resumed.steps == ["provision"] and resumed.stopped_at == "create-servicenow-user"


def test_ctrl_c_while_the_command_starts_is_one_line(project, tmp_path):
    marker = tmp_path / "loading-outputs"
    process = started(project, "runbook", "run", STACK, "initial", standin={"slow outputs": str(marker)}, until=marker.exists)
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=30)
    assert (process.returncode, stdout, stderr) == (130, "", "offboard: interrupted; run the same command again to go on\n")
    assert not Journal.of_stack(project, STACK).path.exists()


def test_run_exits_3_for_a_person_4_for_ibm_0_when_done_and_says_it_in_json(project):
    person = offboard(project, "runbook", "run", STACK, "initial", "--json")
    assert person.returncode == 3, person.stderr
    said = json.loads(person.stdout)
    assert (said["reason"], said["exit_code"], said["stopped_at"], said["steps"], said["texts"]) == ("person", 3, "select-msp", [], [])
    assert [entry["status"] for entry in said["entries"]] == ["waiting"] and said["message"].endswith("confirm select-msp once it is done")

    confirmed = offboard(project, "runbook", "confirm", STACK, "select-msp", "--by", "Ann", "--ref", "CS0012345", "--json")
    assert confirmed.returncode == 0 and json.loads(confirmed.stdout)["entries"][0]["ref"] == "CS0012345"

    ibm = offboard(project, "runbook", "run", STACK, "initial", "--json", standin={"stack.up": "wait"})
    said = json.loads(ibm.stdout)
    assert (ibm.returncode, said["reason"], said["exit_code"], said["stopped_at"]) == (4, "ibm", 4, "provision")
    assert said["entries"][-1]["note"] == NOT_YET and said["steps"][-1] == "provision"

    waited = offboard(project, "runbook", "run", STACK, "initial", "--until", "provision", "--wait", "--timeout", "30",
                      "--interval", "0.2", standin={"stack.up": "wait once"})
    assert waited.returncode == 0, waited.stderr
    lines = waited.stdout.splitlines()
    assert [line for line in lines if line.startswith("waiting on IBM at provision: ")] == [lines[0]]
    assert lines[0].startswith(f"waiting on IBM at provision: {NOT_YET}; next look at ")
    assert "ran provision: done" in waited.stdout and lines[-1] == "stopped after provision, as asked"


def test_a_confirmation_out_of_order_needs_a_reason_and_a_revocation_undoes_it(project):
    refused = offboard(project, "runbook", "confirm", STACK, "add-servicenow-user", "--by", "Ann")
    assert (refused.returncode, refused.stderr) == (1, "offboard: add-servicenow-user cannot be confirmed yet: select-msp before "
                                                       "it is not done; confirm in order, or add --out-of-order --reason TEXT\n")
    accepted = offboard(project, "runbook", "confirm", STACK, "add-servicenow-user", "--by", "Ann", "--out-of-order",
                        "--reason", "added at the kick-off", "--ref", "INC0042")
    assert accepted.returncode == 0, accepted.stderr
    journal = Journal.of_stack(project, STACK)
    done = journal.latest()["add-servicenow-user"]
    assert (done.status, done.ref, done.reason) == ("done", "INC0042", "confirmed before select-msp was done: added at the kick-off")

    revoked = offboard(project, "runbook", "revoke", STACK, "add-servicenow-user", "--by", "Ben", "--reason", "wrong stack")
    assert revoked.returncode == 0 and "add-servicenow-user revoked by Ben" in revoked.stdout, revoked.stderr
    assert "add-servicenow-user" not in journal.latest()
    last = journal.entries()[-1]
    assert (last.step, last.status, last.confirmed_by, last.reason) == ("add-servicenow-user", "revoked", "Ben", "wrong stack")
