"""Both deliveries walked to the end through the real CLI on the embedded endpoint: the modules
rendered with `offboard runbook render`, every machine step executed by its module, every
person's step confirmed with `offboard runbook confirm`."""

from __future__ import annotations

import hashlib
import json
import re

import pytest

from offboard.db.content import org_content
from offboard.fixup.report import FixupReport, report_path
from offboard.fixup.unmapped import last_fixup
from offboard.infra.outputs import StackOutputs
from offboard.sample import SampleLayout
from tests.conftest import engine_options, run_cli
from tests.db.support import catalog_of

ENV = {"OFFBOARD_BACKEND": "local"}


def walk(project, workflow: str) -> list[str]:
    """Render, then run, confirm the person it waits for, run again, until every step is done; when
    verify fails on the users the sample's mapping lacks, accept them and retry it."""
    rendered = run_cli(project, "runbook", "render", "acme", workflow, env=ENV)
    assert rendered.returncode == 0, rendered.stderr
    ran = []
    for _ in range(80):
        result = run_cli(project, "runbook", "run", "acme", workflow, env=ENV)
        if result.returncode and "offboard db accept-unmapped acme production" in result.stderr:
            ran += done_steps(result)
            result = accept_unmapped(project)
            assert result.returncode == 0, result.stderr
            ran += done_steps(result)
            continue
        assert result.returncode in (0, 3), result.stderr  # 3: it waits for a person
        ran += done_steps(result)
        if result.returncode == 0:
            assert "every step is done" in result.stdout
            return ran
        waiting = re.search(r"confirm (\S+) once it is done", " ".join(result.stdout.split()))[1]
        confirmed = run_cli(project, "runbook", "confirm", "acme", waiting, "--by", "Test Operator", env=ENV)
        assert confirmed.returncode == 0, confirmed.stderr
    raise AssertionError(f"{workflow} did not finish")


def done_steps(result) -> list[str]:
    """The machine steps a runbook command ran to the end."""
    return [line.split()[1].rstrip(":") for line in result.stdout.splitlines() if line.startswith("ran ") and ": done " in line]


def accept_unmapped(project):
    """The operator's decision: the ids production's fix-up could not map accepted, then verify retried."""
    listed = project.root / "departed.txt"
    listed.write_text("\n".join(last_fixup(project, "acme", "production").open) + "\n")
    accepted = run_cli(project, "db", "accept-unmapped", "acme", "production", "--ids", str(listed), "--reason", "left the company",
                       "--by", "Test Operator", env=ENV)
    assert accepted.returncode == 0, accepted.stderr
    return run_cli(project, "runbook", "retry", "acme", "verify-production", env=ENV)


@pytest.mark.one_engine  # the demo walks the same way on PostgreSQL (tests/test_demo.py)
def test_both_deliveries_run_to_the_end_and_the_secret_never_shows(local_project, tmp_path, server):
    project = local_project
    assert run_cli(project, "sample", "create", str(tmp_path / "sample"), "--stack", "acme", *engine_options(server), env=ENV).returncode == 0
    sample = SampleLayout.load(tmp_path / "sample")
    for target in ("staging", "production"):  # the MSP's stores are shared: another org's file is there already
        theirs = sample.root / target / "content" / "files" / "another-org" / "theirs.bin"
        theirs.parent.mkdir(parents=True)
        theirs.write_bytes(b"not acme's")

    initial = walk(project, "initial")
    assert initial == ["preflight", "check-catalog", "provision", "export-files", "export-db", "download", "import-files-staging",
                       "import-db-staging", "import-files-production", "verify-staging"]
    refused = run_cli(project, "teardown", "acme", env=ENV)
    assert refused.returncode == 1 and "teardown refused" in refused.stderr
    outputs = StackOutputs.load(project.stack_state_dir("acme"))

    run_cli(project, "sample", "mutate", str(sample.root), "--org", sample.org_ids[0], env=ENV)
    delta = walk(project, "delta")
    assert delta[:3] == ["preflight-delta", "check-delta-catalog", "export-delta-files"] and delta[-2:] == ["verify-production", "teardown"]

    state = project.stack_state_dir("acme")
    secret = outputs.secret_access_key.get_secret_value()
    journal = (state / "journal.jsonl").read_text()
    support_texts = [p.read_text() for p in (state / "texts").iterdir() if "s3-access-info" not in p.name]
    for text in [journal, *support_texts]:
        assert secret not in text and outputs.access_key_id not in text
    assert all(outputs.bucket not in text for text in support_texts)
    entries = [json.loads(line) for line in journal.splitlines()]
    assert {entry["status"] for entry in entries if entry["kind"] == "manual"} <= {"waiting", "done", "accepted"}
    assert_every_machine_step_ran_its_rendered_module(project, entries, initial + delta)
    proof = json.loads((state / "verify-db-production.json").read_text())
    assert proof["ok"] and proof["unmapped_open"] == [] and proof["unmapped_accepted"] == [sample.orgs[0].users[-1].cloud_id]
    assert [(e["target"], e["reason"]) for e in entries if e["status"] == "accepted"] == [("production", "left the company")]
    report = FixupReport.load(report_path(state, "production"))
    files_proof = json.loads((state / "verify-files-production.json").read_text())
    assert files_proof["ok"] and files_proof["scope"] == "files the org's rows point at or its deliveries deleted" and not files_proof["extra"]
    assert (sample.root / "production" / "content" / "files" / "another-org" / "theirs.bin").read_bytes() == b"not acme's"
    # Every store holds exactly the org's binaries as the source has them now: new revisions,
    # changed files, the folders of its weblogs, and no deleted attachment.
    own = set(org_content(catalog_of(sample), sample.sources, sample.org_ids[0], sample.content_stores))
    assert {store for store, _ in own} == {"files", "wikis", "activities", "blogs", "forums"}
    for store, folder in sample.content_stores.items():
        target = sample.root / "production" / "content" / store
        found = {p.relative_to(target).as_posix() for p in target.rglob("*") if p.is_file()} - {"another-org/theirs.bin"}
        found = {path for path in found if not path.startswith(".offboard-")}
        assert found == {path for s, path in own if s == store}, store
        rewritten = {file.path: file for file in report.files if file.store == store}  # wiki pages: their links point at the MSP
        assert all((target / path).read_bytes() == (folder / path).read_bytes() for path in found - set(rewritten)), store
        assert all(hashlib.sha256((target / path).read_bytes()).hexdigest() == file.sha256 != hashlib.sha256((folder / path).read_bytes()).hexdigest()
                   for path, file in rewritten.items()), store
    assert report.files and all(file.store == "wikis" and file.links for file in report.files)
    fleet = {row["stack"]: row for row in json.loads(run_cli(project, "fleet", "--json").stdout)}
    assert fleet["acme"]["status"] == "complete"


def assert_every_machine_step_ran_its_rendered_module(project, entries: list[dict], ran: list[str]) -> None:
    accepted = {entry["step"]: entry for entry in entries if entry["status"] == "rendered"}
    done = {entry["step"]: entry for entry in entries if entry["kind"] == "automated" and entry["status"] == "done"}
    assert sorted(done) == sorted(ran) and set(ran) <= set(accepted)
    for step in ran:
        module = project.root / done[step]["module"]
        assert module.name == f"{step}.py" and module.parent.parent.name == "modules"
        assert done[step]["sha256"] == accepted[step]["sha256"] == hashlib.sha256(module.read_bytes()).hexdigest()
