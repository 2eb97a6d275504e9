"""What the command line itself owes a user: its version, flags that read as flags, refusals before anything is made."""

from __future__ import annotations

from tests.conftest import run_cli


def test_version_and_flags_shown_as_flags(project):
    version = run_cli(project, "--version")
    assert version.returncode == 0 and version.stdout.startswith("offboard 0.")
    help_text = run_cli(project, "runbook", "run", "--help").stdout
    assert "--dry-run" in help_text and "<bool>" not in help_text  # a flag takes no value
    assert "--install-completion" in run_cli(project, "--help").stdout


def test_sample_create_refuses_before_it_writes(project, tmp_path):
    project.stack_file("taken").write_text("config: {}\n")
    for stack, says in (("taken", "stacks/Pulumi.taken.yaml exists already"), ("Bad_Name", "is not a stack name")):
        refused = run_cli(project, "sample", "create", str(tmp_path / stack), "--stack", stack)
        assert refused.returncode == 1 and says in refused.stderr and len(refused.stderr.splitlines()) == 1
        assert not (tmp_path / stack).exists()  # no sample left behind


def test_a_signature_is_confirmed_before_any_backend_is_set_up(project):
    """No stack up yet, no Pulumi CLI here: the customer's first step is recorded all the same."""
    confirmed = run_cli(project, "runbook", "confirm", "alpha", "select-msp", "--by", "Jane Doe", env={"OFFBOARD_BACKEND": ""})
    assert confirmed.returncode == 0 and confirmed.stderr == "", confirmed.stderr
