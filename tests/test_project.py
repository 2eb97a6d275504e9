"""How a project is found and what it holds: the example stack is no customer, the runbooks are the tool's unless its own."""

from __future__ import annotations

import shutil

from offboard.project import TOOL_ROOT, Project
from tests.conftest import REPO


def test_the_example_stack_is_no_customer(project):
    shutil.copy(REPO / "stacks" / "Pulumi.example.yaml", project.stack_file("example"))
    assert project.stack_names() == ["alpha", "beta"]
    assert (REPO / "stacks" / "Pulumi.example.yaml").is_file() and "example" not in Project.find(REPO).stack_names()


def test_the_runbooks_are_the_project_s_own_else_the_tool_s(project):
    assert project.runbooks_dir == project.root / "runbooks"
    shutil.rmtree(project.root / "runbooks")
    assert project.runbooks_dir == TOOL_ROOT / "runbooks" == REPO / "runbooks"
