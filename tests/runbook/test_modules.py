"""The rendered runbook modules: one per machine step, the customer's values spelled out, no
secret in them, byte-identical when rendered again, refused by `run` once edited."""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tokenize
from pathlib import Path

import pytest
import yaml

from offboard.errors import NotProvisioned, OffboardError
from offboard.infra.embedded import EmbeddedBackend
from offboard.customer import load_customer
from offboard.demo import walk
from offboard.runbook import commands
from offboard.runbook.journal import Journal
from offboard.runbook.workflow import WORKFLOWS, load_runbook
from offboard.sample import create_sample, mutate_org
from offboard.sample.stack import stack_config, write_stack
from tests.conftest import REPO, remove_stack, run_cli

ENV = {"OFFBOARD_BACKEND": "local"}
PASSWORD = "Db2-pa55word-of-acme"


@pytest.fixture
def sample(tmp_path):
    return create_sample(tmp_path / "sample", orgs=2)


@pytest.fixture
def two_customers(project, sample):
    """acme and zenith: two orgs of one sample, each with a complete stack file."""
    for stack, org in zip(("acme", "zenith"), sample.org_ids):
        write_stack(project, stack, sample, org)
    return project


def render_all(project, stack: str) -> dict[str, bytes]:
    """Both workflows' modules: `<workflow>/<step>.py` -> bytes."""
    modules = {}
    for workflow in WORKFLOWS:
        for module in commands.render(project, stack, workflow, backend="local"):
            modules[f"{workflow}/{module.path.name}"] = module.path.read_bytes()
    return modules


def machine_steps(project, stack: str) -> int:
    runbook = load_runbook(project, load_customer(project, stack), None)
    return sum(1 for workflow in WORKFLOWS for step in runbook.workflow(workflow).steps if step.action)


def shape(source: bytes, *values: str) -> list[tuple[int, str]]:
    """The module's tokens with every string literal blanked, and the customer's own names blanked in comments."""
    tokens = []
    for token in tokenize.tokenize(io.BytesIO(source).readline):
        text = token.string
        if token.type == tokenize.STRING:
            text = '"..."'
        elif token.type == tokenize.COMMENT:
            for value in values:
                text = text.replace(value, "...")
        tokens.append((token.type, text))
    return tokens


def test_two_customers_modules_differ_only_in_their_values(two_customers, sample):
    acme, zenith = render_all(two_customers, "acme"), render_all(two_customers, "zenith")
    assert sorted(acme) == sorted(zenith) and len(acme) == machine_steps(two_customers, "acme")  # of both deliveries
    first, second = sample.org_ids
    for name in acme:
        compile(acme[name], name, "exec")
        assert shape(acme[name], "acme", first) == shape(zenith[name], "zenith", second), name
        assert acme[name] != zenith[name]
    export = acme["initial/export-files.py"].decode()
    assert f'org_id="{first}",' in export and f'bucket="offboard-acme-{first}",' in export
    assert 'delivery="initial",' in export and f'"FILES": "{sample.sources["FILES"]}",' in export
    fixup = acme["delta/fix-links.py"].decode()
    assert '"apps.na.collabserv.com",' in fixup and 'msp_host="connections.msp.example.com",' in fixup


def test_a_second_render_is_byte_identical_and_journals_nothing(two_customers):
    first = render_all(two_customers, "acme")
    journal = Journal.of_stack(two_customers, "acme")
    lines = journal.path.read_bytes()
    assert {entry.status for entry in journal.renderings().values()} == {"rendered"} and len(journal.renderings()) == machine_steps(two_customers, "acme")
    notes = two_customers.stack_state_dir("acme") / "modules" / "initial" / "review-notes.py"
    notes.write_text("# the operator's own file: rendering leaves it alone\n")
    again = [module for workflow in WORKFLOWS for module in commands.render(two_customers, "acme", workflow, backend="local")]
    assert notes.exists()
    notes.unlink()
    assert {module.change for module in again} == {"unchanged"}
    assert render_all(two_customers, "acme") == first and journal.path.read_bytes() == lines


def test_a_changed_stack_file_changes_only_its_values_and_journals_the_new_module(two_customers):
    before = render_all(two_customers, "acme")
    path = two_customers.stack_file("acme")
    path.write_text(path.read_text() + "# reviewed by the MSP\n")
    assert {module.change for module in commands.render(two_customers, "acme", "delta", backend="local")} == {"inputs only"}
    document = yaml.safe_load(path.read_text())
    document["config"]["offboard:fixup"]["mspHost"] = "connections.other-msp.example.com"
    path.write_text(yaml.safe_dump(document))
    changed = {module.step: module.change for module in commands.render(two_customers, "acme", "delta", backend="local")}
    assert changed["fix-links"] == changed["fixup-staging"] == "changed"
    after = render_all(two_customers, "acme")
    assert b'msp_host="connections.other-msp.example.com",' in after["delta/fix-links.py"]
    assert Journal.of_stack(two_customers, "acme").renderings()["fix-links"].sha256 == hashlib.sha256(after["delta/fix-links.py"]).hexdigest()
    assert before.keys() == after.keys()


def test_no_module_holds_the_key_or_a_password(local_project, sample, endpoint_session, monkeypatch):
    project = local_project
    config = stack_config(sample, sample.org_ids[0])
    db2 = "db2+ibm_db://db2inst1:${ACME_DB_PASSWORD}@db2.msp.example.com:50000/"
    config["offboard:staging"]["databases"] = {name: db2 + name for name in config["offboard:staging"]["databases"]}
    project.stack_file("acme").write_text(yaml.safe_dump({"config": config}))
    monkeypatch.setenv("ACME_DB_PASSWORD", PASSWORD)
    outputs = EmbeddedBackend(project).up(load_customer(project, "acme"))
    try:
        modules = render_all(project, "acme")
        assert b"${ACME_DB_PASSWORD}@db2.msp.example.com" in modules["initial/import-db-staging.py"]
        for name, body in modules.items():
            for secret in (outputs.access_key_id, outputs.secret_access_key.get_secret_value(), PASSWORD):
                assert secret.encode() not in body, name

        # a template with the key pasted into it is refused, and no module is written
        template = project.runbooks_dir / "modules" / "teardown.py.j2"
        template.write_text(template.read_text().replace("    return", f"    # {outputs.access_key_id}\n    return"))
        modules_dir = project.stack_state_dir("acme") / "modules"
        before = {path: path.read_bytes() for path in modules_dir.rglob("*.py")}
        with pytest.raises(OffboardError, match=r"^the module of teardown \(runbooks/modules/teardown.py.j2\) contains the access key id: refused"):
            commands.render(project, "acme", "delta", backend="local")
        assert {path: path.read_bytes() for path in modules_dir.rglob("*.py")} == before
    finally:
        remove_stack(project, "acme", endpoint_session[1])


def test_a_module_edited_after_rendering_is_refused_by_run_until_rendered_again(local_project, tmp_path, endpoint_session):
    project = local_project
    assert run_cli(project, "sample", "create", str(tmp_path / "sample"), "--stack", "acme", env=ENV).returncode == 0
    assert run_cli(project, "runbook", "render", "acme", "initial", env=ENV).returncode == 0
    assert run_cli(project, "runbook", "confirm", "acme", "select-msp", "--by", "Ann", env=ENV).returncode == 0
    plan = {step["id"]: step for step in json.loads(run_cli(project, "runbook", "plan", "acme", "initial", "--json", env=ENV).stdout)}
    assert plan["provision"]["module"] == ".offboard/stacks/acme/modules/initial/provision.py"
    assert plan["verify-staging"]["module"] == ".offboard/stacks/acme/modules/initial/verify-staging.py"
    assert plan["select-msp"]["module"] is None

    folder = project.stack_state_dir("acme") / "modules" / "initial"
    edited = (folder / "verify-staging.py").read_text().replace('target="staging"', 'target="production"')
    (folder / "verify-staging.py").write_text(edited)  # the last machine step: the run refuses at once all the same
    journal = project.stack_state_dir("acme") / "journal.jsonl"
    lines = journal.read_bytes()
    refused = run_cli(project, "runbook", "run", "acme", "initial", env=ENV)
    assert refused.returncode == 1 and len(refused.stderr.splitlines()) == 1
    assert refused.stderr.startswith("offboard: .offboard/stacks/acme/modules/initial/verify-staging.py changed since it "
                                     "was rendered (sha256 ")
    assert refused.stderr.endswith("refused; `offboard runbook render acme initial` replaces it and journals the change\n")
    assert journal.read_bytes() == lines and not (project.stack_state_dir("acme") / "outputs.json").exists()
    assert "REFUSED verify-staging: " in run_cli(project, "runbook", "plan", "acme", "initial", env=ENV).stdout

    rendered = run_cli(project, "runbook", "render", "acme", "initial", env=ENV)
    [kept] = folder.glob("verify-staging.py.edited-*")
    assert "edit replaced" in rendered.stdout and kept.read_text() == edited
    module = folder / "provision.py"
    try:
        assert standalone(project, folder / "preflight.py").returncode == 0  # the first machine step, by hand
        checked = standalone(project, folder / "check-catalog.py")
        assert checked.returncode == 0 and json.loads(checked.stdout)["blocks"] == 0, checked.stderr
        by_hand = standalone(project, module)  # the one step, gated and journaled as `runbook run` does
        assert by_hand.returncode == 0 and json.loads(by_hand.stdout)["bucket"] == "offboard-acme-" + load_customer(project, "acme").org_id
        done = Journal.of_stack(project, "acme").latest()["provision"]
        assert done.status == "done" and (done.module, done.sha256) == (str(module.relative_to(project.root)),
                                                                         hashlib.sha256(module.read_bytes()).hexdigest())
        out_of_order = standalone(project, folder / "export-files.py")
        assert out_of_order.returncode == 1 and out_of_order.stderr.startswith(
            "export-files: export-files cannot run yet: create-servicenow-user, ")

        project.stack_file("acme").write_text(project.stack_file("acme").read_text() + "# reviewed\n")
        stale = run_cli(project, "runbook", "retry", "acme", "provision", env=ENV)
        assert stale.returncode == 1 and stale.stderr == ("offboard: stacks/Pulumi.acme.yaml changed since step provision was "
                                                          "rendered: run `offboard runbook render acme initial` and review the modules again\n")
    finally:
        remove_stack(project, "acme", endpoint_session[1])


def test_a_workflow_that_cannot_be_rendered_writes_nothing(project):
    """alpha has no sides at all: its export steps would await IBM's delivery, its imports need staging."""
    with pytest.raises(OffboardError, match="^stack alpha has no offboard:"):
        commands.render(project, "alpha", "initial", backend="local")
    assert not (project.stack_state_dir("alpha") / "modules").exists()
    assert not Journal.of_stack(project, "alpha").path.exists()


def standalone(project, module: Path, *args: str) -> subprocess.CompletedProcess:
    """`python <module>.py ...` from the project folder, as an operator runs one stage by hand."""
    env = {key: value for key, value in os.environ.items() if key != "OFFBOARD_PROJECT"}
    return subprocess.run([sys.executable, str(module.relative_to(project.root)), *args], cwd=project.root, env=env,
                          capture_output=True, text=True, timeout=120)


def dry_run(project, module: Path) -> dict | str:
    """The figures of a dry run, or its one-line refusal."""
    result = standalone(project, module, "--dry-run")
    if result.returncode:
        *progress, refusal = result.stderr.splitlines()  # the stage's progress (stderr is a pipe), then why it stopped
        assert result.returncode == 1 and "Traceback" not in result.stderr
        assert all(re.match(rf"{module.stem}: (\d+%|[\d,]+ rows), ", line) for line in progress), result.stderr
        return refusal
    figures = json.loads(result.stdout)
    assert figures["dry_run"] is True
    return figures


def snapshot(s3, bucket: str, sample_root: Path) -> tuple:
    """Every object version in the bucket, and every byte of the targets' databases and stores."""
    versions = [(v["Key"], v["VersionId"], v["ETag"]) for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket)
                for v in page.get("Versions", [])]
    targets = {str(path): hashlib.sha256(path.read_bytes()).hexdigest()
               for target in ("staging", "production") for path in sorted((sample_root / target).rglob("*")) if path.is_file()}
    return sorted(versions), targets


def test_each_module_run_alone_with_dry_run_changes_nothing(local_project, tmp_path, endpoint_session):
    project, admin = local_project, endpoint_session[1]
    assert run_cli(project, "sample", "create", str(tmp_path / "sample"), "--stack", "acme", env=ENV).returncode == 0
    assert run_cli(project, "runbook", "render", "acme", "initial", env=ENV).returncode == 0
    customer = load_customer(project, "acme")
    s3, bucket = admin.client("s3", customer.region), f"offboard-acme-{customer.org_id}"
    modules = project.stack_state_dir("acme") / "modules"

    planned = dry_run(project, modules / "initial" / "provision.py")
    assert f"s3 bucket {bucket} create" in planned["resources"]
    assert bucket not in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    try:
        walk(project, "initial", say=lambda line: None, stack="acme")  # in this process; test_walk.py goes through the CLI
        mutate_org(tmp_path / "sample", customer.org_id, seed=1)
        commands.render(project, "acme", "delta", backend="local")
        journal = (project.stack_state_dir("acme") / "journal.jsonl").read_bytes()
        before = snapshot(s3, bucket, tmp_path / "sample")

        said = {module.stem: dry_run(project, module) for module in sorted((modules / "delta").glob("*.py"))}
        assert said["export-delta-files"]["delivery"] == "delta-1" and said["export-delta-files"]["files_to_send"] > 0
        assert said["export-delta-db"]["delivery"] == "delta-1" and said["export-delta-db"]["org_rows_at_source"] > 0
        assert said["import-production"]["deliveries"] == ["initial"] and said["import-production"]["rows"] > 0
        assert said["fixup-staging"]["rows_changed"] >= 0 and said["fix-links"]["dry_run"]
        assert said["teardown"]["versions_to_delete"] > 0
        assert "delta-1" in said["download-delta"]  # nothing of delta-1 is in the bucket yet: said in one line
        for step in ("teardown", "export-delta-files"):
            by_hand = standalone(project, modules / "delta" / f"{step}.py")  # for real, not a dry run: gated all the same
            assert by_hand.returncode == 1 and by_hand.stderr.startswith(f"{step}: {step} cannot start: "), by_hand.stderr
        assert snapshot(s3, bucket, tmp_path / "sample") == before
        assert (project.stack_state_dir("acme") / "journal.jsonl").read_bytes() == journal
        assert not (project.stack_state_dir("acme") / "fixup-staging.json").exists()
    finally:
        remove_stack(project, "acme", admin)


def test_the_readme_shows_a_module_as_rendered_for_the_example_stack(project):
    shutil.copy(REPO / "stacks" / "Pulumi.example.yaml", project.stack_file("example"))
    rendered = {module.step: module.path.read_text() for module in commands.render(project, "example", "initial", backend="pulumi")}
    readme = (REPO / "README.md").read_text()
    shown = readme.split("```python\n# import-db-staging")[1].split("```")[0]
    lines = [line for line in ("# import-db-staging" + shown).splitlines() if "# ..." not in line]
    module = rendered["import-db-staging"].splitlines()
    assert [line for line in module if line in lines] == lines  # every line shown is there, in order


def test_a_catalog_changed_after_rendering_refuses_every_module_until_rendered_again(two_customers):
    render_all(two_customers, "acme")
    catalog = two_customers.runbooks_dir / "catalog" / "connections.yaml"
    catalog.write_text(catalog.read_text() + "# one more table, some day\n")

    def not_provisioned():
        raise NotProvisioned("not provisioned")

    plan = commands.plan(two_customers, "acme", "initial", backend="local", outputs=not_provisioned)
    refused = {step.id: step.refused for step in plan.steps if step.kind == "automated"}
    assert all(reason.startswith("runbooks/catalog/connections.yaml changed since step ") for reason in refused.values())
    with pytest.raises(OffboardError, match="runbooks/catalog/connections.yaml changed since step preflight was rendered"):
        commands.run(two_customers, "acme", "initial", backend="local", outputs=not_provisioned)

    assert {module.change for module in commands.render(two_customers, "acme", "initial", backend="local")} == {"inputs only"}
    plan = commands.plan(two_customers, "acme", "initial", backend="local", outputs=not_provisioned)
    assert not [step.refused for step in plan.steps if step.refused]


def test_a_bad_user_mapping_is_refused_when_the_workflow_with_the_fixup_is_rendered(two_customers, sample):
    mapping = sample.user_mapping(sample.org_ids[0])
    mapping.write_bytes(b"cloud_id,target_id,email\n111,222," + b"x" * 2000 + b"\n")
    commands.render(two_customers, "acme", "initial", backend="local")  # no fix-up in the initial delivery
    with pytest.raises(OffboardError, match=f"^the user mapping {mapping} line 2: a field longer than 1024 characters$"):
        commands.render(two_customers, "acme", "delta", backend="local")
    assert not (two_customers.stack_state_dir("acme") / "modules" / "delta").exists()
