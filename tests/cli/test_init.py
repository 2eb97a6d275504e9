"""`offboard init DIR`: an MSP's project folder apart from the tool's checkout, run from there."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import yaml

from tests.conftest import REPO


def offboard_in(folder: Path, *args: str) -> subprocess.CompletedProcess:
    """`offboard` as a user runs it inside `folder`: the project found from there, no OFFBOARD_* settings."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("OFFBOARD_")}
    return subprocess.run([sys.executable, "-m", "offboard.cli", *args], cwd=folder, env=env,
                          capture_output=True, text=True, timeout=120, check=False)


def test_init_makes_a_project_that_works_from_its_own_folder(tmp_path):
    folder = tmp_path / "msp"
    made = offboard_in(tmp_path, "init", str(folder))
    assert made.returncode == 0, made.stderr
    assert sorted(path.name for path in folder.iterdir()) == [".gitignore", "Pulumi.yaml", "README.md", "stacks"]
    assert [path.name for path in (folder / "stacks").iterdir()] == ["Pulumi.example.yaml"]
    assert ".offboard/" in (folder / ".gitignore").read_text().splitlines()
    project_file = yaml.safe_load((folder / "Pulumi.yaml").read_text())
    ours = yaml.safe_load((REPO / "Pulumi.yaml").read_text())
    assert project_file["stackConfigDir"] == "stacks" and project_file["name"] == ours["name"]
    assert Path(project_file["main"]) == REPO / ours["main"]  # the installed tool's program, by absolute path

    created = offboard_in(folder, "sample", "create", str(tmp_path / "sample"), "--stack", "acme")
    assert created.returncode == 0, created.stderr
    assert (folder / "stacks" / "Pulumi.acme.yaml").is_file()  # into the project, not the tool's checkout
    plan = offboard_in(folder, "runbook", "plan", "acme", "initial", "--json")  # the tool's runbooks
    assert plan.returncode == 0, plan.stderr
    fleet = offboard_in(folder, "fleet", "--json")
    assert [row["stack"] for row in json.loads(fleet.stdout)] == ["acme"]  # the example is no customer

    again = offboard_in(tmp_path, "init", str(folder))
    assert again.returncode == 1
    assert again.stderr == f"offboard: {folder} is not an empty folder: give a new one (offboard init writes a whole project)\n"
