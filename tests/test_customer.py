from __future__ import annotations

import pytest

from offboard.customer import Encryption, content_roots, database_urls, load_customer
from offboard.errors import OffboardError
from offboard.project import Project
from tests.conftest import REPO, run_cli, stack_yaml


def test_the_shipped_example_stack_is_valid():
    customer = load_customer(Project.find(REPO), "example")
    assert customer.org_id == "20054321"
    assert customer.encryption is Encryption.sse_kms
    assert customer.noncurrent_version_days == 30


def test_defaults_fill_what_a_stack_leaves_out(project, customers):
    alpha = customers["alpha"]
    assert (alpha.stack, alpha.org_id, alpha.region) == ("alpha", "20011111", "eu-central-1")
    assert alpha.abort_multipart_days == 7 and alpha.encryption is Encryption.sse_kms


def write_stack(project: Project, stack: str, text: str) -> None:
    project.stack_file(stack).write_text(text, encoding="utf-8")


BAD_STACKS = {
    "bad-org": (stack_yaml("12ab", "X", "eu-central-1"), "offboard:orgId"),
    "bare-org": (stack_yaml("1", "X", "eu-central-1").replace('orgId: "1"', "orgId: 26463343"), 'write it in quotes ("26463343")'),
    "no-org": ("config:\n  aws:region: eu-central-1\n  offboard:customerName: X\n  offboard:mspEmail: a@b.example\n", "offboard:orgId: required"),
    "typo": (stack_yaml("1", "X", "eu-central-1", "  offboard:orgID: \"2\"\n"), "offboard:orgID: unknown setting"),
    "bad-mail": (stack_yaml("1", "X", "eu-central-1").replace("migration@msp.example.com", "not-an-address"), "offboard:mspEmail"),
    "bad-enc": (stack_yaml("1", "X", "eu-central-1", "  offboard:encryption: rot13\n"), "offboard:encryption"),
    "bad-days": (stack_yaml("1", "X", "eu-central-1", "  offboard:kmsDeletionWindowDays: 3\n"), "offboard:kmsDeletionWindowDays"),
    "secret": (stack_yaml("1", "X", "eu-central-1", "  offboard:customerName2:\n    secure: AAAB\n"), "Pulumi secret"),
    "not-yaml": ("config: [unclosed\n", "not valid YAML"),
    "no-config": ("- a list\n", "expected a mapping"),
    "extra-top": (stack_yaml("1", "X", "eu-central-1") + "backend: s3\n", "unknown top-level key(s) backend"),
}


@pytest.mark.parametrize("stack", sorted(BAD_STACKS))
def test_a_bad_stack_file_is_one_line_and_a_non_zero_exit(project, stack):
    text, expected = BAD_STACKS[stack]
    write_stack(project, stack, text)
    with pytest.raises(OffboardError, match=expected.replace("(", r"\(").replace(")", r"\)")):
        load_customer(project, stack)
    result = run_cli(project, "stack", "outputs", stack, "--backend", "local")
    assert result.returncode == 1
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"offboard: stacks/Pulumi.{stack}.yaml:")
    assert "Traceback" not in result.stderr


def test_an_unknown_stack_names_the_known_ones(project):
    result = run_cli(project, "stack", "up", "gamma", "--backend", "local")
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "offboard: unknown stack 'gamma': stacks/Pulumi.gamma.yaml does not exist (stacks: alpha, beta)"
    )


def test_outside_a_project_the_error_says_where_to_run(tmp_path):
    result = run_cli(Project(root=tmp_path, state_dir=tmp_path), "stack", "up", "alpha")
    assert result.returncode == 1
    assert "no Pulumi.yaml found" in result.stderr and "Traceback" not in result.stderr


SIDES = (
    "  offboard:targetOrgId: \"700001\"\n"
    "  offboard:source:\n"
    "    databases:\n"
    "      FILES: db2+ibm_db://db2inst1:${SOURCE_DB_PASSWORD}@db2.cloud.example:50000/FILES\n"
    "      WIKIS: sqlite:///data/WIKIS.db\n"
    "    contentStores:\n"
    "      files: content/files\n"
)


def test_locations_read_passwords_from_the_environment_and_paths_from_the_project(project, monkeypatch):
    write_stack(project, "gamma", stack_yaml("3", "Gamma", "eu-central-1", SIDES))
    customer = load_customer(project, "gamma")
    assert customer.target_org() == "700001"
    monkeypatch.delenv("SOURCE_DB_PASSWORD", raising=False)
    with pytest.raises(OffboardError, match="^set the environment variable SOURCE_DB_PASSWORD"):
        database_urls(customer.side("source").databases, project.root)
    monkeypatch.setenv("SOURCE_DB_PASSWORD", "p@ss:w/rd")
    urls = database_urls(customer.side("source").databases, project.root)
    assert urls["FILES"] == "db2+ibm_db://db2inst1:p%40ss%3Aw%2Frd@db2.cloud.example:50000/FILES"
    assert urls["WIKIS"] == f"sqlite:///{project.root}/data/WIKIS.db"
    assert content_roots(customer.side("source").content_stores, project.root) == {"files": project.root / "content/files"}
    with pytest.raises(OffboardError, match="has no offboard:staging setting"):
        customer.side("staging")


@pytest.mark.parametrize("url", [
    "db2+ibm_db://db2inst1@db2.cloud.example:50000/FILES?PWD=Sup3rSecret",
    "db2+ibm_db://db2inst1@db2.cloud.example:50000/FILES?password=Sup3rSecret",
    "db2+ibm_db://db2inst1@db2.cloud.example:50000/FILES;PWD=Sup3rSecret;",  # a DB2 connection-string part
    "db2+ibm_db://db2inst1@db2.cloud.example:50000/FILES?CurrentSchema=X;PWD=Sup3rSecret",
    "mssql+pyodbc:///?odbc_connect=DRIVER%3Dx%3BPWD%3DSup3rSecret",
    "postgresql://u@db.example/FILES?sslpassword=Sup3rSecret",
])
def test_a_password_given_as_a_url_parameter_is_refused_too(project, url):
    write_stack(project, "leaky", stack_yaml("3", "Leaky", "eu-central-1", SIDES.replace(
        "db2+ibm_db://db2inst1:${SOURCE_DB_PASSWORD}@db2.cloud.example:50000/FILES", url)))
    with pytest.raises(OffboardError, match="the FILES URL holds a password") as refused:
        load_customer(project, "leaky")
    assert "Sup3rSecret" not in str(refused.value)
    write_stack(project, "fine", stack_yaml("3", "Fine", "eu-central-1", SIDES.replace(
        "db2+ibm_db://db2inst1:${SOURCE_DB_PASSWORD}@db2.cloud.example:50000/FILES", url.replace("Sup3rSecret", "${PW}"))))
    assert "${PW}" in load_customer(project, "fine").source.databases["FILES"]


def test_a_password_written_into_the_stack_file_is_refused_without_showing_it(project):
    write_stack(project, "leaky", stack_yaml("3", "Leaky", "eu-central-1", SIDES.replace("${SOURCE_DB_PASSWORD}", "Sup3rSecret")))
    result = run_cli(project, "stack", "outputs", "leaky", "--backend", "local")
    assert result.returncode == 1
    assert "offboard:source.databases: the FILES URL holds a password" in result.stderr
    assert "Sup3rSecret" not in result.stderr + result.stdout


def test_a_second_stack_for_the_same_org_is_refused_before_anything_is_made(project):
    write_stack(project, "alpha-again", stack_yaml("20011111", "Alpha again", "eu-central-1"))
    for command in (["stack", "up", "alpha-again"], ["runbook", "render", "alpha", "initial"]):
        result = run_cli(project, *command, "--backend", "local")
        assert result.returncode == 1, result.stderr
        assert result.stderr.startswith("offboard: stacks/Pulumi.alpha") and "is for org 20011111 too: one stack per org" in result.stderr
    assert not project.state_dir.exists()
