"""Stage commands run by hand through the real CLI: one record of what happened in the journal,
and no change to a delivery's targets behind the runbook's back."""

from __future__ import annotations

import json

import pytest

from offboard.customer import load_customer
from offboard.runbook.journal import Journal
from offboard.runbook.workflow import load_runbook
from tests.conftest import run_cli
from tests.db.test_stages import ENV, acme  # noqa: F401 - the fixture: a sample and its stack, provisioned


def journal_lines(project) -> list[dict]:
    return [json.loads(line) for line in Journal.of_stack(project, "acme").path.read_text().splitlines()]


def cli(project, *args):
    result = run_cli(project, *args, env=ENV)
    assert result.returncode == 0, result.stderr
    return result


@pytest.mark.one_engine
def test_a_hand_run_import_is_journaled_and_refused_during_a_delivery_unless_outside_the_runbook(acme):  # noqa: F811
    project, _ = acme
    cli(project, "db", "export", "acme", "--delivery", "initial")  # no delivery under way: no reason needed
    started, done = journal_lines(project)  # ahead of its step (select-msp is not done): under its action
    assert (started["step"], started["status"], done["step"], done["status"]) == ("db.export", "started", "db.export", "done")
    assert done["command"] == "offboard db export acme --delivery initial" and done["figures"]["rows"] > 0

    cli(project, "runbook", "confirm", "acme", "select-msp", "--by", "Jane Doe")  # the initial delivery begins
    refused = run_cli(project, "db", "import", "acme", "--target", "production", env=ENV)
    assert refused.returncode == 1
    after_select = load_runbook(project, load_customer(project, "acme"), None).workflow("initial").steps[1].id
    assert refused.stderr == (f"offboard: stack acme: the initial delivery is in progress (at {after_select}); run it through "
                              "`offboard runbook run`, or pass --outside-runbook --reason TEXT\n")
    assert len(journal_lines(project)) == 3

    imported = cli(project, "db", "import", "acme", "--target", "production", "--outside-runbook",
                   "--reason", "the customer asked to see production early")
    assert "into production" in imported.stdout
    done = journal_lines(project)[-1]
    assert (done["step"], done["workflow"], done["status"]) == ("db.import", "initial", "done")
    assert done["command"] == "offboard db import acme --target production --delivery initial --outside-runbook"
    assert done["reason"] == "the customer asked to see production early" and done["figures"]["rows"] > 0

    status = json.loads(cli(project, "runbook", "status", "acme", "initial", "--json").stdout)
    assert {step["id"]: step["status"] for step in status}["export-db"] == "pending"  # the runbook still does it

    verified = cli(project, "verify", "acme", "--target", "production", "--json")  # the rows, and no files delivered yet
    shown = json.loads(verified.stdout)
    assert shown["ok"] and shown["rows"]["ok"] and shown["figures"]["rows"] == done["figures"]["rows"]
    assert (journal_lines(project)[-1]["step"], journal_lines(project)[-1]["status"]) == ("verify", "done")
