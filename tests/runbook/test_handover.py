"""`offboard runbook handover`: the folder IBM runs a delivery's export from; the same bytes for the
same inputs, never a secret of the MSP, only into a new or empty folder."""

from __future__ import annotations

import hashlib
import json
import runpy

import pytest

from offboard.errors import OffboardError
from offboard.runbook.handed_over import prepared
from offboard.runbook.handover import handover
from tests.conftest import run_cli

PASSWORD = "Db2-pa55word-of-alpha"
STAGING = ("  offboard:staging:\n    databases:\n"
           "      FILES: db2+ibm_db://db2inst1:${ALPHA_DB_PASSWORD}@db2.msp.example.com:50000/FILES\n")


@pytest.fixture
def alpha(local_project, provisioned, monkeypatch):
    """alpha, provisioned (its key exists), without source settings, with a staging URL whose password is set."""
    path = local_project.stack_file("alpha")
    path.write_text(path.read_text() + STAGING)
    monkeypatch.setenv("ALPHA_DB_PASSWORD", PASSWORD)
    return local_project


def contents(folder) -> dict[str, bytes]:
    return {path.relative_to(folder).as_posix(): path.read_bytes() for path in sorted(folder.rglob("*")) if path.is_file()}


def test_the_folder_holds_the_export_modules_values_and_instructions_the_same_each_time(alpha, provisioned, tmp_path):
    written = handover(alpha, "alpha", "delta", tmp_path / "first", backend="local")
    first = contents(tmp_path / "first")
    assert [path.relative_to(tmp_path / "first").as_posix() for path in written] == [
        "export-delta-files.py", "export-delta-db.py", "stacks/Pulumi.alpha.yaml", "INSTRUCTIONS.md",
        "runbooks/catalog/connections.yaml", "handover.json"]
    assert sorted(first) == sorted(path.relative_to(tmp_path / "first").as_posix() for path in written)
    (tmp_path / "second").mkdir()  # an empty folder is taken as well as a new one
    handover(alpha, "alpha", "delta", tmp_path / "second", backend="local")
    assert contents(tmp_path / "second") == first

    values = json.loads(first["handover.json"])
    catalog = (alpha.runbooks_dir / "catalog" / "connections.yaml").read_bytes()
    assert first["runbooks/catalog/connections.yaml"] == catalog
    assert values["catalog_sha256"] == hashlib.sha256(catalog).hexdigest()
    assert (values["org_id"], values["bucket"], values["region"]) == ("20011111", provisioned["alpha"].bucket, "eu-central-1")
    assert [(step["step"], step["delivery"]) for step in values["steps"]] == [("export-delta-files", "delta-1"),
                                                                              ("export-delta-db", "delta-1")]
    assert values["sha256"] == {name: hashlib.sha256(body).hexdigest() for name, body in first.items() if name != "handover.json"}
    module = first["export-delta-db.py"].decode()
    compile(module, "export-delta-db.py", "exec")
    assert 'delivery="delta-1",' in module and f'bucket="{provisioned["alpha"].bucket}",' in module
    instructions = first["INSTRUCTIONS.md"].decode()
    assert "export-delta-files.py --access-info FILE" in instructions and "${CLOUD_DB2_PASSWORD}" in instructions
    assert "delta-1/db/manifest.json" in instructions and "Box folder" in instructions

    key = provisioned["alpha"]
    for name, body in first.items():  # never the key, nor a password of the MSP's databases
        for secret in (key.access_key_id, key.secret_access_key.get_secret_value(), PASSWORD):
            assert secret.encode() not in body, name


def test_a_template_carrying_the_key_is_refused_and_nothing_written(alpha, provisioned, tmp_path):
    template = alpha.runbooks_dir / "handover" / "INSTRUCTIONS.md.j2"
    template.write_text(template.read_text() + f"\nkey: {provisioned['alpha'].access_key_id}\n")
    with pytest.raises(OffboardError, match=r"^INSTRUCTIONS.md of the handover contains the access key id: refused, nothing written$"):
        handover(alpha, "alpha", "initial", tmp_path / "out", backend="local")
    assert not (tmp_path / "out").exists()


def test_a_folder_with_anything_in_it_or_a_stack_with_source_settings_is_refused(project, tmp_path):
    folder = tmp_path / "used"
    folder.mkdir()
    (folder / "notes.txt").write_text("IBM's own\n")
    refused = run_cli(project, "runbook", "handover", "alpha", "initial", str(folder), env={"OFFBOARD_BACKEND": "local"})
    assert refused.returncode == 1
    assert refused.stderr == f"offboard: {folder} is not an empty folder: give a new or empty one for the handover\n"
    assert [path.name for path in folder.iterdir()] == ["notes.txt"]

    path = project.stack_file("alpha")
    path.write_text(path.read_text() + "  offboard:source:\n    databases:\n      FILES: sqlite:///source/FILES.db\n")
    with pytest.raises(OffboardError, match=r"^stack alpha has offboard:source settings, so its runbook runs the export itself"):
        handover(project, "alpha", "initial", tmp_path / "new", backend="local")
    assert not (tmp_path / "new").exists()


def test_ibm_side_refuses_an_unfilled_source_a_changed_org_or_another_bucket_s_key(alpha, provisioned, tmp_path):
    folder = tmp_path / "handover"
    handover(alpha, "alpha", "initial", folder, backend="local")
    header = runpy.run_path(str(folder / "export-files.py"))["STEP"]
    access = tmp_path / "s3-access-info.txt"
    access.write_text(f"Bucket:             {provisioned['beta'].bucket}\nRegion:             eu-west-1\n"
                      "Access key id:      AKIDEXAMPLE\nSecret access key:  not-this-one\n")
    with pytest.raises(OffboardError, match=r"^fill in offboard:source in stacks/Pulumi.alpha.yaml \(INSTRUCTIONS.md, step 2\)$"):
        prepared(header, folder, access, dry_run=True)
    stack = folder / "stacks" / "Pulumi.alpha.yaml"
    stack.write_text(stack.read_text() + "  offboard:source:\n    databases:\n      FILES: sqlite:///source/FILES.db\n")
    with pytest.raises(OffboardError, match=rf"^the access information is for bucket {provisioned['beta'].bucket}, "
                                            rf"not {provisioned['alpha'].bucket}: give the file of this customer's Box folder$"):
        prepared(header, folder, access, dry_run=True)
    stack.write_text(stack.read_text().replace('"20011111"', '"20022222"'))
    with pytest.raises(OffboardError, match=r"^stacks/Pulumi.alpha.yaml is for org 20022222, not 20011111: change only its offboard:source$"):
        prepared(header, folder, access, dry_run=True)
