"""The preflight as the first machine step of both deliveries, right before the catalog check, and
at `runbook render`: its module, what refuses the rendering, what stops the run."""

from __future__ import annotations

import shutil

import pytest
import yaml

from offboard.customer import load_customer
from offboard.errors import NotProvisioned
from offboard.preflight import PreflightNote
from offboard.runbook import commands
from offboard.runbook.journal import Journal
from offboard.runbook.workflow import Kind, load_runbook
from offboard.sample.stack import write_stack

STACK = "acme"


def not_provisioned():
    raise NotProvisioned("no bucket yet")


@pytest.fixture
def sample(pristine_sqlite_sample, tmp_path, project, registered):
    """A SQLite sample's copy and the stack acme on it."""
    from tests.db.support import copy_sample

    layout = copy_sample(pristine_sqlite_sample, tmp_path / "sample")
    write_stack(project, STACK, layout, layout.org_ids[0])
    return layout


def test_preflight_is_the_first_machine_step_of_both_workflows_right_before_the_catalog_check(project):
    runbook = load_runbook(project, load_customer(project, "alpha"), None)
    for name, step in (("initial", "preflight"), ("delta", "preflight-delta")):
        machine = [s for s in runbook.workflow(name).steps if s.kind is Kind.automated]
        assert (machine[0].id, machine[0].action) == (step, "preflight.check"), name
        assert machine[1].action == "catalog.check", name


def test_render_writes_the_module_and_warns_of_what_the_step_will_check(project, sample, monkeypatch):
    monkeypatch.delenv("PF_STEP_PASSWORD", raising=False)
    path = project.stack_file(STACK)
    document = yaml.safe_load(path.read_text())
    document["config"]["offboard:production"]["databases"]["FILES"] = "postgresql+psycopg://u:${PF_STEP_PASSWORD}@db.example.com/FILES"
    path.write_text(yaml.safe_dump(document))
    with pytest.warns(PreflightNote) as notes:
        commands.render(project, STACK, "initial", backend="local", outputs=not_provisioned)
    assert "preflight, checked again when the run starts: ${PF_STEP_PASSWORD}: not set, and the URLs of production FILES need it: set it in the environment " \
           "offboard runs in" in [str(note.message) for note in notes]
    module = (project.stack_state_dir(STACK) / "modules" / "initial" / "preflight.py").read_text()
    assert "return preflight.stage(\n        runtime,\n        workflow=\"initial\",\n    )" in module

    store = sample.root / "staging" / "content" / min(sample.stores)
    shutil.rmtree(store)  # rendering is for review: a folder can be made before the run
    with pytest.warns(PreflightNote) as notes:
        commands.render(project, STACK, "delta", backend="local", outputs=not_provisioned)
    assert any(str(note.message).startswith(f"preflight, checked again when the run starts: offboard:staging.contentStores.{min(sample.stores)}: {store} "
                                            "does not exist") for note in notes)
    assert (project.stack_state_dir(STACK) / "modules" / "delta" / "preflight-delta.py").is_file()


def test_the_step_stops_the_run_on_the_first_blocking_line_before_the_catalog_check(project, sample):
    commands.render(project, STACK, "initial", backend="local", outputs=not_provisioned)
    commands.confirm(project, STACK, "select-msp", by="Test Operator", backend="local", outputs=not_provisioned)
    store = sample.content_stores[min(sample.stores)]
    moved = store.with_name("elsewhere")
    store.rename(moved)

    failed = commands.run(project, STACK, "initial", backend="local", outputs=not_provisioned)
    assert (failed.reason, failed.stopped_at, failed.steps) == ("failed", "preflight", ["preflight"])
    assert f"the preflight blocks the run: blocks offboard:source.contentStores.{min(sample.stores)}: {store} does not exist" \
           in failed.message
    latest = Journal.of_stack(project, STACK).latest()
    assert latest["preflight"].status == "failed" and "check-catalog" not in latest

    moved.rename(store)
    passed = commands.retry(project, STACK, "preflight", backend="local", outputs=not_provisioned)
    assert passed.ok and passed.steps == ["preflight"]
    figures = passed.entries[0].figures
    assert figures["checks"] > 10 and figures["blocks"] == 0
    assert any(line.startswith("warns backend local: no embedded endpoint is running") for line in figures["warnings"])
    assert any(line.startswith("warns offboard:fixup.userMapping: 1 of the org's") for line in figures["warnings"])
