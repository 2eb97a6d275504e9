from offboard.runbook.view import plan_view

from tests.conftest import stack_yaml
from tests.runbook.support import ORG_ID, STACK, Driver, FakeActions, printed


def test_the_plan_table_shows_steps_open_gates_and_the_module_of_each_machine_step(project):
    runbook = Driver(project, FakeActions({"stack.up"}))
    runbook.confirm("select-msp", by="Ann Operator", ref="CS0012345")
    runbook.confirm("add-servicenow-user", by="Ann Operator", out_of_order=True, reason="added unasked")
    text = printed(plan_view(runbook.plan("delta")))
    assert text.index("GATE The delta cannot start") < text.index("agree-cutover-date")
    assert "GATE Users of the org must not log in" in text
    assert "not rendered yet" in text
    assert text.count("(gate initial-verified)") == 1 and text.count("(gate org-read-only)") == 1

    initial = printed(plan_view(runbook.plan("initial")))
    assert "done by Ann Operator ref CS0012345" in initial
    assert "(confirmed before" in initial and "unasked)" in initial  # out of order, and why (wrapped in its cell)
    assert "provision.py" in initial and initial.rstrip().endswith("modules in fake")
    assert "GATE The delta" not in initial


def test_names_are_printed_as_written(project):
    project.stack_file(STACK).write_text(stack_yaml(ORG_ID, "Alpha [bold]AG[/bold]", "eu-central-1"))
    runbook = Driver(project, FakeActions(set()))
    runbook.confirm("select-msp", by="Ann [red]Operator")
    text = printed(plan_view(runbook.plan("initial")))
    assert "Alpha [bold]AG[/bold]" in text and "done by Ann [red]Operator" in text
