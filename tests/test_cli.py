from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from offboard.infra.outputs import StackOutputs
from tests.conftest import run_cli


@pytest.fixture
def alpha(local_project):
    result = run_cli(local_project, "stack", "up", "alpha", "--backend", "local")
    assert result.returncode == 0, result.stderr
    outputs = StackOutputs.load(local_project.stack_state_dir("alpha"))
    yield local_project, outputs
    run_cli(local_project, "stack", "destroy", "alpha", "--backend", "local")


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
