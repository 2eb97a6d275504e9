"""The delta delivery on the fix-up's wsadmin route: after each fix-up it waits for the Connections
administrator to run the rendered wsadmin script on that target, then runs the fix-up again; on the
direct route the delivery is as it always was."""

from __future__ import annotations

import pytest

from offboard.customer import load_customer
from offboard.errors import OffboardError
from offboard.runbook.workflow import Kind, load_runbook
from tests.conftest import stack_yaml
from tests.runbook.support import OUTPUTS, STACK
from tests.runbook.test_workflow import DELTA

FIXUP = ("  offboard:fixup:\n    cloudHosts: [apps.na.collabserv.com]\n    mspHost: connections.msp.example.com\n"
         "    userMapping: mappings/users.csv\n")
AFTER = {"fixup-staging": ["sync-members-staging", "fixup-staging-after-sync"],
         "fix-links": ["sync-members-production", "fix-links-after-sync"]}


def with_route(project, route: str | None) -> None:
    """The test stack with a fix-up on `route` (None: no route key; "": no fix-up at all)."""
    extra = "" if route == "" else FIXUP + (f"    route: {route}\n" if route else "")
    project.stack_file(STACK).write_text(stack_yaml("20011111", "Alpha Holding AG", "eu-central-1", extra))


def delta(project):
    return load_runbook(project, load_customer(project, STACK), OUTPUTS).workflow("delta")


@pytest.mark.parametrize("route", ["direct", None, ""])
def test_the_direct_route_keeps_the_delta_as_it_was(project, route):
    with_route(project, route)
    assert [step.id for step in delta(project).steps] == DELTA


def test_the_wsadmin_route_waits_for_the_administrator_after_each_fixup(project):
    with_route(project, "direct")
    direct = delta(project)
    with_route(project, "wsadmin")
    workflow = delta(project)
    assert [step.id for step in workflow.steps] == [new for step in DELTA for new in [step, *AFTER.get(step, [])]]
    for fixup, (person, again) in AFTER.items():
        target = workflow.steps[workflow.position(fixup)].args["target"]
        sync, after = workflow.steps[workflow.position(person)], workflow.steps[workflow.position(again)]
        assert (sync.kind, sync.actor.value, sync.action) == (Kind.manual, "ch-msp", None)
        assert f".offboard/stacks/{STACK}/wsadmin/sync-members.py" in sync.does and f"deployment manager of {target}" in sync.does
        assert target in sync.title and "wsadmin script" in sync.title
        assert (after.kind, after.action, after.args) == (Kind.automated, "db.fixup", {"target": target})
    assert workflow.gates == direct.gates  # the same gates, valid on both routes


def test_a_run_stops_at_the_administrator_and_fixes_up_again_once_confirmed(project, runbook, fakes):
    with_route(project, "wsadmin")
    runbook.walk("initial")
    outcomes = runbook.walk("delta")
    stops = [outcome for outcome in outcomes if outcome.reason == "person"]
    at = {outcome.stopped_at: outcome for outcome in stops}
    assert at["sync-members-staging"].steps[-1] == "fixup-staging"
    assert at["sync-members-production"].steps[-1] == "fix-links"
    ran = [step for outcome in outcomes for step in outcome.steps]  # each run's steps, and each step confirmed
    assert ran == [step.id for step in delta(project).steps]  # the fix-up again right after the confirmation
    assert outcomes[-1].reason == "complete" and fakes.calls["db.fixup"] == 4
    plan = runbook.plan("delta")
    assert {view.id: view.status for view in plan.steps if view.id in AFTER["fixup-staging"] + AFTER["fix-links"]} == {
        "sync-members-staging": "done", "fixup-staging-after-sync": "done",
        "sync-members-production": "done", "fix-links-after-sync": "done"}


def test_an_unknown_route_is_refused_in_one_line(project):
    with_route(project, "rewrite")
    with pytest.raises(OffboardError, match=r"^stacks/Pulumi\.alpha\.yaml: offboard:fixup\.route: Input should be 'direct' or 'wsadmin' \(got 'rewrite'\)$"):
        load_customer(project, STACK)
