import json
from datetime import date, timedelta

import pytest

from offboard.errors import OffboardError
from offboard.runbook.journal import Journal
from offboard.runbook.records import current, record

from tests.conftest import run_cli
from tests.runbook.support import KEY_ID, OUTPUTS, STACK

IN_A_WEEK = date.today() + timedelta(days=7)


def record_in_process(project, *, cases=(), tickets=(), cutover=None, by="Ann Operator"):
    return record(project, STACK, cases=list(cases), tickets=list(tickets), cutover=cutover, by=by, backend="local",
                  outputs=lambda: OUTPUTS)


def test_record_journals_overrides_and_shows_through_the_cli(local_project):
    project = local_project
    first = run_cli(project, "runbook", "record", STACK, "--case", "CS0012345", "--ticket", "transfer=TS0001",
                    "--ticket", "customizer=TS0002", "--cutover", IN_A_WEEK.isoformat(), "--by", "Ann Operator", "-b", "local")
    assert first.returncode == 0, first.stderr
    assert "case initial: CS0012345 (Ann Operator, " in first.stdout and "ticket transfer: TS0001 (" in first.stdout
    assert first.stdout.count("not yet recorded") == 3  # the delta's case, the box-folder and delta tickets
    record_in_process(project, tickets=["transfer=TS0003"], by="Bob Operator")
    shown = run_cli(project, "runbook", "record", STACK, "--json")
    assert shown.returncode == 0, shown.stderr
    records = json.loads(shown.stdout)
    assert records["tickets"]["transfer"]["value"] == "TS0003" and records["tickets"]["transfer"]["by"] == "Bob Operator"
    assert records["tickets"]["customizer"]["value"] == "TS0002"  # a later record overrides its own keys only
    assert records["cases"]["initial"] == {**records["cases"]["initial"], "value": "CS0012345", "via": "record"}
    assert records["cutover"]["value"] == IN_A_WEEK.isoformat() and "delta" not in records["cases"]
    lines = [json.loads(line) for line in (project.stack_state_dir(STACK) / "journal.jsonl").read_text().splitlines()]
    assert [(line["status"], line["tickets"]) for line in lines] == [
        ("recorded", {"transfer": "TS0001", "customizer": "TS0002"}), ("recorded", {"transfer": "TS0003"})]


@pytest.mark.parametrize(("given", "refusal"), [
    ({"cutover": "2020-01-01"}, r"--cutover 2020-01-01 is in the past \(today is .*\): give the agreed date"),
    ({"cutover": "1.3.2031"}, "--cutover 1.3.2031: give the agreed cut-over date as YYYY-MM-DD"),
    ({"cutover": "2031-02-30"}, "--cutover 2031-02-30: give the agreed cut-over date as YYYY-MM-DD"),
    ({"cases": ["CS 1"]}, "--case initial: 'CS 1' is not a case or ticket number"),
    ({"cases": ["later=CS1"]}, "--case later=CS1: unknown name 'later'; choose one of initial, delta"),
    ({"tickets": ["TS1"]}, "--ticket TS1: write NAME=NUMBER, NAME one of box-folder, customizer, transfer, delta"),
    ({"tickets": ["box=TS1"]}, "--ticket box=TS1: unknown name 'box'"),
    ({"cases": ["CS1"], "by": " "}, "say who records: --by NAME"),
    ({"tickets": [f"delta={KEY_ID}"]}, f"the record of stack {STACK} contains the access key id: refused"),
])
def test_a_bad_value_is_refused_and_nothing_is_written(project, given, refusal):
    with pytest.raises(OffboardError, match=refusal):
        record_in_process(project, **{"cases": ["CS0012345"], **given})
    assert Journal.of_stack(project, STACK).lines() == []


def test_a_case_alone_is_the_delivery_in_progress_and_confirmations_refs_count(project, runbook):
    record_in_process(project, cases=["CS0000001"])
    outcome = runbook.run("initial")
    while outcome.stopped_at != "open-initial-case":
        runbook.confirm(outcome.stopped_at)
        outcome = runbook.run("initial")
    runbook.confirm("open-initial-case", ref="CS0000002")  # a later line wins
    records = current(Journal.of_stack(project, STACK))
    assert (records.cases["initial"].value, records.cases["initial"].via) == ("CS0000002", "open-initial-case")
    journal = Journal.of_stack(project, STACK)
    journal.append(journal.entries()[-1].model_copy(update={"workflow": "delta", "step": "agree-cutover-date"}))
    record_in_process(project, cases=["CS0000003"], cutover=date.today().isoformat())  # today is not in the past
    records = current(journal)
    assert {name: found.value for name, found in records.cases.items()} == {"initial": "CS0000002", "delta": "CS0000003"}
    assert records.cutover.value == date.today()
