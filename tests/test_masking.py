"""A database password filled in from the environment never leaves the process: `mask_url` and
`scrub` on their own, then through the real command line: not in what a command prints, nor in
the journal, nor in the journal's copy in the bucket."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import warnings
from urllib.parse import quote, quote_plus

import pytest
import yaml

from offboard.customer import database_urls, load_customer
from offboard.db.stages import CATALOG
from offboard.errors import OffboardError, one_line_on_error
from offboard.infra.outputs import StackOutputs
from offboard.masking import mask_url, register_secret, scrub
from offboard.runbook import commands
from offboard.runbook.mirror import JOURNAL_KEY
from offboard.runbook.modules import module_path
from offboard.sample import create_sample
from offboard.sample.stack import write_stack
from tests.conftest import make_project, remove_stack, run_cli, use_endpoint


@pytest.mark.parametrize(("url", "masked"), [
    ("db2+ibm_db://db2inst1:s3cr%21t@db2host:50000/FILES", "db2+ibm_db://db2inst1:***@db2host:50000/FILES"),
    ("db2+ibm_db://db2inst1@db2host:50000/FILES?PWD=s3cr%21t", "db2+ibm_db://db2inst1@db2host:50000/FILES?PWD=***"),
    ("db2+ibm_db://u@db2host:50000/FILES?password=s3cr%21t&CurrentSchema=X",
     "db2+ibm_db://u@db2host:50000/FILES?password=***&CurrentSchema=X"),
    ("db2+ibm_db://u@db2host:50000/FILES?CurrentSchema=X&PassWd=s3cr%21t", "db2+ibm_db://u@db2host:50000/FILES?CurrentSchema=X&PassWd=***"),
    ("postgresql://u@db.example/FILES?sslpassword=s3cr%21t", "postgresql://u@db.example/FILES?sslpassword=***"),
    ("db2+ibm_db://u@db2host:50000/PEOPLEDB;PWD=s3cr!t;CurrentSchema=X", "db2+ibm_db://u@db2host:50000/PEOPLEDB;PWD=***;CurrentSchema=X"),
    # as SQLAlchemy renders a database name holding a connection-string part
    ("db2+ibm_db://u@db2host:50000/PEOPLEDB%3BPWD%3Ds3cr%21t%3B", "db2+ibm_db://u@db2host:50000/PEOPLEDB%3BPWD%3D***%3B"),
    ("mssql+pyodbc:///?odbc_connect=DRIVER%3Dx%3BPWD%3Ds3cr%21t%3BUID%3Du", "mssql+pyodbc:///?odbc_connect=DRIVER%3Dx%3BPWD%3D***%3BUID%3Du"),
    ("mssql+pyodbc:///?odbc_connect=DRIVER%253Dx%253Bpwd%253Ds3cr%2521t%253BUID%253Du",
     "mssql+pyodbc:///?odbc_connect=DRIVER%253Dx%253Bpwd%253D***%253BUID%253Du"),
    ("proxy://gw/?target=db2%3A%2F%2Fu%3As3cr%2521t%40db2host%2FFILES", "proxy://gw/?target=db2%3A%2F%2Fu%3A***%40db2host%2FFILES"),
    # unparsable (a port that is no number, a space in the scheme): read as text all the same
    ("db2+ibm_db://u:s3cr%21t@db2host:5o000/FILES;PWD=s3cr!t", "db2+ibm_db://u:***@db2host:5o000/FILES;PWD=***"),
    ("db2 ibm://u:s3cr t@db2host/FILES?PWD=s3cr t&x=1", "db2 ibm://u:***@db2host/FILES?PWD=***&x=1"),
])
def test_mask_url_masks_the_password_wherever_a_url_carries_it(url, masked):
    assert mask_url(url) == masked


@pytest.mark.parametrize("url", ["sqlite:////srv/data/FILES.db", "db2+ibm_db://db2host:50000/FILES?CurrentSchema=CONN&uid=u",
                                 "db2+ibm_db://u:***@db2host:50000/FILES?PWD=***"])
def test_mask_url_leaves_a_url_without_a_password_as_it_is(url):
    assert mask_url(url) == url


def test_scrub_takes_out_every_form_of_a_registered_value_and_masks_urls(registered):
    secret = "Sup3r Secret!pw/+"
    register_secret(secret)
    forms = {secret, quote(secret, safe=""), quote_plus(secret), quote(secret, safe=" +"), quote(secret, safe=" +/")}
    for form in forms:
        assert scrub(f"cannot open /data/PEOPLEDB;KEY={form} (code 5)") == "cannot open /data/PEOPLEDB;KEY=*** (code 5)"
    # a URL a driver names, its password never registered; the sentence's punctuation kept
    assert (scrub("failed: 'db2://u:other%21@h:50000/FILES?PWD=other', see (postgresql://u:x@h/DB).")
            == "failed: 'db2://u:***@h:50000/FILES?PWD=***', see (postgresql://u:***@h/DB).")


def test_scrub_takes_the_longest_value_first_and_never_the_empty_one(registered):
    for value in ("", "abc", "abcdef"):
        register_secret(value)
    assert scrub("xabcdefx and abc") == "x***x and ***"
    assert scrub("nothing here") == "nothing here"


def test_scrub_takes_out_a_value_a_library_changed_the_case_of(registered):
    register_secret("S3cr3tPa55")  # SQLAlchemy quotes a bad boolean setting lower-cased
    assert scrub("String is not true/false: 's3cr3tpa55'") == "String is not true/false: '***'"


def test_database_urls_registers_what_it_fills_in(registered, monkeypatch, tmp_path):
    monkeypatch.setenv("OTHER_DB_PASSWORD", "Sup3r-Secret!pw")
    urls = database_urls({"FILES": "db2+ibm_db://u:${OTHER_DB_PASSWORD}@db2host:50000/FILES",
                          "WIKIS": "sqlite:///data/WIKIS.db?timeout=${OTHER_DB_PASSWORD}"}, tmp_path)
    assert urls == {"FILES": "db2+ibm_db://u:Sup3r-Secret%21pw@db2host:50000/FILES",
                    "WIKIS": f"sqlite:///{tmp_path}/data/WIKIS.db?timeout=Sup3r-Secret%21pw"}
    assert scrub("Sup3r-Secret!pw, Sup3r-Secret%21pw") == "***, ***"


def test_an_error_is_one_scrubbed_line_and_a_bug_names_itself_unless_debugging(registered, monkeypatch, capsys):
    register_secret("Sup3r-Secret!pw")
    with pytest.raises(SystemExit) as exit_, one_line_on_error("offboard"):
        raise OffboardError("cannot reach db2://u@h/FILES?password=Sup3r-Secret%21pw")
    assert exit_.value.code == 1 and capsys.readouterr().err == "offboard: cannot reach db2://u@h/FILES?password=***\n"
    with pytest.raises(SystemExit) as exit_, one_line_on_error("export-db"):
        raise RuntimeError("cannot reach db2://u:Sup3r-Secret%21pw@h/FILES\n  the driver's second line")
    assert exit_.value.code == 1
    assert capsys.readouterr().err == ("export-db: unexpected error: RuntimeError: cannot reach db2://u:***@h/FILES "
                                       "(set OFFBOARD_DEBUG=1 to see the traceback)\n")
    with one_line_on_error("offboard"):
        warnings.warn("argument 'x' got db2://u:Sup3r-Secret%21pw@h/FILES\n  at line 2", UserWarning)
    assert capsys.readouterr().err == "offboard: warning: argument 'x' got db2://u:***@h/FILES\n"
    monkeypatch.setenv("OFFBOARD_DEBUG", "1")
    with pytest.raises(KeyError), one_line_on_error("offboard"):
        raise KeyError("the traceback, as asked")
    with pytest.raises(SystemExit) as exit_, one_line_on_error("offboard"):
        raise SystemExit(2)  # a usage error passes through as it is
    assert exit_.value.code == 2 and capsys.readouterr().err == ""


STACK = "leaky"
SECRET = "Sup3r-Secret!pw"
SECRET_FORMS = (SECRET, quote(SECRET, safe=""), quote(quote(SECRET, safe=""), safe=""))
HOST = "db2.invalid"  # never resolves: the DB2 driver fails at once, naming the host
# Where a stack file's DB2 URL can carry its password; DATABASE is the Connections database.
URL_FORMS = {
    "user part": "db2+ibm_db://db2inst1:${DBPW}@db2.invalid:50000/DATABASE",
    "PWD parameter": "db2+ibm_db://db2inst1@db2.invalid:50000/DATABASE?PWD=${DBPW}",
    "password parameter": "db2+ibm_db://db2inst1@db2.invalid:50000/DATABASE?password=${DBPW}",
    "passwd after another parameter": "db2+ibm_db://db2inst1@db2.invalid:50000/DATABASE?CurrentSchema=CONN&passwd=${DBPW}",
    "connection-string part": "db2+ibm_db://db2inst1@db2.invalid:50000/DATABASE;PWD=${DBPW};",
    "percent-encoded": "db2+ibm_db://db2inst1@db2.invalid:50000/DATABASE?odbc_connect=UID%3Ddb2inst1%3BPWD%3D${DBPW}",
    "double-encoded": "db2+ibm_db://db2inst1@db2.invalid:50000/DATABASE?odbc_connect=UID%253Ddb2inst1%253BPWD%253D${DBPW}",
    "PostgreSQL user part": "postgresql+psycopg://offboard:${DBPW}@db2.invalid:5432/DATABASE",
}
ENV = {"DBPW": SECRET, "OFFBOARD_BACKEND": "local"}
OUTSIDE = ("--outside-runbook", "--reason", "tried by hand during the delivery")  # the runbook is under way
LAST_STEP_BEFORE_EXPORT = "file-transfer-ticket"


def leaked(text: str) -> list[str]:
    return [form for form in SECRET_FORMS if form in text]


@pytest.fixture(scope="module")
def leaky(tmp_path_factory, endpoint_session):
    """A sample's stack, provisioned, its initial database delivery in the bucket, and its initial
    runbook done up to the files export; with a copy of its state folder to start each test from."""
    root = tmp_path_factory.mktemp("masking")
    project = use_endpoint(make_project(root / "project"), endpoint_session[0])
    layout = create_sample(root / "sample", orgs=2, catalog_path=project.runbooks_dir / CATALOG)
    write_stack(project, STACK, layout, layout.org_ids[0])
    commands.render(project, STACK, "initial", backend="local")
    outcome = commands.run(project, STACK, "initial", backend="local", until=LAST_STEP_BEFORE_EXPORT)
    while outcome.reason == "person":
        commands.confirm(project, STACK, outcome.stopped_at, by="Test Operator", backend="local")
        outcome = commands.run(project, STACK, "initial", backend="local", until=LAST_STEP_BEFORE_EXPORT)
    assert outcome.reason == "until", outcome.message
    exported = run_cli(project, "db", "export", STACK, "--delivery", "initial", *OUTSIDE, env=ENV)
    assert exported.returncode == 0, exported.stderr
    shutil.copytree(project.stack_state_dir(STACK), root / "state-before")
    yield project, root / "state-before"
    remove_stack(project, STACK, endpoint_session[1])


def start_from(project, saved_state) -> None:
    state = project.stack_state_dir(STACK)
    shutil.rmtree(state)
    shutil.copytree(saved_state, state)


def point_at(project, sides: tuple[str, ...], url: str) -> None:
    """Give every database of `sides` a URL of this form, and render the modules again."""
    path = project.stack_file(STACK)
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    for side in sides:
        databases = document["config"][f"offboard:{side}"]["databases"]
        document["config"][f"offboard:{side}"]["databases"] = {name: url.replace("DATABASE", name) for name in databases}
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    commands.render(project, STACK, "initial", backend="local")


def failed_export(journal: str) -> str:
    """The error of the journal's last line, which is the files export failing."""
    last = json.loads(journal.splitlines()[-1])
    assert (last["step"], last["status"]) == ("export-files", "failed")
    return last["error"]


def journal_in_bucket(project, endpoint) -> str:
    customer = load_customer(project, STACK)
    s3 = endpoint.client("s3", customer.region)
    bucket = StackOutputs.load(project.stack_state_dir(STACK)).bucket
    return s3.get_object(Bucket=bucket, Key=JOURNAL_KEY)["Body"].read().decode("utf-8")


@pytest.mark.parametrize("form", URL_FORMS)
def test_a_database_that_cannot_be_reached_is_named_without_its_password(leaky, endpoint_session, form):
    project, saved_state = leaky
    start_from(project, saved_state)
    point_at(project, ("source", "staging"), URL_FORMS[form])
    results = {
        "db export": run_cli(project, "db", "export", STACK, "--delivery", "delta", *OUTSIDE, env=ENV),
        "db import": run_cli(project, "db", "import", STACK, "--target", "staging", *OUTSIDE, env=ENV),
        "db fixup": run_cli(project, "db", "fixup", STACK, "--target", "staging", *OUTSIDE, env=ENV),
        "runbook run": run_cli(project, "runbook", "run", STACK, "initial", env=ENV),
    }
    for command, result in results.items():
        assert result.returncode == 1 and len(result.stderr.splitlines()) == 1, (command, result.stderr)
        assert re.match(r"[^:]+://[a-z0-9]+", URL_FORMS[form])[0] in result.stderr and HOST in result.stderr, (command, result.stderr)
    journal = (project.stack_state_dir(STACK) / "journal.jsonl").read_text(encoding="utf-8")
    mirrored = journal_in_bucket(project, endpoint_session[1])
    assert HOST in failed_export(journal) and HOST in failed_export(mirrored)
    written = {**{command: result.stdout + result.stderr for command, result in results.items()},
               "journal": journal, "journal in the bucket": mirrored}
    assert {where: leaked(text) for where, text in written.items() if leaked(text)} == {}


def test_an_unexpected_error_is_one_scrubbed_line_and_its_traceback_only_on_demand(leaky):
    """SQLite reads `timeout=` as a number: the driver's ValueError quotes the filled-in value."""
    project, saved_state = leaky
    start_from(project, saved_state)
    point_at(project, ("source", "staging"), "sqlite:///nowhere/DATABASE.db?timeout=${DBPW}")
    module = module_path(project, STACK, "initial", "export-db")
    results = {
        "offboard": run_cli(project, "db", "fixup", STACK, "--target", "staging", *OUTSIDE, env=ENV),
        "export-db": subprocess.run([sys.executable, str(module), "--dry-run"], env={**os.environ, **ENV},
                                    capture_output=True, text=True, timeout=120),
    }
    for who, result in results.items():
        assert result.returncode == 1 and result.stdout == "", (who, result.stderr)
        assert result.stderr == (f"{who}: unexpected error: ValueError: could not convert string to float: '***' "
                                 "(set OFFBOARD_DEBUG=1 to see the traceback)\n")
    debugging = run_cli(project, "db", "fixup", STACK, "--target", "staging", *OUTSIDE, env={**ENV, "OFFBOARD_DEBUG": "1"})
    assert debugging.returncode == 1 and "Traceback" in debugging.stderr and "ValueError" in debugging.stderr
