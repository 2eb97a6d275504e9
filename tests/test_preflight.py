"""`offboard check`: each kind of problem found as one line, with its severity, before anything runs;
a clean stack passes with exit 0. SQLite samples (a PostgreSQL URL only where nothing listens)."""

from __future__ import annotations

import json
import os
import shutil
import socket

import pytest
import yaml

from offboard.customer import load_customer
from offboard.infra.embedded import EmbeddedBackend
from offboard.preflight import BLOCKS, WARNS, check_stack, checks, preflight
from offboard.sample.stack import write_stack
from tests.conftest import remove_stack, run_cli
from tests.db.check.support import catalog_of, quoted, varchar_column
from tests.db.support import copy_sample, execute

STACK = "acme"
PASSWORD = "Pf-secret-value-42"


@pytest.fixture
def sample(pristine_sqlite_sample, tmp_path):
    return copy_sample(pristine_sqlite_sample, tmp_path / "sample")


@pytest.fixture
def stack(project, sample, registered):
    write_stack(project, STACK, sample, sample.org_ids[0])
    return project


def edit(project, change) -> None:
    """Change the stack file's config (a dict) in place."""
    path = project.stack_file(STACK)
    document = yaml.safe_load(path.read_text())
    change(document["config"])
    path.write_text(yaml.safe_dump(document, sort_keys=False))


def run(project, backend: str | None = None, workflow: str | None = None, **options):
    return preflight(project, load_customer(project, STACK), backend=backend, workflow=workflow, **options)


def found(report, severity: str, check: str) -> list[str]:
    return [finding.line() for finding in report.findings if (finding.severity, finding.check) == (severity, check)]


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_an_unset_variable_is_named_once_and_no_value_is_ever_shown(stack, monkeypatch):
    port = closed_port()
    monkeypatch.delenv("PF_UNSET_PASSWORD", raising=False)
    monkeypatch.setenv("PF_SET_PASSWORD", PASSWORD)

    def urls(config):
        config["offboard:staging"]["databases"]["FILES"] = "postgresql+psycopg://offboard:${PF_UNSET_PASSWORD}@db.example.com/FILES"
        config["offboard:production"]["databases"]["FILES"] = "postgresql+psycopg://offboard:${PF_UNSET_PASSWORD}@db.example.com/FILES"
        config["offboard:production"]["databases"]["WIKIS"] = f"postgresql+psycopg://offboard:${{PF_SET_PASSWORD}}@127.0.0.1:{port}/WIKIS"
    edit(stack, urls)

    report = run(stack)
    assert found(report, BLOCKS, "variable") == [("blocks ${PF_UNSET_PASSWORD}: not set, and the URLs of staging FILES, "
                                                  "production FILES need it: set it in the environment offboard runs in")]
    [unreachable] = found(report, BLOCKS, "database")  # the unset one is not tried: no line about db.example.com
    assert unreachable.startswith("blocks offboard:production.databases WIKIS: connecting in postgresql+psycopg://offboard:***@127.0.0.1")
    shown = run_cli(stack, "check", STACK, env={"PF_SET_PASSWORD": PASSWORD})
    assert shown.returncode == 1 and PASSWORD not in shown.stdout + shown.stderr
    assert "blocks ${PF_UNSET_PASSWORD}: not set" in shown.stdout and len(shown.stderr.splitlines()) == 1


def test_databases_that_do_not_answer_block_one_line_per_side(stack, sample):
    port = closed_port()
    missing = sample.root / "gone" / "WIKIS.db"

    def urls(config):
        config["offboard:staging"]["databases"]["WIKIS"] = f"sqlite:///{missing}"
        for name in config["offboard:production"]["databases"]:
            config["offboard:production"]["databases"][name] = f"postgresql+psycopg://offboard@127.0.0.1:{port}/{name}"
    edit(stack, urls)

    lines = found(run(stack), BLOCKS, "database")
    assert len(lines) == 2, lines
    assert lines[0] == f"blocks offboard:staging.databases WIKIS: no database file at {missing} (sqlite:///{missing}): " \
                       "check the URL, the server and the network"
    assert lines[1].startswith("blocks offboard:production.databases ") and " databases cannot connect, the first: " in lines[1]
    assert "connect" in lines[1].lower() and lines[1].endswith("check the URL, the server and the network")


def test_store_roots_missing_not_a_folder_or_not_writable_block(stack, sample, monkeypatch):
    source = sample.content_stores
    first, second = sorted(source)[:2]
    shutil.rmtree(source[first])
    shutil.rmtree(source[second])
    source[second].write_text("a file where a folder belongs")
    target = sample.root / "staging" / "content" / first
    target.chmod(0o555)
    if os.geteuid() == 0:  # root writes anywhere: ask the question as the service user would get its answer
        monkeypatch.setattr(checks, "can_write", lambda folder: folder != target)

    lines = found(run(stack), BLOCKS, "store")
    target.chmod(0o755)
    assert f"blocks offboard:source.contentStores.{first}: {source[first]} does not exist: create it, or correct the folder in the stack file" in lines
    assert f"blocks offboard:source.contentStores.{second}: {source[second]} is not a folder: give the store's folder in the stack file" in lines
    assert (f"blocks offboard:staging.contentStores.{first}: {target} cannot be written by this user: the imports write there, "
            "give it write access") in lines
    assert len(lines) == 3


def test_the_user_mapping_shape_and_its_coverage(stack, sample):
    report = run(stack)
    [coverage] = found(report, WARNS, "coverage")  # the sample's mapping leaves its last user out, guests are not counted
    org = sample.org(sample.org_ids[0])
    people = [user for user in org.users if not user.home_org]
    assert coverage == (f"warns offboard:fixup.userMapping: 1 of the org's {len(people)} people has no mapping ({people[-1].cloud_id}): "
                        "add them, or accept them after the fix-up with `offboard db accept-unmapped`")
    assert not report.blocks

    sample.user_mapping(org.org_id).write_text("cloud,target\n1,2\n")
    expected = f"offboard:fixup.userMapping: the user mapping {sample.user_mapping(org.org_id)}: expected the header cloud_id,target_id,email"
    assert found(run(stack), BLOCKS, "mapping") == [f"blocks {expected}: correct the file the directory sync wrote"]
    assert found(run(stack, workflow="initial"), WARNS, "mapping") == [f"warns {expected}: correct the file the directory sync wrote"]
    assert not found(run(stack), WARNS, "coverage")  # nothing to count against


def test_the_backend_endpoint_provisioning_and_the_key(stack, endpoint_session, sample):
    not_running = "backend local: no embedded endpoint is running: start one with `offboard local start`"
    assert found(run(stack, backend="local"), BLOCKS, "backend") == [f"blocks {not_running}"]
    assert found(run(stack, backend="local", workflow="initial"), WARNS, "backend") == [f"warns {not_running}"]  # provision says it next

    shutil.copytree(endpoint_session[0], stack.state_dir / "local")  # the session's endpoint, now running for this project
    not_provisioned = (f"backend local: stack {STACK} is not provisioned on the embedded endpoint: "
                       f"run `offboard stack up {STACK} --backend local`")
    assert found(run(stack, backend="local"), WARNS, "backend") == [f"warns {not_provisioned}"]
    assert found(run(stack, backend="local", workflow="initial"), WARNS, "backend") == [f"warns {not_provisioned}"]
    assert found(run(stack, backend="local", workflow="delta"), BLOCKS, "backend") == [f"blocks {not_provisioned}"]

    EmbeddedBackend(stack).up(load_customer(stack, STACK))
    try:
        assert not run(stack, backend="local").blocks
        secret = stack.stack_state_dir(STACK) / "secret_access_key"
        secret.write_text("not-the-secret-of-this-key")
        [refused] = found(run(stack, backend="local"), BLOCKS, "key")
        assert refused.startswith(f"blocks bucket offboard-{STACK}-{sample.org_ids[0]}: the customer's key does not open it (")
        assert "SignatureDoesNotMatch" in refused and refused.endswith(f"`offboard stack preview {STACK}` shows what `stack up` restores")
    finally:
        remove_stack(stack, STACK, endpoint_session[1])


def test_a_clean_stack_passes_through_the_cli_and_a_catalog_block_does_not(stack, endpoint_session, sample):
    shutil.copytree(endpoint_session[0], stack.state_dir / "local")
    EmbeddedBackend(stack).up(load_customer(stack, STACK))
    try:
        clean = run_cli(stack, "check", STACK, "--backend", "local")
        assert clean.returncode == 0, clean.stderr
        assert clean.stdout.splitlines()[0].startswith("warns offboard:fixup.userMapping: 1 of the org's")
        assert clean.stdout.splitlines()[-1].startswith(f"preflight of stack {STACK}: ") and "0 blocking, 1 warning" in clean.stdout

        spec, column, _ = varchar_column(catalog_of(stack))
        execute(sample, "staging", spec.database, f'ALTER TABLE {quoted(sample, spec)} DROP COLUMN "{column}"')
        blocked = run_cli(stack, "check", STACK, "--json", "--backend", "local")
        assert blocked.returncode == 1
        document = json.loads(blocked.stdout)  # every finding, blocking first
        assert [(f["severity"], f["check"]) for f in document] == [("blocks", "catalog"), ("warns", "coverage")]
        assert document[0]["line"].startswith(f"blocks catalog staging {spec.database} {spec.qualified}.{column}: ")
        assert blocked.stderr.startswith(f"offboard: the preflight of stack {STACK} found 1 blocking: blocks catalog staging")
    finally:
        remove_stack(stack, STACK, endpoint_session[1])


def test_the_whole_check_names_every_problem_of_a_stack_without_sides(project):
    report = check_stack(project, load_customer(project, "alpha"), "local")
    assert found(report, BLOCKS, "side") == [
        "blocks offboard:staging: no databases given: add its databases and contentStores, the imports need them",
        "blocks offboard:production: no databases given: add its databases and contentStores, the imports need them"]
    assert found(report, WARNS, "mapping") == [
        "warns offboard:fixup: not given: the delta's fix-up needs cloudHosts, mspHost and userMapping"]
