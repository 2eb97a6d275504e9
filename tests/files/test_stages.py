"""The files stages of two customers whose orgs share the MSP's target stores, through the real CLI."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from offboard.customer import load_customer
from offboard.db.content import org_content
from offboard.errors import OffboardError
from offboard.files import stages as files_stages
from offboard.files.owners import RECORD
from offboard.infra.outputs import StackOutputs
from offboard.runtime import Runtime
from offboard.sample import SampleLayout
from offboard.sample.stack import target_stores, write_stack
from offboard.transfer.session import customer_s3
from tests.conftest import engine_options, remove_stack, run_cli
from tests.db.support import catalog_of
from tests.files.conftest import put_delivery, snapshot

ENV = {"OFFBOARD_BACKEND": "local"}


def cli(project, *args):
    result = run_cli(project, *args, env=ENV)
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.fixture
def neighbours(local_project, tmp_path, endpoint_session, server):
    """Two customers of one sample (stacks acme and other) on the endpoint; other's files and
    rows already in production."""
    project = local_project
    cli(project, "sample", "create", str(tmp_path / "sample"), "--stack", "acme", *engine_options(server))
    sample = SampleLayout.load(tmp_path / "sample")
    write_stack(project, "other", sample, sample.org_ids[1])
    try:
        for stack in ("acme", "other"):
            cli(project, "stack", "up", stack)
        for part in ("files", "db"):
            cli(project, part, "export", "other", "--delivery", "initial")
            cli(project, part, "import", "other", "--target", "production")
        yield project, sample
    finally:
        for stack in ("acme", "other"):
            remove_stack(project, stack, endpoint_session[1])


def dry_import(project, delivery: str) -> dict:
    customer = load_customer(project, "acme")
    side = customer.side("production")
    return files_stages.import_(Runtime(project, "acme", "local", dry_run=True), org_id=customer.org_id,
                                target_org_id=customer.target_org(), bucket=StackOutputs.load(project.stack_state_dir("acme")).bucket,
                                delivery=delivery, target="production", target_stores=side.content_stores,
                                target_databases=side.databases)


def test_a_consistent_hostile_delta_neither_replaces_nor_deletes_another_orgs_file(neighbours):
    project, sample = neighbours
    cli(project, "files", "export", "acme", "--delivery", "initial")
    cli(project, "files", "import", "acme", "--target", "production")
    proof = json.loads(cli(project, "files", "verify", "acme", "--target", "production", "--json"))
    assert proof["ok"] and proof["expected"] > 0 and (proof["missing_count"], proof["extra_count"], proof["truncated"]) == (0, 0, [])
    production = target_stores(sample, "production")["files"]
    theirs = next(path for store, path in org_content(catalog_of(sample), sample.sources, sample.org_ids[1], sample.content_stores) if store == "files")
    outputs = StackOutputs.load(project.stack_state_dir("acme"))
    holder = SimpleNamespace(s3=customer_s3(outputs), bucket=outputs.bucket, org_id=sample.org_ids[0])  # whoever holds acme's key
    before = snapshot(production.parent)

    put_delivery(holder, "delta-1", {f"files/{theirs}": b"replaced by a hostile delta"})
    with pytest.raises(OffboardError, match=f"files/{theirs} is another org's"):  # a dry run refuses it as the import does
        dry_import(project, "delta-1")
    assert dry_import(project, "initial")["files"] == proof["expected"]
    customer = load_customer(project, "acme")
    plan = files_stages.export(Runtime(project, "acme", "local", dry_run=True), org_id=customer.org_id, bucket=holder.bucket,
                               delivery="initial", source_databases=customer.side("source").databases,
                               source_stores=customer.side("source").content_stores)
    assert plan["already_committed"] and plan["delivery"] == "initial"
    refused = run_cli(project, "files", "import", "acme", "--target", "production", "--delivery", "delta-1", env=ENV)
    assert refused.returncode == 1 and len(refused.stderr.splitlines()) == 1
    assert f"files/{theirs} is another org's: a delivery of org {sample.orgs[1].target_org_id} wrote it" in refused.stderr
    assert snapshot(production.parent) == before

    (production / RECORD).unlink()  # files the MSP put there by other means: the target's rows still tell
    before = snapshot(production.parent)
    put_delivery(holder, "delta-1", {}, deleted=[f"files/{theirs}"])
    refused = run_cli(project, "files", "import", "acme", "--target", "production", "--delivery", "delta-1", env=ENV)
    assert refused.returncode == 1 and len(refused.stderr.splitlines()) == 1
    assert f"rows of org {sample.orgs[1].target_org_id} in the target point at it" in refused.stderr
    assert snapshot(production.parent) == before
