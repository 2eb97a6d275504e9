"""One stage that changes a stack at a time; the key only for the bucket it was asked for."""

from __future__ import annotations

import pytest

from offboard.errors import OffboardError
from offboard.infra.outputs import StackOutputs
from offboard.project import held
from offboard.runtime import STAGES_LOCK, Runtime, one_at_a_time
from tests.conftest import run_cli


@one_at_a_time
def stage(runtime: Runtime, *, value: int) -> int:
    return value


def test_a_stage_that_changes_the_stack_waits_for_no_one_but_refuses_a_second(project):
    runtime = Runtime(project, "alpha", "local")
    assert stage(runtime, value=1) == 1
    with held(runtime.state_dir / STAGES_LOCK, "busy"):
        with pytest.raises(OffboardError, match=r"^another offboard command is changing stack alpha; try again when it ends \(lock "):
            stage(runtime, value=2)
        assert stage(Runtime(project, "alpha", "local", dry_run=True), value=3) == 3  # a dry run changes nothing
        assert stage(Runtime(project, "beta", "local"), value=4) == 4  # another stack is another lock


def test_a_second_export_of_the_stack_is_refused_in_one_line(project, tmp_path):
    assert run_cli(project, "sample", "create", str(tmp_path / "sample"), "--stack", "gamma").returncode == 0
    with held(project.stack_state_dir("gamma") / STAGES_LOCK, "busy"):
        for command in (["stack", "up", "gamma", "--backend", "local"], ["stack", "destroy", "gamma", "--backend", "local"],
                        ["files", "export", "gamma", "--delivery", "initial", "--backend", "local"],
                        ["db", "export", "gamma", "--delivery", "initial", "--backend", "local"],
                        ["db", "fixup", "gamma", "--target", "staging"]):
            result = run_cli(project, *command)
            assert result.returncode == 1 and result.stderr.startswith(
                "offboard: another offboard command is changing stack gamma; try again when it ends (lock "), result.stderr
    assert not (project.stack_state_dir("gamma") / "db-export").exists()


def test_the_key_is_given_only_for_the_bucket_asked_for(project, monkeypatch):
    from offboard.infra import stacks

    outputs = StackOutputs(bucket="offboard-alpha-20011111", region="eu-central-1", user="u", group="g",
                           access_key_id="fake-key-id", secret_access_key="fake-secret")
    monkeypatch.setattr(stacks, "outputs", lambda project_, customer, backend: outputs)
    runtime = Runtime(project, "alpha", "local")
    assert runtime.outputs("offboard-alpha-20011111") is outputs
    with pytest.raises(OffboardError, match="stack alpha holds bucket offboard-alpha-20011111, not offboard-beta-20022222: render"):
        runtime.outputs("offboard-beta-20022222")
    with pytest.raises(OffboardError, match="this stage was given no backend"):
        Runtime(project, "alpha", None).outputs("offboard-alpha-20011111")
