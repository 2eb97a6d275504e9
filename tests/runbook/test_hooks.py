import json
import sys

import pytest

from offboard.customer import load_customer
from offboard.errors import OffboardError
from offboard.runbook import hooks
from offboard.runbook.journal import Entry

from tests.conftest import CUSTOMERS, stack_yaml
from tests.runbook.support import KEY_ID, OUTPUTS, SECRET, STACK

HOOK = """\
import json, os, sys
facts = json.load(sys.stdin)
with open(sys.argv[1], "a") as told:
    told.write(json.dumps({"facts": facts, "environment": dict(os.environ)}) + "\\n")
"""


def with_hook(project, command) -> None:
    alpha = CUSTOMERS[STACK]
    setting = f"  offboard:hooks:\n    command: {json.dumps(command)}\n"
    project.stack_file(STACK).write_text(stack_yaml(alpha["orgId"], alpha["customerName"], alpha["region"], setting))


@pytest.fixture
def told(project, tmp_path):
    """A hook that appends what it is told, its input and its environment, to a file: its lines."""
    script, seen = tmp_path / "hook.py", tmp_path / "told.jsonl"
    script.write_text(HOOK)
    with_hook(project, f"{sys.executable} {script} {seen}")
    return lambda: [json.loads(line) for line in seen.read_text().splitlines()] if seen.exists() else []


def test_the_hook_is_told_each_step_event_as_json_on_its_input(project, runbook, told, monkeypatch):
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-for-hooks")
    monkeypatch.setenv("LDAP_PASSWORD", "not-for-hooks-either")
    monkeypatch.setenv("HOOK_CAN_SEE", "yes")
    assert runbook.run("initial").stopped_at == "select-msp"
    runbook.confirm("select-msp", note="signed in May", ref="CONTRACT-7")
    outcome = runbook.run("initial")
    assert outcome.stopped_at == "create-servicenow-user" and outcome.warnings == []
    lines = told()
    machine = [(entry.step, "done") for entry in outcome.entries if entry.kind == "automated"]
    assert ("provision", "done") in machine
    assert [(line["facts"]["step"], line["facts"]["event"]) for line in lines] == [
        ("select-msp", "waiting"), ("select-msp", "confirmed"), *machine, ("create-servicenow-user", "waiting")]
    confirmed = lines[1]["facts"]
    assert confirmed == {**confirmed, "stack": STACK, "customer": "Alpha Holding AG", "org_id": "20011111",
                         "workflow": "initial", "title": "Customer selects the MSP and signs", "actor": "customer",
                         "status": "done", "confirmed_by": "Ann Operator", "note": "signed in May", "ref": "CONTRACT-7"}
    assert lines[2]["facts"]["figures"]["bytes"] == 1024 and lines[2]["facts"]["start"] and lines[2]["facts"]["end"]
    environment = lines[0]["environment"]
    assert environment["HOOK_CAN_SEE"] == "yes"
    assert not {"AWS_SECRET_ACCESS_KEY", "LDAP_PASSWORD"} & set(environment)


def test_a_failing_or_missing_hook_is_a_warning_and_the_step_still_succeeds(project, runbook, tmp_path):
    failing = tmp_path / "failing.py"
    failing.write_text("import sys\nsys.stdin.read()\nprint('ServiceNow said no', file=sys.stderr)\nsys.exit(3)\n")
    with_hook(project, [sys.executable, str(failing)])
    confirmed = runbook.confirm("select-msp")
    assert confirmed.ok and confirmed.warnings == ["hook on confirmed of select-msp failed (exit 3): ServiceNow said no"]
    outcome = runbook.run("initial", until="check-catalog")
    assert outcome.ok and {entry.status for entry in outcome.entries} == {"done"}
    assert outcome.warnings == [f"hook on done of {entry.step} failed (exit 3): ServiceNow said no" for entry in outcome.entries]
    with_hook(project, "./hooks/absent.sh --quiet")
    outcome = runbook.run("initial", until="provision")
    assert outcome.ok and [entry.step for entry in outcome.entries] == ["provision"] and outcome.warnings == [
        "hook not run on done of provision: ./hooks/absent.sh is not an executable program; fix offboard:hooks.command"]


def test_a_hanging_hook_is_stopped(project, tmp_path, monkeypatch):
    monkeypatch.setattr(hooks, "HOOK_TIMEOUT", 0.3)
    with_hook(project, [sys.executable, "-c", "import time; time.sleep(30)"])
    notify = hooks.notifier(project, load_customer(project, STACK), lambda: OUTPUTS)
    entry = Entry(step="provision", workflow="initial", actor="ch-msp", kind="automated", status="done")
    assert notify("done", entry) == "hook on done of provision did not finish in 0.3 s: stopped"


def test_a_hook_that_leaves_a_child_running_or_floods_its_stderr_does_not_hold_the_run(project, tmp_path):
    noisy = tmp_path / "noisy.py"  # a notifier that daemonises, after 20 MB of chatter on stderr
    noisy.write_text("import os, subprocess, sys\nsys.stdin.read()\nsys.stderr.write('x' * 20_000_000 + '\\nqueue full\\n')\n"
                     "subprocess.Popen(['sleep', '30'], start_new_session=True, stderr=sys.stderr)\nsys.exit(1)\n")
    with_hook(project, [sys.executable, str(noisy)])
    notify = hooks.notifier(project, load_customer(project, STACK), lambda: OUTPUTS)
    entry = Entry(step="provision", workflow="initial", actor="ch-msp", kind="automated", status="done")
    assert notify("done", entry) == "hook on done of provision failed (exit 1): queue full"  # at once, not in 30 s


def test_the_cloud_s_credentials_stay_out_of_the_hook_s_environment(project, monkeypatch):
    hidden, seen = ("PULUMI_CONFIG_PASSPHRASE", "PULUMI_ACCESS_TOKEN", "AWS_SESSION_TOKEN", "DB2_PASSWD"), ("SERVICENOW_TOKEN",)
    for name in hidden + seen:
        monkeypatch.setenv(name, "x")
    environment = hooks.hook_environment(load_customer(project, STACK))
    assert not set(hidden) & set(environment) and set(seen) <= set(environment)  # the MSP's own tool's token is the hook's


def test_the_hook_is_never_told_a_secret(project, told):
    notify = hooks.notifier(project, load_customer(project, STACK), lambda: OUTPUTS)
    entry = Entry(step="provision", workflow="initial", actor="ch-msp", kind="automated", status="failed",
                  error=f"denied for {KEY_ID}", figures={"key": SECRET})
    assert notify("failed", entry) is None
    [line] = told()
    assert SECRET not in json.dumps(line) and KEY_ID not in json.dumps(line)
    assert line["facts"]["figures"] == {"key": "[redacted]"}


@pytest.mark.parametrize(("command", "refusal"), [
    ([], "offboard:hooks.command"),
    ("notify 'unclosed", "offboard:hooks.command: .*not a command line"),
])
def test_a_bad_hook_setting_is_refused_when_the_stack_is_read(project, command, refusal):
    with_hook(project, command)
    with pytest.raises(OffboardError, match=refusal):
        load_customer(project, STACK)


def test_a_stack_without_a_hook_notifies_nobody(project):
    assert load_customer(project, STACK).hooks is None
    with_hook(project, "notify-servicenow --case 'CS 1'")
    assert load_customer(project, STACK).hooks.command == ["notify-servicenow", "--case", "CS 1"]
