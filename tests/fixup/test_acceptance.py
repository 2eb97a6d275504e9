"""Unmapped users are a decision, not a count: verify fails on them until an operator accepts them,
in the journal, with a reason; only ids the last fix-up left unmapped can be accepted."""

from __future__ import annotations

import json

import pytest

from offboard.customer import load_customer
from offboard.db.export import export_org
from offboard.db.stages import import_dir, last_import_path
from offboard.errors import OffboardError
from offboard.fixup.acceptance import accept_unmapped, read_ids
from offboard.fixup.report import FixupReport, Place, Unmapped, report_path
from offboard.fixup.unmapped import last_fixup, open_refusal
from offboard.runbook.journal import Journal
from offboard.runbook.texts import write_texts
from offboard.runbook.workflow import load_runbook
from offboard.runtime import Runtime
from offboard.sample.stack import write_stack
from tests.conftest import run_cli
from tests.db.support import catalog_of, load
from tests.runbook.support import OUTPUTS, SECRET

STACK = "alpha"


def fixed_up(project, target: str, *ids: str, dry_run: bool = False) -> None:
    """The report a fix-up of `target` leaves when the mapping lacks `ids`."""
    report = FixupReport(org_id="20011111", dry_run=dry_run, created="2026-11-30T10:00:00Z", tables=[],
                         unmapped=[Unmapped(id=user, places=[Place(table="EMPINST.EMPLOYEE", column="PROF_GUID", rows=1)])
                                   for user in ids])
    project.stack_state_dir(STACK).mkdir(parents=True, exist_ok=True)
    report.save(report_path(project.stack_state_dir(STACK), target))


def accept(project, *ids: str, target: str = "production", reason: str = "left the company", by: str = "Ann Operator",
           outputs=lambda: None):
    return accept_unmapped(project, STACK, target, list(ids), reason=reason, by=by, backend="local", outputs=outputs)


def journal_lines(project) -> list[dict]:
    path = Journal.of_stack(project, STACK).path
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_an_acceptance_is_a_journal_line_with_who_when_why_and_which(project):
    fixed_up(project, "production", "111", "222", "333")

    accepted = accept(project, "222", "111", "222")

    [line] = journal_lines(project)
    assert {key: line[key] for key in ("status", "target", "ids", "reason", "confirmed_by")} == {
        "status": "accepted", "target": "production", "ids": ["222", "111"], "reason": "left the company",
        "confirmed_by": "Ann Operator"}
    assert line["end"] and accepted.facts.open == ["333"] and accepted.facts.accepted == ["111", "222"]
    journal = Journal.of_stack(project, STACK)
    assert journal.latest() == {} and journal.entries() == []  # a decision, no step's state


def test_an_id_that_is_not_unmapped_is_refused_and_nothing_is_written(project):
    fixed_up(project, "production", "111")
    with pytest.raises(OffboardError, match="^999 is not unmapped in the last fix-up of production: take it out of the list, "
                                            "or run the fix-up first; nothing was accepted$"):
        accept(project, "111", "999")
    with pytest.raises(OffboardError, match=r"^no fix-up of staging since its last import, so no unmapped user to accept: "
                                            r"run `offboard db fixup alpha --target staging` first$"):
        accept(project, "111", target="staging")
    fixed_up(project, "staging", "111", dry_run=True)
    with pytest.raises(OffboardError, match="^the last fix-up of staging was a dry run: run `offboard db fixup"):
        accept(project, "111", target="staging")
    assert journal_lines(project) == []


def test_who_why_and_ids_are_required_and_the_key_never_enters_the_journal(project):
    fixed_up(project, "production", "111")
    for refused, options in {"say who accepts": {"by": " "}, "say why": {"reason": ""}}.items():
        with pytest.raises(OffboardError, match=f"^{refused}"):
            accept(project, "111", **options)
    with pytest.raises(OffboardError, match="^no id to accept"):
        accept(project)
    with pytest.raises(OffboardError, match="^the acceptance of unmapped users of production contains the secret access key: "
                                            "refused, nothing written$"):
        accept(project, "111", reason=f"left; key {SECRET}", outputs=lambda: OUTPUTS)
    assert journal_lines(project) == []


def test_a_database_password_never_enters_the_journal(project, monkeypatch):
    stack_file = project.stack_file(STACK)
    stack_file.write_text(stack_file.read_text() + "  offboard:staging:\n    databases:\n"
                          "      PEOPLEDB: db2+ibm_db://offboard:${ALPHA_DB2_PASSWORD}@db2.staging.example.com:50000/PEOPLEDB\n")
    monkeypatch.setenv("ALPHA_DB2_PASSWORD", "S3cretDbPassw0rd")
    fixed_up(project, "production", "111")

    with pytest.raises(OffboardError, match=r"contains the value of \$\{ALPHA_DB2_PASSWORD\}: refused, nothing written$"):
        accept(project, "111", reason="approved, db pw S3cretDbPassw0rd")

    assert journal_lines(project) == []


def test_accepted_ids_stay_accepted_through_later_fixups_and_a_new_one_is_open(project):
    fixed_up(project, "production", "111", "222")
    accept(project, "111", "222")
    fixed_up(project, "production", "111", "222")  # the fix-up runs again and still finds them

    again = last_fixup(project, STACK, "production")
    assert again.open == [] and again.accepted == ["111", "222"]

    fixed_up(project, "production", "111", "222", "333")  # after a delta: somebody new the mapping lacks
    fixed_up(project, "staging", "111")  # and an acceptance holds for its own target only
    after_delta = last_fixup(project, STACK, "production")
    assert after_delta.open == ["333"] and after_delta.accepted == ["111", "222"]
    assert last_fixup(project, STACK, "staging").open == ["111"]
    assert open_refusal(STACK, "production", after_delta.open) == (
        "1 user id unmapped in the last fix-up of production and not accepted (333): add them to the user mapping (on the "
        "wsadmin route: run its script and the directory sync) and run the fix-up again, or accept them with "
        "`offboard db accept-unmapped alpha production --ids FILE --reason TEXT --by NAME`")


def test_the_list_of_ids_is_one_a_line_with_comments(tmp_path):
    listed = tmp_path / "departed.txt"
    listed.write_text("\ufeff# left in May\n111\n\n  222  # Jane\n111\n")
    assert read_ids(listed) == ["111", "222"]
    listed.write_text("# nobody\n\n")
    with pytest.raises(OffboardError, match=f"^the list of ids {listed} names no id"):
        read_ids(listed)


ENV = {"OFFBOARD_BACKEND": "local"}


def staging_text(project) -> str:
    """The text that asks the customer to verify staging, as one line."""
    customer = load_customer(project, "acme")
    _, step = load_runbook(project, customer, None).find("customer-verifies-staging")
    [text] = write_texts(project, customer, step, None)
    return " ".join(text.path.read_text().split())


def test_an_unmapped_user_fails_verify_and_the_customer_text_until_accepted_through_the_cli(local_project, sample, org, tmp_path):
    project, missing = local_project, org.users[-1].cloud_id  # the sample's mapping lacks the last user
    write_stack(project, "acme", sample, org.org_id)
    runtime = Runtime(project, "acme", None)
    export_org(catalog_of(sample), sample.sources, org.org_id, import_dir(runtime), "initial")  # as `db import` fetches it
    load(sample, org, import_dir(runtime) / "initial")
    last_import_path(runtime, "staging").write_text("initial")
    fixed = run_cli(project, "db", "fixup", "acme", "--target", "staging", env=ENV)
    assert fixed.returncode == 0 and f"unmapped user {missing} in " in fixed.stdout, fixed.stderr

    refused = run_cli(project, "db", "verify", "acme", "--target", "staging", env=ENV)
    assert refused.returncode == 1 and refused.stderr == f"offboard: {open_refusal('acme', 'staging', [missing])}\n"
    text = staging_text(project)
    assert "in place" not in text and "1 of your users could not be matched" in text and missing not in text

    listed = tmp_path / "departed.txt"
    listed.write_text(f"# people who left the company\n{missing}\n")
    accepted = run_cli(project, "db", "accept-unmapped", "acme", "staging", "--ids", str(listed), "--reason", "left in May",
                       "--by", "Ann Operator", "--json", env=ENV)
    assert accepted.returncode == 0, accepted.stderr
    assert json.loads(accepted.stdout)["unmapped_open"] == []
    [line] = Journal.of_stack(project, "acme").acceptances()
    assert (line.target, line.ids, line.reason, line.confirmed_by) == ("staging", [missing], "left in May", "Ann Operator")

    again = run_cli(project, "db", "fixup", "acme", "--target", "staging", "--json", env=ENV)  # still finds the user
    assert again.returncode == 0 and [user["id"] for user in json.loads(again.stdout)["unmapped"]] == [missing], again.stderr
    verified = run_cli(project, "db", "verify", "acme", "--target", "staging", "--json", env=ENV)
    assert verified.returncode == 0, verified.stderr
    assert json.loads(verified.stdout)["unmapped_accepted"] == [missing]
    text = staging_text(project)
    assert "in place" in text and "As agreed (left in May), 1 user" in text and missing not in text
