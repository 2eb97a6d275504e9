from __future__ import annotations

import json
import stat

import pytest
from botocore.exceptions import ClientError

from offboard.infra import endpoint as local_endpoint
from tests.conftest import run_cli


def test_the_embedded_endpoint_refuses_unknown_and_unsigned_keys(endpoint_session):
    _, endpoint = endpoint_session
    with pytest.raises(ClientError) as refused:
        endpoint.client("s3", key_id="fake-key-id-unknown", secret="y" * 40).list_buckets()
    assert refused.value.response["Error"]["Code"] == "InvalidAccessKeyId"
    endpoint.client("s3").list_buckets()  # the admin key works


def test_its_record_is_private(endpoint_session):
    folder, endpoint = endpoint_session
    record = folder / local_endpoint.RECORD
    assert stat.S_IMODE(record.stat().st_mode) == 0o600
    assert json.loads(record.read_text())["url"] == endpoint.url


def test_local_start_serves_separate_cli_calls_until_stop(project):
    """And the stack remembers its backend: no --backend needed, another refused, plan without
    the endpoint; once the endpoint stopped or restarted, its bucket is said to be gone."""
    started = run_cli(project, "local", "start")
    assert started.returncode == 0, started.stderr
    try:
        assert run_cli(project, "local", "start").stdout == started.stdout  # reused, not a second one
        up = run_cli(project, "stack", "up", "alpha", "--backend", "local")
        assert up.returncode == 0, up.stderr
        shown = run_cli(project, "stack", "outputs", "alpha", "--json")  # the stack's own backend
        assert json.loads(shown.stdout)["bucket"] == "offboard-alpha-20011111"
        refused = run_cli(project, "stack", "outputs", "alpha", env={"OFFBOARD_BACKEND": "pulumi"})
        assert refused.returncode == 1
        assert refused.stderr.startswith("offboard: stack alpha lives on the local backend (provisioned 20"), refused.stderr
        assert refused.stderr.strip().endswith("not pulumi: drop --backend/OFFBOARD_BACKEND, or give --backend local")
    finally:
        stopped = run_cli(project, "local", "stop")
    assert stopped.stdout.strip() == "embedded endpoint stopped"
    gone = ("stack alpha: its bucket offboard-alpha-20011111 is gone (the embedded endpoint it was made on stopped "
            "and keeps nothing): its deliveries are lost and its runbook cannot go on; run `offboard local start`, then "
            "`offboard stack up alpha` for a new, empty bucket and try the migration again with a new stack")
    assert stopped.stderr.strip() == f"offboard: warning: {gone}"
    plan = run_cli(project, "runbook", "plan", "alpha", "initial", "--json")  # reaches no backend
    assert plan.returncode == 0, plan.stderr
    after = run_cli(project, "stack", "outputs", "alpha")
    assert after.returncode == 1
    assert after.stderr.strip() == f"offboard: {gone}"
    fleet = run_cli(project, "fleet")
    assert fleet.returncode == 0 and fleet.stderr.strip() == f"offboard: warning: {gone}"
    restarted = run_cli(project, "local", "start")
    try:
        since = local_endpoint.read_record(project.state_dir / "local").started.replace("T", " ")
        assert restarted.stderr.startswith(f"offboard: warning: stack alpha: its bucket offboard-alpha-20011111 is gone "
                                           f"(the embedded endpoint it was made on restarted at {since} and keeps nothing): "
                                           "its deliveries are lost and its runbook cannot go on; run `offboard stack up alpha`"), restarted.stderr
        again = run_cli(project, "stack", "up", "alpha")  # made anew, on the stack's own backend
        assert again.returncode == 0 and again.stderr == "", again.stderr
    finally:
        run_cli(project, "local", "stop")
    assert run_cli(project, "local", "stop").stdout.strip() == "no embedded endpoint was running"
