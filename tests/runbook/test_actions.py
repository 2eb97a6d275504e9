import pytest

from offboard.errors import OffboardError
from offboard.infra import stacks
from offboard.runbook.actions import Registry, builtin

from tests.runbook.support import OUTPUTS, STACK, Driver


def test_an_action_is_registered_once():
    registry = Registry({"files.export": lambda context: None})
    with pytest.raises(OffboardError, match="action files.export is registered twice"):
        registry.register("files.export", lambda context: None)
    assert registry.get("db.export") is None
    assert registry.names() == ["files.export"]


def test_the_builtin_provision_step_brings_the_stack_up(project, monkeypatch):
    calls = []

    def up(project_, customer, backend):
        calls.append((project_, customer.stack, backend))
        return OUTPUTS

    monkeypatch.setattr(stacks, "up", up)
    runbook = Driver(project, builtin())
    runbook.run("initial")
    runbook.confirm("select-msp")
    outcome = runbook.run("initial")
    assert calls == [(project, STACK, "local")]
    assert outcome.steps == ["provision"]
    assert outcome.entries[0].figures == {"bucket": OUTPUTS.bucket, "user": OUTPUTS.user}

