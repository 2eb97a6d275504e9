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
    started = run_cli(project, "local", "start")
    assert started.returncode == 0, started.stderr
    try:
        assert run_cli(project, "local", "start").stdout == started.stdout  # reused, not a second one
        up = run_cli(project, "stack", "up", "alpha", "--backend", "local")
        assert up.returncode == 0, up.stderr
        shown = run_cli(project, "stack", "outputs", "alpha", "--backend", "local", "--json")
        assert json.loads(shown.stdout)["bucket"] == "offboard-alpha-20011111"
    finally:
        stopped = run_cli(project, "local", "stop")
    assert stopped.stdout.strip() == "embedded endpoint stopped"
    after = run_cli(project, "stack", "outputs", "alpha", "--backend", "local")
    assert after.returncode == 1
    assert after.stderr.strip() == "offboard: no embedded endpoint is running: start one with `offboard local start`"
    assert run_cli(project, "local", "stop").stdout.strip() == "no embedded endpoint was running"
