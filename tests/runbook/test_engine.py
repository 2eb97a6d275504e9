import json
import re
import signal
import subprocess
import sys
import textwrap

import pytest

from offboard.errors import OffboardError, Waiting
from offboard.runbook import commands, people
from offboard.runbook.journal import Entry, Journal
from tests.conftest import REPO
from tests.runbook.support import (BUCKET, CUSTOMER_NAME, KEY_ID, ORG_ID, OUTPUTS, SECRET, STACK, Driver, FakeActions,
                                   workflow_actions)
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
    assert second.steps == ["preflight", "check-catalog", "provision"] and fakes.calls["stack.up"] == 1
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

    def interrupted(**args):
        fakes.calls["db.export"] += 1
        raise KeyboardInterrupt  # the operator's Ctrl-C, or SIGTERM (offboard.errors makes it the same)

    fakes.replace("db.export", interrupted)
    outcome = runbook.run("initial")
    assert (outcome.reason, outcome.stopped_at, outcome.exit_code, outcome.ok) == ("interrupted", "export-db", 130, False)
    assert outcome.message == "interrupted during export-db; run again to resume"
    last = journal_lines(runbook)[-1]
    assert (last["step"], last["status"]) == ("export-db", "interrupted") and last["end"] >= last["start"]
    assert last["duration"] >= 0
    assert {view.id: view.status for view in runbook.status("initial")}["export-db"] == "interrupted"
    assert fakes.calls == {"preflight.check": 1, "catalog.check": 1, "stack.up": 1, "files.export": 1, "db.export": 1}

    fakes.replace("db.export", fakes.recorder("db.export"))
    resumed = runbook.run("initial")
    assert resumed.steps == ["export-db"]
    assert fakes.calls == {"preflight.check": 1, "catalog.check": 1, "stack.up": 1, "files.export": 1, "db.export": 2}
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
    assert {view.id: view.status for view in runbook.status("initial")}["provision"] == "interrupted"  # no one holds the lock
    with Journal(runbook.journal).lock():  # as `run` does while the step runs
        assert {view.id: view.status for view in runbook.status("initial")}["provision"] == "running"

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
    assert (outcome.dry_run, outcome.steps, outcome.stopped_at) == (True, ["preflight", "check-catalog", "provision"], "create-servicenow-user")
    assert runbook.journal.read_bytes() == before and not runbook.texts.exists() and not fakes.calls


def test_until_stops_after_the_step(runbook, fakes):
    runbook.confirm("select-msp")
    outcome = runbook.run("initial", until="provision")
    assert (outcome.reason, outcome.steps, outcome.ok) == ("until", ["preflight", "check-catalog", "provision"], True)
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
    runbook.confirm("close-delta-case", out_of_order=True, reason="the case closed early")
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
    assert (initial[-1].reason, delta[-1].reason, delta[-1].exit_code) == ("complete", "complete", 0)
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
    assert re.fullmatch(r"provision failed at \d{4}-\d\d-\d\d \d\d:\d\d UTC: RuntimeError: denied for \[redacted\]:\[redacted\]; "
                        r"once the cause is fixed, `offboard runbook retry` it", outcome.message)
    text = runbook.journal.read_text()
    assert KEY_ID not in text and SECRET not in text and '"user":"[redacted]"' in text


def test_a_persons_step_is_confirmed_in_order_or_out_of_order_with_a_reason(runbook):
    runbook.confirm("select-msp")
    runbook.run("initial")  # the machine steps run; it waits for create-servicenow-user
    before = runbook.journal.read_bytes()
    with pytest.raises(OffboardError, match=r"^add-servicenow-user cannot be confirmed yet: create-servicenow-user before it "
                                            r"is not done; confirm in order, or add --out-of-order --reason TEXT$"):
        runbook.confirm("add-servicenow-user")
    with pytest.raises(OffboardError, match="--out-of-order needs --reason TEXT"):
        runbook.confirm("add-servicenow-user", out_of_order=True, reason="  ")
    with pytest.raises(OffboardError, match="--reason says nothing readable"):  # invisible: no reason at all
        runbook.confirm("add-servicenow-user", out_of_order=True, reason="\u200b\x01\x1b")
    with pytest.raises(OffboardError, match="--reason goes with --out-of-order"):
        runbook.confirm("add-servicenow-user", reason="early")
    with pytest.raises(OffboardError, match="the confirmation of add-servicenow-user contains the secret access key"):
        runbook.confirm("add-servicenow-user", out_of_order=True, reason=f"see {SECRET}")
    assert runbook.journal.read_bytes() == before

    accepted = runbook.confirm("add-servicenow-user", out_of_order=True, reason="the customer added it unasked", ref="CS0012345")
    assert (accepted.reason, accepted.exit_code, accepted.steps) == ("confirmed", 0, ["add-servicenow-user"])
    last = journal_lines(runbook)[-1]
    assert (last["step"], last["status"], last["ref"]) == ("add-servicenow-user", "done", "CS0012345")
    assert last["reason"] == "confirmed before create-servicenow-user was done: the customer added it unasked"
    assert runbook.run("initial").stopped_at == "create-servicenow-user"  # the walk still stops at the step skipped
    runbook.confirm("create-servicenow-user")
    assert runbook.run("initial").stopped_at == "open-initial-case"


def test_a_reference_is_one_short_word(runbook):
    for bad in ("", "CS 0012345", "CS0012345\n", "C" * 65, "CS\x07"):
        with pytest.raises(OffboardError, match="--ref takes the case or ticket number as one word"):
            runbook.confirm("select-msp", ref=bad)
    runbook.confirm("select-msp", ref="INC-2025/0042")
    [row] = [row for row in runbook.plan("initial").as_json() if row["id"] == "select-msp"]
    assert (row["status"], row["ref"]) == ("done", "INC-2025/0042")


def test_revoke_makes_the_step_and_the_later_ones_pending_and_run_does_them_again(runbook, fakes):
    runbook.confirm("select-msp")
    machine = runbook.run("initial").steps
    with pytest.raises(OffboardError, match="provision is a machine step: only a person's confirmation is revoked"):
        runbook.revoke("provision", reason="again")
    with pytest.raises(OffboardError, match="create-servicenow-user is not done: there is no confirmation to revoke"):
        runbook.revoke("create-servicenow-user", reason="again")
    with pytest.raises(OffboardError, match="say why select-msp is revoked"):
        runbook.revoke("select-msp", reason=" ")
    with pytest.raises(OffboardError, match="the revocation of select-msp contains the secret access key"):
        runbook.revoke("select-msp", reason=SECRET)

    revoked = runbook.revoke("select-msp", reason="the contract is not signed after all")
    assert (revoked.reason, revoked.exit_code, revoked.steps) == ("revoked", 0, ["select-msp", *machine])
    assert revoked.message.startswith("select-msp revoked by Ann Operator: confirm it again once it is done; pending again after it: ")
    lines = journal_lines(runbook)[-len(revoked.steps):]
    assert [(line["step"], line["status"]) for line in lines] == [(step, "revoked") for step in revoked.steps]
    assert lines[0]["reason"] == "the contract is not signed after all" and lines[0]["confirmed_by"] == "Ann Operator"
    assert {line["reason"] for line in lines[1:]} == {"select-msp revoked: the contract is not signed after all"}
    status = {view.id: view.status for view in runbook.status("initial")}
    assert {status[step] for step in revoked.steps} == {"pending"} and status["create-servicenow-user"] == "waiting"

    waiting = runbook.run("initial")
    assert (waiting.reason, waiting.stopped_at, waiting.exit_code, waiting.steps) == ("person", "select-msp", 3, [])
    assert journal_lines(runbook)[-1]["status"] == "waiting"
    runbook.confirm("select-msp")
    assert runbook.run("initial").steps == machine and fakes.calls["stack.up"] == 2


def test_a_step_waiting_on_ibm_is_journaled_waiting_and_runs_again(runbook, fakes):
    runbook.confirm("select-msp")

    def not_yet(**args):  # the engine tells a wait from a failure whatever the step; IBM's are the exports
        raise Waiting("the initial delivery is not committed in the bucket yet")

    fakes.replace("stack.up", not_yet)
    outcome = runbook.run("initial")
    assert (outcome.reason, outcome.stopped_at, outcome.exit_code, outcome.ok) == ("ibm", "provision", 4, False)
    assert outcome.message == ("waiting on IBM at provision: the initial delivery is not committed in the bucket yet; "
                               "run again later, or with --wait")
    last = journal_lines(runbook)[-1]
    assert (last["step"], last["status"], last["error"]) == ("provision", "waiting", None)
    assert last["note"] == "the initial delivery is not committed in the bucket yet" and last["end"]
    assert {view.id: view.status for view in runbook.status("initial")}["provision"] == "waiting"

    fakes.replace("stack.up", fakes.recorder("stack.up"))
    arrived = runbook.run("initial")
    assert arrived.steps == ["provision"] and arrived.stopped_at == "create-servicenow-user"


def arriving(*looks):
    """A step whose delivery arrives at the look given True: Waiting until then."""
    pending = list(looks)

    def look(**args):
        if pending.pop(0):
            return {"files": 3}
        raise Waiting("not there yet")
    return look


def test_run_wait_looks_again_until_the_delivery_arrives(runbook, fakes):
    runbook.confirm("select-msp")
    fakes.replace("stack.up", arriving(False, False, True))
    said, slept = [], []
    outcome = runbook.run("initial", polling=commands.Polling(timeout=0, interval=60, say=said.append, sleep=slept.append))
    assert (outcome.reason, outcome.stopped_at, outcome.exit_code) == ("person", "create-servicenow-user", 3)
    assert outcome.steps[-3:] == ["provision", "provision", "provision"]
    assert [entry.status for entry in outcome.entries][-3:] == ["waiting", "done", "waiting"]
    # a look that finds the same wait writes nothing: days of --wait do not fill the journal
    assert [line["status"] for line in journal_lines(runbook) if line["step"] == "provision"] == ["started", "waiting", "done"]
    assert slept == [60, 60] and len(said) == 2
    assert re.fullmatch(r"waiting on IBM at provision: not there yet; next look at \d\d:\d\d:\d\d \S+", said[0])


def test_run_wait_gives_up_at_its_timeout(runbook, fakes):
    runbook.confirm("select-msp")
    fakes.replace("stack.up", arriving(*[False] * 100))
    said = []
    outcome = runbook.run("initial", polling=commands.Polling(timeout=0.3, interval=0.1, say=said.append))
    assert (outcome.reason, outcome.exit_code) == ("ibm", 4) and 2 <= len(said) <= 4
    with pytest.raises(OffboardError, match="--interval must be more than 0 seconds"):
        runbook.run("initial", polling=commands.Polling(timeout=0, interval=0, say=said.append))


def test_every_change_of_a_steps_state_is_told_and_a_hooks_warning_joins_the_outcome(project, fakes):
    told = []

    def notify(event, entry):
        told.append((event, entry.step))
        return "the hook failed: exit 2" if event == "confirmed" else None

    engine = commands.open_engine(project, STACK, backend="local", runner=fakes, outputs=lambda: OUTPUTS)
    engine.notify = notify
    engine.run("initial")
    assert people.confirm(engine, "select-msp", "Ann Operator").warnings == ["the hook failed: exit 2"]
    machine = engine.run("initial").steps
    people.revoke(engine, "select-msp", "Ann Operator", "not signed")
    assert told == [("waiting", "select-msp"), ("confirmed", "select-msp"), *(("done", step) for step in machine),
                    ("waiting", "create-servicenow-user"), ("revoked", "select-msp"), *(("revoked", step) for step in machine)]

    people.confirm(engine, "select-msp", "Ann Operator")
    fakes.replace("stack.up", arriving(False, False))  # waits on IBM twice: told once
    engine.run("initial")
    engine.run("initial")
    assert told.count(("waiting", "provision")) == 1


def test_a_step_of_the_initial_delivery_is_not_revoked_once_the_delta_has_begun(runbook):
    runbook.walk("initial")
    assert runbook.run("delta").stopped_at == "agree-cutover-date"
    with pytest.raises(OffboardError, match=r"^customer-verifies-staging belongs to the initial delivery and the delta delivery "
                                            r"has begun: .* revoke a step of the delta delivery instead$"):
        runbook.revoke("customer-verifies-staging", reason="the customer found a problem")


def test_ctrl_c_between_two_looks_is_an_interrupted_outcome(runbook, fakes):
    runbook.confirm("select-msp")
    fakes.replace("stack.up", arriving(False, False))

    def interrupted(seconds):
        raise KeyboardInterrupt

    outcome = runbook.run("initial", polling=commands.Polling(timeout=0, interval=60, say=lambda line: None, sleep=interrupted))
    assert (outcome.reason, outcome.exit_code, outcome.stopped_at) == ("interrupted", 130, "provision")
    assert outcome.message == "interrupted while waiting on IBM at provision; run again to go on"
