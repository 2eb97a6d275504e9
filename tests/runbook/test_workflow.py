
import re
from pathlib import Path

import pytest

from offboard.customer import load_customer
from offboard.errors import OffboardError
from offboard.runbook.workflow import Kind, load_runbook

from tests.conftest import stack_yaml
from tests.runbook.support import OUTPUTS, STACK

INITIAL = [
    "select-msp", "preflight", "check-catalog", "provision", "create-servicenow-user", "add-servicenow-user", "open-initial-case",
    "request-watch-list", "file-box-folder-ticket", "file-customizer-ticket", "create-box-folder",
    "confirm-box-invitation", "enable-customizer", "share-access-info", "file-transfer-ticket",
    "export-files", "export-db", "close-transfer-ticket", "delete-box-folder", "report-transfer-complete",
    "download", "import-files-staging", "import-db-staging", "import-files-production", "verify-staging",
    "customer-verifies-staging", "close-initial-case",
]
DELTA = [
    "agree-cutover-date", "mark-read-only", "open-delta-case", "request-delta-watch-list", "file-delta-ticket",
    "preflight-delta", "check-delta-catalog", "export-delta-files", "export-delta-db", "close-delta-ticket", "report-delta-complete", "download-delta",
    "import-delta-files-production", "import-delta-db-staging", "fixup-staging", "import-production",
    "fix-links", "verify-production", "customer-confirms-delta", "close-delta-case", "teardown",
]


def load(project):
    return load_runbook(project, load_customer(project, STACK), OUTPUTS)


def test_both_workflows_hold_the_process_in_order(project):
    runbook = load(project)
    assert [step.id for step in runbook.workflow("initial").steps] == INITIAL
    assert [step.id for step in runbook.workflow("delta").steps] == DELTA


def test_machine_steps_name_an_action_and_people_steps_their_texts(project):
    runbook = load(project)
    for name in ("initial", "delta"):
        for step in runbook.workflow(name).steps:
            if step.kind is Kind.automated:
                assert step.action and not step.texts
            for text in step.texts:
                assert (project.runbooks_dir / "templates" / text.template).is_file(), text.template


def test_the_project_itself_renders_without_outputs(project):
    """Before provisioning there are no outputs; the workflows render all the same."""
    runbook = load_runbook(project, load_customer(project, STACK), None)
    assert runbook.workflow("initial").title == "Initial delivery of Alpha Holding AG (org 20011111)"


def test_a_customer_name_with_yaml_syntax_stays_one_string(project):
    project.stack_file(STACK).write_text(stack_yaml("20011111", 'Alpha: \\"Q\\" #1 & Söhne', "eu-central-1"))
    assert load(project).workflow("delta").title == 'Delta delivery of Alpha: "Q" #1 & Söhne (org 20011111)'


@pytest.mark.parametrize(("change", "message"), [
    (("actor: customer\n", "actor: somebody\n"), r"runbooks/initial\.yaml\.j2: steps\.0\.actor"),
    (("kind: automated\n    action: stack.up\n", "kind: automated\n"), r"runbooks/initial\.yaml\.j2: steps\.3: .*needs an action"),
    (("steps:\n", "steps:\n  - [\n"), r"runbooks/initial\.yaml\.j2: line \d+ not valid YAML"),
    (("requires: [import-production]", "requires: [import-everything]"), r"gate no-login-before-import names unknown step\(s\) import-everything"),
    (("id: download\n", "id: teardown\n"), r"id teardown is also used in initial"),
    (("customer.org_id)", "customer.org)"), r"runbooks/initial\.yaml\.j2: .*'org'"),
])
def test_a_bad_workflow_template_is_one_clear_error(project, change, message):
    path = project.runbooks_dir / "initial.yaml.j2"
    old, new = change
    assert old in path.read_text()
    path.write_text(path.read_text().replace(old, new, 1))
    with pytest.raises(OffboardError, match=message) as refused:
        load(project)
    assert "\n" not in str(refused.value)


def test_the_readme_says_who_does_each_step(project):
    """README's "Who does what": every step of both workflows, in order, with its actor."""
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    listed = re.findall(r"^\| `([a-z0-9-]+)` \| ([a-z0-9-]+) \|", readme, re.MULTILINE)
    runbook = load(project)
    assert listed == [(step.id, step.actor.value) for name in ("initial", "delta") for step in runbook.workflow(name).steps]
