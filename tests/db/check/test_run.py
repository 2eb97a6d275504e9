"""The whole check, on both engines: through `offboard catalog check`, at `runbook render`, and
as the workflows' first machine step, which stops the run before anything is provisioned,
exported or imported."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

import pytest
import sqlalchemy as sa
import yaml

from offboard.customer import load_customer
from offboard.db.check import CatalogNote, check_before_render
from offboard.errors import OffboardError
from offboard.runbook import commands
from offboard.runbook.journal import Journal
from offboard.runbook.workflow import Kind, load_runbook
from tests.conftest import run_cli
from tests.db.check.support import (
    STACK,
    add_release,
    catalog_of,
    check,
    found,
    not_provisioned,
    quoted,
    recreate,
    varchar_column,
)
from tests.db.support import execute, snapshot

# --- each breakage, and what the check must say about it ---------------------------------------------


@dataclass
class Case:
    name: str
    prepare: Callable | None  # before the modules are rendered (the catalog itself may change)
    apply: Callable  # (project, sample, org, catalog) -> (side, kind, table, column) of the blocking finding


def drop_column(project, sample, org, catalog):
    spec, column, _ = varchar_column(catalog)
    execute(sample, "staging", spec.database, f'ALTER TABLE {quoted(sample, spec)} DROP COLUMN "{column}"')
    return "staging", "missing-column", spec.qualified, column


def narrow_varchar(project, sample, org, catalog):
    spec, column, length = varchar_column(catalog)
    recreate(sample, "production", spec, {column: f"VARCHAR({length // 2})"})
    return "production", "type", spec.qualified, column


def not_null_without_default(project, sample, org, catalog):
    spec, _, _ = varchar_column(catalog)
    recreate(sample, "staging", spec, extra=[sa.Column("MSP_FLAG", sa.INTEGER, nullable=False)])
    return "staging", "left-out-column", spec.qualified, "MSP_FLAG"


def unknown_table(project, sample, org, catalog):
    database, spec = next(iter(catalog.databases.items()))
    where = '"OFFBOARD_UNKNOWN"' if sample.engine == "sqlite" else f'"{spec.schema_name}"."OFFBOARD_UNKNOWN"'
    execute(sample, "source", database, f'CREATE TABLE {where} ("ID" INTEGER, "ORG_ID" VARCHAR(36))')
    execute(sample, "source", database, f"INSERT INTO {where} VALUES (1, '{org.org_id}')")
    return "source", "unknown-table", f"{spec.schema_name}.OFFBOARD_UNKNOWN", None


def target_drift(project, sample, org, catalog):
    spec, column, length = varchar_column(catalog)
    recreate(sample, "staging", spec, {column: f"CHAR({length})"})  # the same length, padded: another type
    return "source/staging", "drift", spec.qualified, column


def source_value_left_out(project, sample, org, catalog):
    spec, _, _ = varchar_column(catalog)
    execute(sample, "source", spec.database, f'ALTER TABLE {quoted(sample, spec)} ADD COLUMN "CLOUD_ONLY" VARCHAR(40)')
    execute(sample, "source", spec.database, f'UPDATE {quoted(sample, spec)} SET "CLOUD_ONLY" = \'kept in the cloud\' '
                                             f'WHERE "{spec.tenant}" = :org', org=org.org_id)
    return "source", "left-out-column", spec.qualified, "CLOUD_ONLY"


def another_key(project, sample, org, catalog):
    spec, column, _ = varchar_column(catalog)
    recreate(sample, "production", spec, key=[column])
    return "production", "key", spec.qualified, None


def release_differs(project, sample, org, catalog):
    database, where, column = add_release(project, sample, catalog)
    execute(sample, "staging", database, f"UPDATE {where} SET \"{column}\" = '8.5.0'")
    spec = catalog_of(project).databases[database].release
    return "source/staging", "release", spec.table, spec.column


CASES = [Case("dropped column", None, drop_column), Case("narrowed VARCHAR", None, narrow_varchar),
         Case("NOT NULL without default", None, not_null_without_default), Case("unknown table", None, unknown_table),
         Case("target drift", None, target_drift), Case("source value left out", None, source_value_left_out),
         Case("another key", None, another_key),
         Case("release differs", lambda project, sample, catalog: add_release(project, sample, catalog), release_differs)]


def test_a_clean_sample_has_no_blocking_finding(project, sample, org, stack):
    result = check(project)
    assert result.ok, [f.line() for f in result.blocks]
    assert result.checked == ["source", "staging", "production"]
    assert result.tables == 3 * len(catalog_of(project).tables())
    assert result.content and all(count.binaries and count.found == count.binaries and not count.missing for count in result.content)
    shown = run_cli(project, "catalog", "check", STACK)
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.splitlines()[-1] == result.summary() and "0 blocking" in result.summary()
    document = json.loads(run_cli(project, "catalog", "check", STACK, "--json").stdout)
    assert document["ok"] and document["blocks"] == 0 and document["checked"] == ["source", "staging", "production"]
    alone = run_cli(project, "catalog", "check", STACK, "--target", "staging")
    assert alone.returncode == 0 and "(staging checked," in alone.stdout
    assert run_cli(project, "catalog", "check", STACK, "--target", "elsewhere").returncode == 2  # Typer's usage error


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_each_breakage_is_found_and_refused_by_the_cli(project, sample, org, stack, case):
    if case.prepare:
        case.prepare(project, sample, catalog_of(project))
    side, kind, table, column = case.apply(project, sample, org, catalog_of(project))

    result = check(project)
    assert found(result, "blocks", side, kind, table, column), [f.line() for f in result.findings]
    shown = run_cli(project, "catalog", "check", STACK)
    assert shown.returncode == 1
    assert shown.stdout.splitlines()[0].startswith("blocks ")  # blocking findings first
    line = found(result, "blocks", side, kind, table, column)[0].line()
    assert line in shown.stdout.splitlines() and len(shown.stderr.strip().splitlines()) == 1, shown.stderr
    assert shown.stderr.startswith(f"offboard: the catalog check of stack {STACK} found {len(result.blocks)} blocking")


def test_a_blocking_finding_stops_the_run_at_its_first_step_and_nothing_moves(project, sample, org, stack):
    """The same for every breakage above: the check step fails on any blocking finding."""
    commands.render(project, STACK, "initial", backend="local", outputs=not_provisioned)  # clean: renders
    for case in (CASES[0], CASES[4]):  # a dropped column, and drift in a target
        case.apply(project, sample, org, catalog_of(project))

    before = {target: snapshot(sample, target) for target in ("staging", "production")}
    commands.confirm(project, STACK, "select-msp", by="Test Operator", backend="local", outputs=not_provisioned)
    outcome = commands.run(project, STACK, "initial", backend="local", outputs=not_provisioned)
    assert (outcome.reason, outcome.stopped_at, outcome.steps) == ("failed", "check-catalog", ["preflight", "check-catalog"])
    assert "the catalog check blocks the run: blocks" in outcome.message and f"offboard catalog check {STACK}" in outcome.message
    latest = Journal.of_stack(project, STACK).latest()
    assert latest["check-catalog"].status == "failed" and latest["check-catalog"].module.endswith("check-catalog.py")
    assert "provision" not in latest
    assert {target: snapshot(sample, target) for target in ("staging", "production")} == before  # nothing moved

    refused = run_cli(project, "runbook", "render", STACK, "delta", "--backend", "local")
    assert refused.returncode == 1 and "the catalog check blocks rendering (nothing rendered): blocks" in refused.stderr
    assert f"run `offboard catalog check {STACK}` for all of them" in refused.stderr
    assert not (project.stack_state_dir(STACK) / "modules" / "delta").exists()


def test_a_clean_run_journals_the_check_and_goes_on(project, sample, org, stack):
    commands.render(project, STACK, "initial", backend="local", outputs=not_provisioned)
    commands.confirm(project, STACK, "select-msp", by="Test Operator", backend="local", outputs=not_provisioned)
    outcome = commands.run(project, STACK, "initial", backend="local", outputs=not_provisioned, until="check-catalog")
    assert outcome.ok and outcome.steps == ["preflight", "check-catalog"]  # the preflight first (offboard.preflight)
    figures = outcome.entries[-1].figures
    assert figures["blocks"] == 0 and figures["checked"] == ["source", "staging", "production"] and figures["binaries"] > 0
    assert figures["binaries_missing"] == 0 and figures["not_checked"] == []


def test_a_side_not_configured_or_not_reachable_is_a_note_at_render_and_an_error_when_asked_for(project, sample, org, stack):
    path = project.stack_file(STACK)
    document = yaml.safe_load(path.read_text())
    del document["config"]["offboard:production"]
    missing = sample.root / "elsewhere" / "FILES.db"
    document["config"]["offboard:staging"]["databases"]["FILES"] = f"sqlite:///{missing}"
    path.write_text(yaml.safe_dump(document))
    customer = load_customer(project, STACK)
    with pytest.warns(CatalogNote) as notes:
        result = check_before_render(project, customer)
    lines = [str(note.message) for note in notes]
    assert "catalog check: note production: not checked: not configured in the stack" in lines
    assert any(line.startswith("catalog check: note staging: FILES: not checked: no database file at") for line in lines)
    assert result.ok and result.checked == ["source"]
    asked = run_cli(project, "catalog", "check", STACK, "--target", "production")
    assert asked.returncode == 1 and asked.stderr.strip() == (f"offboard: stack {STACK} has no offboard:production setting: "
                                                              "add its databases and content stores")
    unreachable = run_cli(project, "catalog", "check", STACK)
    assert unreachable.returncode == 1 and len(unreachable.stderr.strip().splitlines()) == 1
    assert unreachable.stderr.startswith("offboard: no database file at") and not unreachable.stdout


def test_the_check_is_the_first_machine_step_of_both_workflows_after_the_preflight(project):
    runbook = load_runbook(project, load_customer(project, "alpha"), None)
    for name in ("initial", "delta"):
        machine = [step.action for step in runbook.workflow(name).steps if step.kind is Kind.automated]
        assert machine[:2] == ["preflight.check", "catalog.check"], name


def test_an_unreadable_catalog_is_one_line(project, stack):
    (project.runbooks_dir / "catalog" / "connections.yaml").write_text("format: 2\ndatabases: [\n")
    shown = run_cli(project, "catalog", "check", STACK)
    assert shown.returncode == 1 and shown.stderr.strip().endswith("not valid YAML") and "Traceback" not in shown.stderr
    with pytest.raises(OffboardError):
        check(project)
