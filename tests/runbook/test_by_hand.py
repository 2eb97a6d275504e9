"""Stage commands run by hand, journaled like runbook steps and refused during a delivery unless
told why; a fake stage in place of the real one, the journal's copy into a fake bucket."""

from __future__ import annotations

import json

import pytest

from offboard.errors import OffboardError
from offboard.runbook.by_hand import HandCommand, run_by_hand
from offboard.runbook.journal import Journal
from offboard.runbook.mirror import JOURNAL_KEY
from tests.runbook.support import BUCKET, OUTPUTS, SECRET, STACK

IMPORT_PRODUCTION = HandCommand("db import", STACK, {"target": "production", "delivery": "initial"})  # no step of initial does it
IMPORT_STAGING = HandCommand("db import", STACK, {"target": "staging", "delivery": "initial"})  # step import-db-staging
VERIFY_STAGING = HandCommand("verify", STACK, {"target": "staging"}, changes=False)  # step verify-staging


class FakeStage:
    """The work of a stage command: counts its calls, returns figures or raises."""

    def __init__(self, figures: dict | None = None, failure: Exception | None = None) -> None:
        self.figures, self.failure, self.calls = figures or {"rows": 42, "deleted": 0}, failure, 0

    def __call__(self) -> dict:
        self.calls += 1
        if self.failure:
            raise self.failure
        return self.figures


def by_hand(project, command: HandCommand, stage=None, **options):
    return run_by_hand(project, command, stage or FakeStage(), backend="local", outputs=lambda: OUTPUTS, **options)


def lines(project) -> list[dict]:
    path = Journal.of_stack(project, STACK).path
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_a_hand_run_on_a_stack_the_runbook_has_not_touched_is_journaled_without_a_reason(project, bucket):
    assert by_hand(project, IMPORT_PRODUCTION) == {"rows": 42, "deleted": 0}

    started, done = lines(project)
    assert [started["status"], done["status"]] == ["started", "done"]
    for line in (started, done):
        assert (line["step"], line["workflow"], line["actor"], line["kind"], line["action"]) == (
            "db.import", "initial", "ch-msp", "automated", "db.import")
        assert line["command"] == "offboard db import alpha --target production --delivery initial"
        assert line["reason"] is None
    assert done["figures"] == {"rows": 42, "deleted": 0} and done["start"] == started["start"] and done["duration"] >= 0
    assert bucket.objects[(BUCKET, JOURNAL_KEY)] == Journal.of_stack(project, STACK).path.read_bytes()


def test_during_a_delivery_a_change_by_hand_is_refused_in_one_line_and_nothing_runs(project, runbook):
    runbook.run("initial")  # waits for the customer's first step: the delivery is under way
    before, stage = lines(project), FakeStage()

    with pytest.raises(OffboardError) as refused:
        by_hand(project, IMPORT_PRODUCTION, stage)

    assert str(refused.value) == ("stack alpha: the initial delivery is in progress (at select-msp); run it through "
                                  "`offboard runbook run`, or pass --outside-runbook --reason TEXT")
    assert stage.calls == 0 and lines(project) == before


def test_outside_the_runbook_a_change_runs_with_its_reason_journaled(project, runbook):
    runbook.run("initial")
    with pytest.raises(OffboardError, match=r"^--outside-runbook needs --reason TEXT: "):
        by_hand(project, IMPORT_PRODUCTION, outside_runbook=True, reason="  ")
    with pytest.raises(OffboardError, match=r"^the reason contains the secret access key: refused, nothing written$"):
        by_hand(project, IMPORT_PRODUCTION, outside_runbook=True, reason=f"key {SECRET}")
    count = len(lines(project))

    by_hand(project, IMPORT_PRODUCTION, outside_runbook=True, reason="the customer wants to see production early")

    started, done = lines(project)[count:]
    assert done["status"] == "done" and done["figures"]["rows"] == 42
    assert {started["reason"], done["reason"]} == {"the customer wants to see production early"}
    assert done["command"] == "offboard db import alpha --target production --delivery initial --outside-runbook"


def test_a_hand_run_ahead_of_its_step_leaves_that_step_to_the_runbook(project, runbook):
    by_hand(project, IMPORT_STAGING)  # on a fresh stack: the initial delivery has not reached its import
    assert [(line["step"], line["status"]) for line in lines(project)] == [("db.import", "started"), ("db.import", "done")]
    assert {view.id: view.status for view in runbook.plan("initial").steps}["import-db-staging"] == "pending"


def test_a_hand_run_of_the_next_step_marks_it_done_and_the_runbook_does_not_do_it_again(project, runbook, fakes):
    assert runbook.walk("initial", until="import-files-staging")[-1].reason == "until"
    by_hand(project, IMPORT_STAGING)  # the next step due, by hand: no reason needed during the delivery

    [view] = [step for step in runbook.plan("initial").steps if step.id == "import-db-staging"]
    assert (view.status, view.command, view.reason, view.figures) == (
        "done", "offboard db import alpha --target staging --delivery initial", None, {"rows": 42, "deleted": 0})
    done = lines(project)[-1]
    assert (done["step"], done["workflow"], done["actor"], done["action"]) == ("import-db-staging", "initial", "ch-msp", "db.import")

    outcomes = runbook.walk("initial")
    assert outcomes[-1].reason == "complete"
    assert fakes.calls["db.import"] == 0 and fakes.calls["files.import"] == 2  # staging's import was the hand run's
    with pytest.raises(OffboardError, match=r"^stack alpha: the initial delivery is done; to change its bucket or targets "
                                            r"anyway, pass --outside-runbook --reason TEXT$"):
        by_hand(project, IMPORT_PRODUCTION)


def test_a_verification_by_hand_is_journaled_and_never_refused(project, runbook):
    runbook.run("initial")
    assert by_hand(project, VERIFY_STAGING, FakeStage({"target": "staging", "rows": 7})) == {"target": "staging", "rows": 7}
    done = lines(project)[-1]  # long before its turn: the runbook's verify-staging still runs in its place
    assert (done["step"], done["workflow"], done["status"], done["command"]) == (
        "verify", "initial", "done", "offboard verify alpha --target staging")

    failing = FakeStage(failure=OffboardError(f"staging differs: 3 files missing (key {SECRET})"))
    with pytest.raises(OffboardError, match="staging differs"):
        by_hand(project, HandCommand("db verify", STACK, {"target": "staging"}, changes=False), failing)
    failed = lines(project)[-1]
    assert (failed["step"], failed["status"]) == ("db.verify", "failed")
    assert failed["error"] == "staging differs: 3 files missing (key [redacted])"

    # production during the initial delivery is no step of it: never the delta's verify-production
    by_hand(project, HandCommand("verify", STACK, {"target": "production"}, changes=False), FakeStage({"rows": 7}))
    assert (lines(project)[-1]["step"], lines(project)[-1]["workflow"]) == ("verify", "initial")


def test_a_dry_run_is_neither_refused_nor_journaled(project, runbook):
    runbook.run("initial")
    before, stage = lines(project), FakeStage()
    by_hand(project, HandCommand("db fixup", STACK, {"target": "staging"}), stage, dry_run=True)
    assert stage.calls == 1 and lines(project) == before


def test_a_hand_run_waits_for_no_runbook_command_and_a_failed_copy_is_one_warning(project, bucket):
    with Journal.of_stack(project, STACK).lock(), pytest.raises(OffboardError, match="^another runbook command is working on"):
        by_hand(project, IMPORT_PRODUCTION)  # while `runbook run` holds the stack
    assert lines(project) == []

    bucket.failure = RuntimeError(f"endpoint down, key {SECRET}")
    warnings: list[str] = []
    by_hand(project, IMPORT_PRODUCTION, warn=warnings.append)
    assert warnings == ["journal not mirrored: endpoint down, key [redacted]"]
    assert [line["status"] for line in lines(project)] == ["started", "done"]
