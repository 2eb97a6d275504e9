"""A stack remembers the backend it lives on; plan and status read what `stack up` recorded."""

from __future__ import annotations

import pytest

from offboard.errors import NotProvisioned, OffboardError
from offboard.infra import endpoint as local_endpoint
from offboard.infra import provisioned
from offboard.infra.embedded import gone
from offboard.infra.outputs import StackOutputs
from offboard.infra.provisioned import recorded_outputs, stack_backend
from offboard.runbook import commands, fleet

MADE = {"bucket": "offboard-alpha-20011111", "region": "eu-central-1", "user": "offboard-alpha-20011111",
        "group": "offboard-alpha-20011111", "access_key_id": "AKIAEXAMPLE", "secret_access_key": "the-secret"}


def made_on(project, backend: str, instance: str | None = None) -> None:
    """What `stack up` leaves behind: the public outputs (with the secret on local) and the record."""
    outputs = StackOutputs(**MADE, endpoint_instance=instance, endpoint_url="http://127.0.0.1:1" if instance else None)
    outputs.save(project.stack_state_dir("alpha"), with_secret=backend == "local")
    provisioned.record_up(project, "alpha", backend)


def test_before_provisioning_the_backend_is_the_one_asked_or_pulumi(project):
    assert stack_backend(project, "alpha", None) == "pulumi"
    assert stack_backend(project, "alpha", "local") == "local"
    with pytest.raises(OffboardError, match=r"^unknown backend 'aws': choose one of pulumi, local$"):
        stack_backend(project, "alpha", "aws")


def test_once_provisioned_the_stack_s_own_backend_is_used_and_another_refused(project):
    made_on(project, "local", "instance-1")
    assert stack_backend(project, "alpha", None) == stack_backend(project, "alpha", "local") == "local"
    assert stack_backend(project, "beta", None) == "pulumi"  # another stack: its own record, none yet
    with pytest.raises(OffboardError, match=r"^stack alpha lives on the local backend \(provisioned 20\d\d-\d\d-\d\d \d\d:\d\d UTC\), "
                                            r"not pulumi: drop --backend/OFFBOARD_BACKEND, or give --backend local$"):
        stack_backend(project, "alpha", "pulumi")
    with pytest.raises(OffboardError, match="^stack alpha lives on the local backend"):
        commands.render(project, "alpha", "initial", backend="pulumi")  # modules for a backend the stack does not use
    provisioned.record_destroyed(project, "alpha")
    assert stack_backend(project, "alpha", "pulumi") == "pulumi"  # destroyed: it lives nowhere now


def test_plan_and_status_read_the_recorded_outputs_without_the_secret_nor_any_backend(project):
    with pytest.raises(NotProvisioned):
        recorded_outputs(project, "alpha")
    made_on(project, "pulumi")  # no Pulumi CLI here: reaching the backend would fail
    shown = recorded_outputs(project, "alpha")
    assert shown.bucket == MADE["bucket"] and shown.secret_access_key.get_secret_value() == ""
    assert not (project.stack_state_dir("alpha") / "secret_access_key").exists()  # Pulumi keeps its own
    assert [step.id for step in commands.plan(project, "alpha", "initial", backend=None).steps][:1] == ["select-msp"]
    assert commands.status(project, "alpha", backend=None)


def test_a_bucket_made_on_an_earlier_start_of_the_endpoint_is_gone(local_project, endpoint_session):
    _, endpoint = endpoint_session
    made_on(local_project, "local", endpoint.instance)
    assert gone(local_project, "alpha") is None and gone(local_project, "beta") is None
    made_on(local_project, "local", "an-earlier-start")
    assert gone(local_project, "alpha") == (
        f"stack alpha: its bucket offboard-alpha-20011111 is gone (the embedded endpoint it was made on restarted at "
        f"{endpoint.started.replace('T', ' ')} and keeps nothing): its deliveries are lost and its runbook cannot go on; "
        "run `offboard stack up alpha` for a new, empty bucket and try the migration again with a new stack")
    (local_project.state_dir / "local" / local_endpoint.RECORD).unlink()
    assert "(the embedded endpoint it was made on stopped and keeps nothing): its deliveries are lost and its runbook cannot go on; run `offboard local start`, then" in gone(local_project, "alpha")
    assert [row.problem for row in fleet.fleet(local_project)] == [gone(local_project, "alpha"), ""]
