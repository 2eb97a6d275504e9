from __future__ import annotations

import os
import sys

from pulumi.automation import OutputValue

from offboard.infra.automation import to_outputs
from tests.conftest import run_cli


def test_without_the_pulumi_cli_every_stack_command_says_how_to_install_it(project, tmp_path):
    bare = tmp_path / "bin"
    bare.mkdir()
    (bare / "python").symlink_to(sys.executable)
    for command in ("up", "preview", "outputs", "destroy"):
        result = run_cli(project, "stack", command, "alpha", env={"PATH": str(bare), "OFFBOARD_BACKEND": "pulumi"})
        assert result.returncode == 1, command
        [line] = result.stderr.splitlines()
        assert line.startswith("offboard: the Pulumi CLI is not installed: install it from https://www.pulumi.com/docs/install/")
        assert "--backend local" in line


def test_pulumi_outputs_become_stack_outputs_with_the_secret_kept_secret():
    raw = {
        "bucket": OutputValue("offboard-alpha-20011111", False), "region": OutputValue("eu-central-1", False),
        "user": OutputValue("u", False), "group": OutputValue("g", False),
        "access_key_id": OutputValue("AKIAEXAMPLEEXAMPLE00", False), "access_key_created": OutputValue("2026-01-01", False),
        "kms_key_arn": OutputValue(None, False), "secret_access_key": OutputValue("s3cr3t", True),
    }
    outputs = to_outputs(raw)
    assert outputs.secret_access_key.get_secret_value() == "s3cr3t"
    assert "s3cr3t" not in repr(outputs) and "s3cr3t" not in str(outputs.public())
    assert outputs.endpoint_url is None
