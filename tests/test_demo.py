"""The README's main command: the whole off-boarding on the embedded default."""

from __future__ import annotations

import json
import sqlite3
import tarfile

import pytest

from offboard.customer import database_urls, load_customer
from offboard.demo import CONFIRMED_BY, DEPARTED, STACK, foreign_data
from offboard.project import Project
from offboard.sample.cluster import Cluster
from offboard.sample.layout import CLUSTER_FOLDER
from tests.conftest import make_project, run_cli


@pytest.fixture(scope="module")
def finished_demo(tmp_path_factory):
    root = tmp_path_factory.mktemp("demo")
    project = make_project(root / "repo")
    result = run_cli(project, "demo", "--workdir", str(root / "work"))
    return project, root / "work", result


def test_the_demo_moves_one_org_and_passes(finished_demo):
    _, work, result = finished_demo
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr
    assert "people's steps are confirmed automatically" in result.stdout
    assert "demo passed" in result.stdout and "WRONG" not in result.stdout
    [archive] = (work / "project/.offboard/stacks" / STACK / "archive").glob("*.tar.gz")
    with tarfile.open(archive) as tar:  # the proof keeps the code that ran, beside the journal naming its sha256
        assert {"local/journal.jsonl", "local/modules/initial/export-files.py", "local/modules/delta/teardown.py"} <= set(tar.getnames())


def test_the_demo_writes_the_report_with_timeline_figures_and_verification(finished_demo):
    _, work, result = finished_demo
    state = work / "project/.offboard/stacks" / STACK
    assert "report.html" in result.stdout
    html, markdown = (state / "report.html").read_text(), (state / "report.md").read_text()
    journal = [json.loads(line) for line in (state / "journal.jsonl").read_text().splitlines()]
    done = {entry["step"] for entry in journal if entry["status"] == "done"}
    marks = html.count('class="work"') + html.count('class="wait"')  # one per step done on the timeline
    assert marks == len(done) and all(f"| {step} |" in markdown for step in done)
    assert "| db-production | equal |" in markdown and "| files-production | equal |" in markdown
    assert "demo (confirmed automatically)" in markdown
    export = next(entry for entry in journal if entry["step"] == "export-files" and entry["status"] == "done")
    assert f"| export-files | initial | {export['sha256'][:16]} |" in markdown  # the module that ran it
    assert "modules rendered into .offboard/stacks/demo/modules/initial" in result.stdout


def test_the_demo_shows_the_decision_on_the_user_the_mapping_lacks(finished_demo):
    _, work, result = finished_demo
    said = " ".join(result.stdout.split())
    refused = said.index("verify-production refused: 1 unmapped user id(s) (")
    assert said.index("verify-production: failed") < refused < said.index("verify-production: done")
    state = work / "project/.offboard/stacks" / STACK
    journal = [json.loads(line) for line in (state / "journal.jsonl").read_text().splitlines()]
    [accepted] = [entry for entry in journal if entry["status"] == "accepted"]
    assert (accepted["target"], accepted["reason"], accepted["confirmed_by"]) == ("production", DEPARTED, CONFIRMED_BY)
    [user] = accepted["ids"]
    markdown = (state / "report.md").read_text()
    assert "## People in production" in markdown and f"| {user} | " in markdown
    assert f"accepted by {CONFIRMED_BY}" in markdown and f"{DEPARTED} |" in markdown
    text = " ".join((state / "texts" / "customer-confirms-delta.production-ready.txt").read_text().split())
    assert "in place" in text and f"As agreed ({DEPARTED}), 1 user" in text and user not in text


def test_the_demo_would_see_a_row_of_another_org_in_production(finished_demo):
    _, work, _ = finished_demo
    demo = Project(root=work / "project", state_dir=work / "project/.offboard")
    customer = load_customer(demo, STACK)
    assert foreign_data(demo, ["99999999"]) == []
    url = database_urls(customer.side("production").databases, demo.root)["DOGEAR"]
    with sqlite3.connect(url.removeprefix("sqlite:///")) as connection:
        row = connection.execute("SELECT * FROM BOOKMARK LIMIT 1").fetchone()
        columns = [c[1] for c in connection.execute("PRAGMA table_info(BOOKMARK)")]
        tenant = columns.index("ORG_ID")
        changed = list(row)
        changed[columns.index("BOOKMARK_ID")], changed[tenant] = "ffffffff-0000-0000-0000-000000000000", "555"
        connection.execute(f"INSERT INTO BOOKMARK VALUES ({', '.join('?' * len(row))})", changed)
    assert foreign_data(demo, []) == ["production: rows of tenant 555 in DOGEAR.BOOKMARK"]


def test_a_workdir_that_is_not_a_demo_is_left_alone(tmp_path):
    project = make_project(tmp_path / "repo")
    (tmp_path / "precious").mkdir()
    (tmp_path / "precious" / "thesis.txt").write_text("do not delete")
    result = run_cli(project, "demo", "--workdir", str(tmp_path / "precious"))
    assert result.returncode == 1 and "is not empty and holds no earlier demo" in result.stderr
    assert (tmp_path / "precious" / "thesis.txt").read_text() == "do not delete"


def test_the_demo_passes_on_postgresql_and_leaves_no_server_running(tmp_path):
    project = make_project(tmp_path / "repo")
    result = run_cli(project, "demo", "--engine", "postgresql", "--workdir", str(tmp_path / "work"))
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr
    assert "(postgresql); org" in " ".join(result.stdout.split()) and "demo passed" in result.stdout
    assert not Cluster(tmp_path / "work" / "sample" / CLUSTER_FOLDER).running
