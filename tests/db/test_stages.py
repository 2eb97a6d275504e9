"""The database stages of one customer through the real CLI, on the embedded endpoint."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import pytest
import yaml

from offboard.infra.outputs import StackOutputs
from offboard.runbook.mirror import JOURNAL_KEY
from offboard.sample import SampleLayout
from offboard.sample.stack import write_stack
from offboard.transfer.session import customer_s3
from tests.conftest import engine_options, remove_stack, run_cli
from tests.db.support import catalog_of, execute, org_rows, snapshot, tenant_rows

ENV = {"OFFBOARD_BACKEND": "local"}


@pytest.fixture
def acme(local_project, tmp_path, endpoint_session, server):
    """A sample source and a customer stack for its first org, provisioned on the endpoint."""
    made = run_cli(local_project, "sample", "create", str(tmp_path / "sample"), "--stack", "acme", *engine_options(server), env=ENV)
    assert made.returncode == 0, made.stderr
    sample = SampleLayout.load(tmp_path / "sample")
    assert run_cli(local_project, "stack", "up", "acme", env=ENV).returncode == 0
    yield local_project, sample
    remove_stack(local_project, "acme", endpoint_session[1])


def cli(project, *args):
    result = run_cli(project, *args, env=ENV)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_both_deliveries_end_to_end_through_the_cli(acme):
    project, sample = acme
    org = sample.orgs[0]
    homes = {user.home_org for user in org.users if user.home_org}  # a guest's home org travels with the guest
    others = [o.org_id for o in sample.orgs[1:] if o.org_id not in homes]
    assert others
    catalog = catalog_of(sample)
    extensions = catalog.table("EMPINST.PROFILE_EXTENSIONS")
    full = bytes(range(256)) * (extensions.types["PROF_VALUE_EXTENDED"].length // 256)  # a BLOB(10M) at its declared size
    execute(sample, "source", "PEOPLEDB", 'UPDATE "PROFILE_EXTENSIONS" SET "PROF_VALUE_EXTENDED" = :full WHERE "TENANT_KEY" = :org '
            'AND "PROF_KEY" = (SELECT MIN("PROF_KEY") FROM "PROFILE_EXTENSIONS" WHERE "TENANT_KEY" = :org)', full=full, org=org.org_id)
    assert "database delivery initial in the bucket" in cli(project, "db", "export", "acme", "--delivery", "initial")
    cli(project, "db", "import", "acme", "--target", "staging")
    # One org of three, every type of the catalog, byte for byte (the tenant column is the MSP's org id by design).
    assert org_rows(sample, "staging", catalog, org.target_org_id) == org_rows(sample, "source", catalog, org.org_id)
    cli(project, "db", "verify", "acme", "--target", "staging")
    first = cli(project, "db", "fixup", "acme", "--target", "staging")
    assert "0 rows changed" not in first
    assert "0 rows changed" in cli(project, "db", "fixup", "acme", "--target", "staging")  # idempotent
    departed = org.users[-1].cloud_id  # the sample's mapping lacks the last user
    refused = run_cli(project, "db", "verify", "acme", "--target", "staging", env=ENV)
    assert refused.returncode == 1 and f"1 user id unmapped in the last fix-up of staging and not accepted ({departed})" in refused.stderr
    accept_unmapped(project, departed, "staging")
    cli(project, "db", "verify", "acme", "--target", "staging")

    cli(project, "sample", "mutate", str(sample.root), "--org", org.org_id)
    delta = cli(project, "db", "export", "acme", "--delivery", "delta")
    assert "delta-1" in delta and ", 0 deletions" not in delta
    again = cli(project, "db", "export", "acme", "--delivery", "delta-1")  # a step run again after a crash
    assert "database delivery delta-1 in the bucket" in again and "0 files sent" in again
    skipped = run_cli(project, "db", "export", "acme", "--delivery", "delta-3", env=ENV)
    assert skipped.returncode == 1 and "the next delivery is delta-2" in skipped.stderr
    cli(project, "db", "import", "acme", "--target", "staging", "--delivery", "delta")
    cli(project, "db", "fixup", "acme", "--target", "staging")
    cli(project, "db", "verify", "acme", "--target", "staging")
    assert "initial, delta-1" in cli(project, "db", "import", "acme", "--target", "production", "--delivery", "all")
    cli(project, "db", "fixup", "acme", "--target", "production")
    accept_unmapped(project, departed, "production")  # a decision per target
    verified = json.loads(cli(project, "db", "verify", "acme", "--target", "production", "--json"))
    assert verified["delivery"] == "delta-1" and len(verified["tables"]) == len(catalog.tables())

    for target in ("staging", "production"):
        assert all(found <= {org.target_org_id} for found in tenant_rows(sample, target, catalog).values())
    assert not any(other in json.dumps(snapshot(sample, "production"), default=str) for other in others)


def accept_unmapped(project, user_id, target):
    listed = project.root / f"departed-{target}.txt"
    listed.write_text(f"{user_id}\n")
    cli(project, "db", "accept-unmapped", "acme", target, "--ids", str(listed), "--reason", "left the company", "--by", "Test Operator")


def test_a_chunk_altered_in_the_bucket_is_refused_and_the_target_stays_as_it_was(acme):
    project, sample = acme
    cli(project, "db", "export", "acme", "--delivery", "initial")
    outputs = StackOutputs.load(project.stack_state_dir("acme"))
    s3 = customer_s3(outputs)
    key = next(item["Key"] for item in s3.list_objects_v2(Bucket=outputs.bucket, Prefix="initial/db/")["Contents"]
               if item["Key"].endswith(".del.gz"))
    altered = bytearray(s3.get_object(Bucket=outputs.bucket, Key=key)["Body"].read())
    altered[len(altered) // 2] ^= 0xFF  # same size, other bytes
    s3.put_object(Bucket=outputs.bucket, Key=key, Body=bytes(altered))
    before = snapshot(sample, "staging")
    refused = run_cli(project, "db", "import", "acme", "--target", "staging", env=ENV)
    assert refused.returncode == 1 and len(refused.stderr.strip().splitlines()) == 1
    assert "sha256" in refused.stderr
    assert snapshot(sample, "staging") == before


KILLED_UPLOAD = """
import os, signal, sys
from offboard import cli
from offboard.db import stages

real_upload = stages.upload_folder

def upload_then_die(s3, bucket, prefix, folder):
    s3.upload_file = lambda *args, **kwargs: os.kill(os.getpid(), signal.SIGKILL)  # the manifest, sent last
    return real_upload(s3, bucket, prefix, folder)

stages.upload_folder = upload_then_die
sys.argv = ["offboard", *sys.argv[1:]]
cli.main()
"""


def test_a_delta_export_killed_while_sending_is_finished_by_the_next_delta_export(acme):
    project, sample = acme
    cli(project, "db", "export", "acme", "--delivery", "initial")
    cli(project, "sample", "mutate", str(sample.root), "--org", sample.orgs[0].org_id)
    killed = subprocess.run([sys.executable, "-c", KILLED_UPLOAD, "db", "export", "acme", "--delivery", "delta"],
                            env={**os.environ, **ENV, "OFFBOARD_PROJECT": str(project.root)}, capture_output=True, text=True)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    outputs = StackOutputs.load(project.stack_state_dir("acme"))
    sent = [item["Key"] for item in customer_s3(outputs).list_objects_v2(Bucket=outputs.bucket)["Contents"]]
    assert any(key.startswith("delta-1/db/") for key in sent) and "delta-1/db/manifest.json" not in sent

    assert "database delivery delta-1 in the bucket" in cli(project, "db", "export", "acme", "--delivery", "delta")
    prefixes = customer_s3(outputs).list_objects_v2(Bucket=outputs.bucket, Delimiter="/")["CommonPrefixes"]
    assert [prefix["Prefix"] for prefix in prefixes] == ["delta-1/", "initial/", "runbook/"]  # runbook/: the journal's copy
    assert "imported initial, delta-1 into staging" in cli(project, "db", "import", "acme", "--target", "staging", "--delivery", "all")
    cli(project, "db", "verify", "acme", "--target", "staging")


def test_a_delivery_not_in_the_bucket_is_one_line(acme):
    project, _ = acme
    refused = run_cli(project, "db", "import", "acme", "--target", "staging", "--delivery", "delta-3", env=ENV)
    assert refused.returncode == 1
    assert refused.stderr == "offboard: database delivery delta-3 is not committed in bucket offboard-acme-" + \
        refused.stderr.split("offboard-acme-")[1]
    assert "(committed: none)" in refused.stderr


def test_an_org_without_a_row_at_the_source_is_refused_and_nothing_reaches_the_bucket(local_project, tmp_path, endpoint_session, server):
    project = local_project
    assert run_cli(project, "sample", "create", str(tmp_path / "sample"), "--stack", "typo", *engine_options(server), env=ENV).returncode == 0
    document = yaml.safe_load(project.stack_file("typo").read_text())
    document["config"]["offboard:orgId"] = "99999999"  # an org id mistyped: none of the source's orgs
    project.stack_file("typo").write_text(yaml.safe_dump(document))
    assert run_cli(project, "stack", "up", "typo", env=ENV).returncode == 0
    try:
        for part in ("files", "db"):  # files go first in the runbook: neither sends an empty delivery
            result = run_cli(project, part, "export", "typo", "--delivery", "initial", env=ENV)
            assert result.returncode == 1 and result.stderr == ("offboard: org 99999999 has no rows in the source databases: "
                                                                "check offboard:orgId; nothing was exported\n")
        assert not (project.stack_state_dir("typo") / "db-export" / "initial").exists()
        outputs = StackOutputs.load(project.stack_state_dir("typo"))
        listed = customer_s3(outputs).list_objects_v2(Bucket=outputs.bucket).get("Contents", [])
        assert [item["Key"] for item in listed] == [JOURNAL_KEY]  # the refusals are journaled; nothing of the org
    finally:
        remove_stack(project, "typo", endpoint_session[1])


def test_two_stacks_import_into_one_postgresql_target_at_once_and_each_sees_only_its_rows(local_project, tmp_path, endpoint_session,
                                                                                         postgres_server):
    project = local_project
    cli(project, "sample", "create", str(tmp_path / "sample"), "--stack", "acme", "--engine", "postgresql", "--server", postgres_server)
    sample = SampleLayout.load(tmp_path / "sample")
    write_stack(project, "other", sample, sample.org_ids[1])
    stacks = {"acme": sample.orgs[0], "other": sample.orgs[1]}
    try:
        for stack in stacks:
            cli(project, "stack", "up", stack)
            cli(project, "db", "export", stack, "--delivery", "initial")
        both = [subprocess.Popen([sys.executable, "-m", "offboard.cli", "db", "import", stack, "--target", "staging"],
                                 env={**os.environ, **ENV, "OFFBOARD_PROJECT": str(project.root)}, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True) for stack in stacks]
        for process in both:
            _, error = process.communicate(timeout=120)
            assert process.returncode == 0, error
        for stack in stacks:
            cli(project, "db", "verify", stack, "--target", "staging")  # exits 1 when a table differs
        tenants = {org.target_org_id for org in stacks.values()}
        assert all(found == tenants for found in tenant_rows(sample, "staging", catalog_of(sample)).values())
    finally:
        for stack in stacks:
            remove_stack(project, stack, endpoint_session[1])
