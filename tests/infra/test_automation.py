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


FAKE_PULUMI = """#!/bin/sh
echo "$@" >> "$(dirname "$0")/calls"
case "$*" in
  version) echo v3.272.0 ;;
  *"stack select"*|*"stack init"*) ;;
  *"stack output"*) echo '{}' ;;
  *) echo "warning: something minor" >&2; echo "error: creating S3 Bucket: AccessDenied" >&2; exit 255 ;;
esac
"""


def test_the_wrapper_passes_the_stack_file_and_turns_pulumi_errors_into_one_line(project, tmp_path):
    """A stand-in `pulumi` that records its arguments and fails the way Pulumi does."""
    bin_dir = tmp_path / "fake-bin"
    bin_dir.mkdir()
    fake = bin_dir / "pulumi"
    fake.write_text(FAKE_PULUMI)
    fake.chmod(0o755)
    env = {"PATH": f"{bin_dir}:{os.environ['PATH']}"}
    for command in ("up", "preview", "destroy"):
        result = run_cli(project, "stack", command, "alpha", env=env)
        assert result.returncode == 1
        assert result.stderr == "offboard: pulumi failed on stack alpha: creating S3 Bucket: AccessDenied\n"
    outputs = run_cli(project, "stack", "outputs", "alpha", env=env)
    assert outputs.stderr == "offboard: stack alpha has no outputs yet: run `offboard stack up alpha`\n"
    calls = (bin_dir / "calls").read_text().splitlines()
    config_file = f"--config-file {project.stack_file('alpha')}"
    assert [call.split()[1] for call in calls if config_file in call] == ["up", "preview", "destroy"]


def test_pulumi_outputs_become_stack_outputs_with_the_secret_kept_secret():
    raw = {
        "bucket": OutputValue("offboard-alpha-20011111", False), "region": OutputValue("eu-central-1", False),
        "user": OutputValue("u", False), "group": OutputValue("g", False),
        "access_key_id": OutputValue("fake-key-id-example", False), "access_key_created": OutputValue("2026-01-01", False),
        "kms_key_arn": OutputValue(None, False), "secret_access_key": OutputValue("s3cr3t", True),
    }
    outputs = to_outputs(raw)
    assert outputs.secret_access_key.get_secret_value() == "s3cr3t"
    assert "s3cr3t" not in repr(outputs) and "s3cr3t" not in str(outputs.public())
    assert outputs.endpoint_url is None
