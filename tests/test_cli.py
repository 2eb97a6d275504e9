from __future__ import annotations

import json
import re
import shutil
import stat
from pathlib import Path

import pytest

from offboard.infra.outputs import StackOutputs
from tests.conftest import remove_stack, run_cli


@pytest.fixture
def alpha(local_project, endpoint_session):
    result = run_cli(local_project, "stack", "up", "alpha", "--backend", "local")
    assert result.returncode == 0, result.stderr
    outputs = StackOutputs.load(local_project.stack_state_dir("alpha"))
    yield local_project, outputs
    remove_stack(local_project, "alpha", endpoint_session[1])


def secret(outputs: StackOutputs) -> str:
    return outputs.secret_access_key.get_secret_value()


def test_up_prints_no_secret_and_keeps_it_in_a_private_file(alpha):
    project, outputs = alpha
    state = project.stack_state_dir("alpha")
    assert stat.S_IMODE((state / "secret_access_key").stat().st_mode) == 0o600
    assert secret(outputs) not in (state / "outputs.json").read_text()


def test_outputs_json_hides_the_secret_unless_asked(alpha):
    project, outputs = alpha
    plain = run_cli(project, "stack", "outputs", "alpha", "-b", "local", "--json")
    shown = json.loads(plain.stdout)
    assert shown["secret_access_key"] == "[secret]" and shown["access_key_id"] == outputs.access_key_id
    assert secret(outputs) not in plain.stdout + plain.stderr
    table = run_cli(project, "stack", "outputs", "alpha", "-b", "local")
    assert outputs.bucket in table.stdout and secret(outputs) not in table.stdout
    revealed = json.loads(run_cli(project, "stack", "outputs", "alpha", "-b", "local", "--json", "--show-secrets").stdout)
    assert revealed["secret_access_key"] == secret(outputs)


def test_access_info_goes_to_a_private_file_and_only_its_path_is_printed(alpha):
    project, outputs = alpha
    result = run_cli(project, "stack", "access-info", "alpha", "-b", "local")
    path = Path(result.stdout.strip())
    assert result.returncode == 0 and secret(outputs) not in result.stdout
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    text = path.read_text()
    for value in (outputs.bucket, outputs.region, outputs.access_key_id, secret(outputs), "Alpha Holding AG"):
        assert value in text
    assert run_cli(project, "stack", "access-info", "alpha", "-b", "local", "--stdout").stdout == text


def test_an_unknown_backend_is_one_line(project):
    result = run_cli(project, "stack", "up", "alpha", "--backend", "azure")
    assert result.returncode == 1
    assert result.stderr.strip() == "offboard: unknown backend 'azure': choose one of pulumi, local"


def test_usage_errors_exit_2_without_a_traceback(project):
    result = run_cli(project, "stack", "up")
    assert result.returncode == 2 and "Missing argument" in result.stderr and "Traceback" not in result.stderr


def test_the_runbook_through_the_cli_stops_at_people_and_at_a_failed_step(local_project, endpoint_session, tmp_path):
    project = local_project
    env = {"OFFBOARD_BACKEND": "local"}
    assert run_cli(project, "sample", "create", str(tmp_path / "sample"), "--stack", "gamma", env=env).returncode == 0
    unrendered = run_cli(project, "runbook", "run", "gamma", "initial", env=env)
    assert unrendered.returncode == 1 and unrendered.stderr.startswith("offboard: preflight has no rendered module: run "
                                                                       "`offboard runbook render gamma initial`")
    assert run_cli(project, "runbook", "render", "gamma", "initial", env=env).returncode == 0
    first = run_cli(project, "runbook", "run", "gamma", "initial", env=env)
    assert first.returncode == 3 and "confirm select-msp once it is done" in " ".join(first.stdout.split())
    confirmed = run_cli(project, "runbook", "confirm", "gamma", "select-msp", "--by", "Jane Customer", env=env)
    assert confirmed.returncode == 0 and "select-msp confirmed by Jane Customer; `offboard runbook run` goes on" in confirmed.stdout
    provisioned = run_cli(project, "runbook", "run", "gamma", "initial", env=env)
    assert provisioned.returncode == 3, provisioned.stderr  # 3: it waits for a person
    assert "ran provision: done" in provisioned.stdout
    outputs = StackOutputs.load(project.stack_state_dir("gamma"))
    journal = (project.stack_state_dir("gamma") / "journal.jsonl").read_text()
    for text in (first.stdout, provisioned.stdout, journal):
        assert secret(outputs) not in text and outputs.access_key_id not in text
    steps = json.loads(run_cli(project, "runbook", "status", "gamma", "initial", "--json", env=env).stdout)
    assert [(s["id"], s["status"]) for s in steps[:5]] == [("select-msp", "done"), ("preflight", "done"), ("check-catalog", "done"), ("provision", "done"),
                                                           ("create-servicenow-user", "waiting")]
    assert steps[0]["confirmed_by"] == "Jane Customer"
    shutil.rmtree(tmp_path / "sample" / "content")
    while True:  # confirm each person's step where the run waits, until a machine step fails
        waiting = [s["id"] for s in json.loads(run_cli(project, "runbook", "status", "gamma", "initial", "--json", env=env).stdout)
                   if s["status"] == "waiting"]
        assert run_cli(project, "runbook", "confirm", "gamma", waiting[0], "--by", "Max MSP", env=env).returncode == 0
        ran = run_cli(project, "runbook", "run", "gamma", "initial", env=env)
        if ran.returncode != 3:
            break
    box_text = project.stack_state_dir("gamma") / "texts" / "share-access-info.s3-access-info.txt"
    case_text = project.stack_state_dir("gamma") / "texts" / "share-access-info.access-info-shared.txt"
    assert outputs.bucket not in case_text.read_text() and secret(outputs) not in case_text.read_text()
    assert secret(outputs) in box_text.read_text() and stat.S_IMODE(box_text.stat().st_mode) == 0o600
    # the source's content stores are gone: the export fails, says why, and waits for retry
    assert re.match(r"offboard: export-files failed at [0-9-]+ [0-9:]+ UTC: the root of store [a-z]+, \S+ is not a folder", ran.stderr)
    assert ran.stderr.endswith("is not a folder; once the cause is fixed, `offboard runbook retry` it\n")
    assert len(ran.stderr.splitlines()) == 1
    again = run_cli(project, "runbook", "run", "gamma", "initial", env=env)
    assert again.returncode == 1 and "export-files failed" in again.stderr
    retried = run_cli(project, "runbook", "retry", "gamma", "export-files", env=env)
    assert retried.returncode == 1 and "export-files failed" in retried.stderr
    remove_stack(project, "gamma", endpoint_session[1])


def test_destroy_is_journaled_and_refused_while_a_delivery_is_under_way(alpha):
    project, _ = alpha
    env = {"OFFBOARD_BACKEND": "local"}
    assert run_cli(project, "runbook", "confirm", "alpha", "select-msp", "--by", "Jane Doe", env=env).returncode == 0
    refused = run_cli(project, "stack", "destroy", "alpha", env=env)
    assert refused.returncode == 1 and "the initial delivery is in progress" in refused.stderr
    attempt = run_cli(project, "stack", "destroy", "alpha", "--outside-runbook", "--reason", "contract cancelled", env=env)
    assert attempt.returncode == 1 and "still holds objects" in attempt.stderr  # the journal's copy, at least: teardown empties it
    last = json.loads(project.stack_state_dir("alpha").joinpath("journal.jsonl").read_text().splitlines()[-1])
    assert (last["step"], last["status"], last["reason"]) == ("stack.destroy", "failed", "contract cancelled")
