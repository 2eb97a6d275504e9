import json
import signal
import subprocess
import sys
import textwrap

import pytest

from offboard.errors import OffboardError
from offboard.runbook.journal import Entry, Journal

from tests.conftest import REPO
from tests.runbook.support import BUCKET, CUSTOMER_NAME, KEY_ID, ORG_ID, SECRET, Driver, FakeActions, workflow_actions
from tests.runbook.test_workflow import DELTA, INITIAL


def journal_lines(runbook):
    return [json.loads(line) for line in runbook.journal.read_text().splitlines()]


def confirm_through(runbook, workflow, last):
    """Reach `last` in `workflow`: run, confirming every person's step on the way."""
    outcome = runbook.run(workflow, until=last)
    while outcome.reason == "person":
        runbook.confirm(outcome.stopped_at)
        outcome = runbook.run(workflow, until=last)
    assert outcome.reason == "until", outcome.message


def test_plan_lists_every_step_pending_as_json(runbook):
    for workflow, expected in (("initial", INITIAL), ("delta", DELTA)):
        plan = runbook.plan(workflow)
        rows = json.loads(json.dumps(plan.as_json()))
        assert [row["id"] for row in rows] == expected
        assert all(row["status"] == "pending" and row["workflow"] == workflow for row in rows)
        assert all({"id", "title", "actor", "kind", "status"} <= row.keys() for row in rows)
    assert not runbook.journal.exists()  # plan only reads


def test_run_stops_at_the_first_persons_step_and_confirm_lets_it_go_on(runbook, fakes):
    first = runbook.run("initial")
    assert (first.reason, first.stopped_at, first.steps, first.ok) == ("person", "select-msp", [], True)
    assert "waiting for customer" in first.message
    assert runbook.run("initial").entries == []  # still waiting: nothing new in the journal

    confirmed = runbook.confirm("select-msp", by="Ann Operator", note="contract signed 2025-03-01")
    assert confirmed.ok and confirmed.entries[0].confirmed_by == "Ann Operator"

    second = runbook.run("initial")
    assert second.steps == ["check-catalog", "provision"] and fakes.calls["stack.up"] == 1
    assert second.stopped_at == "create-servicenow-user"
    [email] = second.texts
    assert email.audience == "email" and CUSTOMER_NAME in email.path.read_text()

    select = [line for line in journal_lines(runbook) if line["step"] == "select-msp"]
    assert [line["status"] for line in select] == ["waiting", "done"]
    assert select[1]["note"] == "contract signed 2025-03-01" and select[1]["actor"] == "customer"
    assert select[1]["start"] == select[0]["start"] and select[1]["duration"] >= 0
    provision = [line for line in journal_lines(runbook) if line["step"] == "provision"]
    assert [line["status"] for line in provision] == ["started", "done"]
    assert provision[1]["figures"]["bytes"] == 1024 and provision[1]["end"] >= provision[1]["start"]


def test_the_support_case_text_is_written_when_the_run_reaches_it(runbook):
    confirm_through(runbook, "initial", "add-servicenow-user")
    outcome = runbook.run("initial")
    assert outcome.stopped_at == "open-initial-case"
    [case] = outcome.texts
    assert case.audience == "support-case" and case.path.parent == runbook.texts
    assert ORG_ID in case.path.read_text()


def test_confirm_refuses_what_it_cannot_record(runbook):
    runbook.confirm("select-msp")
    with pytest.raises(OffboardError, match=r"select-msp was already confirmed by Ann Operator at \d{4}-"):
        runbook.confirm("select-msp")
    with pytest.raises(OffboardError, match="provision is a machine step"):
        runbook.confirm("provision")
    with pytest.raises(OffboardError, match="unknown step 'sign'"):
        runbook.confirm("sign")
    with pytest.raises(OffboardError, match="say who confirms create-servicenow-user"):
        runbook.confirm("create-servicenow-user", by="  ")


def test_an_interrupted_machine_step_runs_again_and_only_it(runbook, fakes):
    confirm_through(runbook, "initial", "file-transfer-ticket")

    def killed(**args):
        fakes.calls["db.export"] += 1
        raise KeyboardInterrupt  # the operator's Ctrl-C, or any death in the middle of the step

    fakes.replace("db.export", killed)
    with pytest.raises(KeyboardInterrupt):
        runbook.run("initial")
    last = journal_lines(runbook)[-1]
    assert (last["step"], last["status"], last["end"]) == ("export-db", "started", None)
    assert {view.id: view.status for view in runbook.status("initial")}["export-db"] == "started"
    assert fakes.calls == {"catalog.check": 1, "stack.up": 1, "files.export": 1, "db.export": 1}

    fakes.replace("db.export", fakes.recorder("db.export"))
    resumed = runbook.run("initial")
    assert resumed.steps == ["export-db"]
    assert fakes.calls == {"catalog.check": 1, "stack.up": 1, "files.export": 1, "db.export": 2}
    assert resumed.stopped_at == "close-transfer-ticket"


KILLED_RUN = """
import os, signal, sys
from pathlib import Path
sys.path[:0] = [{src!r}, {repo!r}]
from tests.runbook.support import Driver, FakeActions, workflow_actions
from offboard.errors import NotProvisioned
from offboard.project import Project

def not_provisioned():
    raise NotProvisioned("not provisioned")

project = Project(root=Path({root!r}), state_dir=Path({state!r}))
actions = FakeActions(workflow_actions(project))
actions.replace("stack.up", lambda **args: os.kill(os.getpid(), signal.SIGKILL))
Driver(project, actions, not_provisioned).run("initial")
"""


def test_a_run_killed_in_the_middle_of_a_step_resumes_there(runbook, project, fakes):
    runbook.run("initial")
    runbook.confirm("select-msp")
    script = KILLED_RUN.format(src=str(REPO / "src"), repo=str(REPO),
                               root=str(project.root), state=str(project.state_dir))
    killed = subprocess.run([sys.executable, "-c", textwrap.dedent(script)], capture_output=True, text=True)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert (journal_lines(runbook)[-1]["step"], journal_lines(runbook)[-1]["status"]) == ("provision", "started")

    resumed = runbook.run("initial")
    assert resumed.steps == ["provision"] and fakes.calls["stack.up"] == 1
    assert [line["status"] for line in journal_lines(runbook) if line["step"] == "provision"] == ["started", "started", "done"]
    assert [line["status"] for line in journal_lines(runbook) if line["step"] == "select-msp"] == ["waiting", "done"]


def test_a_failed_step_waits_for_retry(runbook, fakes):
    runbook.confirm("select-msp")

    def broken(**args):
        raise OffboardError("the embedded endpoint is not running")

    fakes.replace("stack.up", broken)
    failed = runbook.run("initial")
    assert (failed.reason, failed.stopped_at, failed.ok) == ("failed", "provision", False)
    assert "the embedded endpoint is not running" in failed.message
    assert journal_lines(runbook)[-1]["error"] == "the embedded endpoint is not running"

    again = runbook.run("initial")
    assert (again.reason, again.steps) == ("failed", [])  # not run again behind the operator's back

    fakes.replace("stack.up", fakes.recorder("stack.up"))
    retried = runbook.retry("provision")
    assert (retried.reason, retried.ok, retried.steps) == ("done", True, ["provision"])
    assert runbook.run("initial").stopped_at == "create-servicenow-user"


def test_retry_refuses_steps_it_cannot_retry(runbook):
    with pytest.raises(OffboardError, match="select-msp is done by customer: confirm it"):
        runbook.retry("select-msp")
    with pytest.raises(OffboardError, match="provision has not run yet"):
        runbook.retry("provision")


def test_a_step_without_its_module_refuses_the_whole_run(project):
    partial = Driver(project, FakeActions(workflow_actions(project) - {"files.export"}))
    partial.confirm("select-msp")
    lines = partial.journal.read_bytes()
    for dry_run in (True, False):  # export-files comes later: still nothing runs, not even provision
        with pytest.raises(OffboardError, match="export-files has no rendered module"):
            partial.run("initial", dry_run=dry_run)
    assert partial.journal.read_bytes() == lines
    view = {view.id: view for view in partial.status("initial")}
    assert (view["export-files"].status, view["export-files"].module, view["export-files"].refused) == ("pending", None, "not rendered yet")
    assert (view["provision"].module, view["provision"].refused) == ("fake/provision.py", None)


def test_dry_run_changes_nothing(runbook, fakes):
    runbook.confirm("select-msp")
    before = runbook.journal.read_bytes()
    outcome = runbook.run("initial", dry_run=True)
    assert (outcome.dry_run, outcome.steps, outcome.stopped_at) == (True, ["check-catalog", "provision"], "create-servicenow-user")
    assert runbook.journal.read_bytes() == before and not runbook.texts.exists() and not fakes.calls


def test_until_stops_after_the_step(runbook, fakes):
    runbook.confirm("select-msp")
    outcome = runbook.run("initial", until="provision")
    assert (outcome.reason, outcome.steps, outcome.ok) == ("until", ["check-catalog", "provision"], True)
    assert runbook.run("initial", until="provision").steps == []
    with pytest.raises(OffboardError, match="step 'teardown' is not in the initial workflow"):
        runbook.run("initial", until="teardown")


def test_the_delta_waits_for_the_verified_initial_delivery(runbook):
    with pytest.raises(OffboardError, match=r"agree-cutover-date cannot start: .*initial delivery is verified \(waiting for verify-staging, customer-verifies-staging\)"):
        runbook.run("delta")
    with pytest.raises(OffboardError, match="open-delta-case cannot start"):
        runbook.confirm("open-delta-case")
    assert not runbook.journal.exists()
    assert runbook.plan("delta").steps[0].blocked_by == ["initial-verified"]


def test_the_delta_export_waits_for_the_read_only_org(runbook):
    runbook.walk("initial")
    runbook.confirm("agree-cutover-date")
    with pytest.raises(OffboardError, match=r"close-delta-ticket cannot start: .*read-only \(waiting for mark-read-only\)"):
        runbook.confirm("close-delta-ticket")
    # however it got there (an edited journal, a restored backup), the export does not run
    Journal(runbook.journal).append(Entry(step="export-delta-files", workflow="delta", actor="ibm", kind="automated",
                                          action="files.export", status="failed", error="earlier"))
    with pytest.raises(OffboardError, match="export-delta-files cannot start: .*read-only"):
        runbook.retry("export-delta-files")


def test_teardown_waits_for_the_customers_confirmation(runbook, fakes):
    runbook.walk("initial")
    confirm_through(runbook, "delta", "verify-production")
    runbook.confirm("close-delta-case")
    Journal(runbook.journal).append(Entry(step="teardown", workflow="delta", actor="ch-msp", kind="automated",
                                          action="teardown", status="started"))
    with pytest.raises(OffboardError, match=r"teardown cannot start: .*customer has confirmed it \(waiting for customer-confirms-delta\)"):
        runbook.retry("teardown")
    assert runbook.run("delta").stopped_at == "customer-confirms-delta"
    assert fakes.calls["teardown"] == 0


def test_the_login_gate_is_on_every_plan_until_production_holds_the_data(runbook):
    def open_gates(workflow):
        return [gate.id for gate in runbook.plan(workflow).gates if not gate.satisfied]

    assert open_gates("initial") == ["no-login-before-import"]
    assert open_gates("delta") == ["initial-verified", "org-read-only", "delta-confirmed", "no-login-before-import"]
    runbook.walk("initial")
    confirm_through(runbook, "delta", "import-production")
    assert open_gates("initial") == [] and open_gates("delta") == ["delta-confirmed"]


def test_a_mirror_that_fails_is_a_warning(runbook, bucket):
    bucket.failure = ConnectionError("the bucket is unreachable")
    outcome = runbook.run("initial")
    assert outcome.ok and outcome.warnings == ["journal not mirrored: the bucket is unreachable"]
    assert runbook.journal.exists()


def test_a_lock_held_by_another_command_refuses_the_run(runbook):
    with Journal(runbook.journal).lock():
        with pytest.raises(OffboardError, match="another runbook command"):
            runbook.run("initial")


def test_both_workflows_walk_to_the_end(runbook, fakes, bucket):
    initial, delta = runbook.walk("initial"), runbook.walk("delta")
    assert (initial[-1].reason, delta[-1].reason) == ("complete", "complete")
    assert all(view.status == "done" for view in runbook.status())
    assert len(runbook.status()) == len(INITIAL) + len(DELTA)
    assert fakes.calls["teardown"] == 1 and fakes.calls["files.export"] == 2
    assert bucket.objects[(BUCKET, "runbook/journal.jsonl")] == runbook.journal.read_bytes()
    people = [line for line in journal_lines(runbook) if line["kind"] == "manual" and line["status"] == "done"]
    assert all(line["confirmed_by"] == "Ann Operator" for line in people)


def test_a_note_holding_the_key_is_refused(runbook):
    with pytest.raises(OffboardError, match="the confirmation of select-msp contains the secret access key: refused"):
        runbook.confirm("select-msp", note=f"key for later: {SECRET}")
    assert not runbook.journal.exists()


def test_an_error_or_figure_holding_the_key_is_redacted(runbook, fakes):
    runbook.confirm("select-msp")
    fakes.replace("stack.up", lambda **args: {"user": KEY_ID})
    runbook.run("initial")

    def denied(**args):
        raise RuntimeError(f"denied for {KEY_ID}:{SECRET}")

    fakes.replace("stack.up", denied)
    outcome = runbook.retry("provision")
    assert outcome.message == "provision failed: RuntimeError: denied for [redacted]:[redacted]; retry it once the cause is fixed"
    text = runbook.journal.read_text()
    assert KEY_ID not in text and SECRET not in text and '"user":"[redacted]"' in text
