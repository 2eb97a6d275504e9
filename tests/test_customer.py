from __future__ import annotations

import os
from pathlib import Path

import pytest

from offboard.customer import Encryption, content_roots, database_urls, load_customer, require_own_org
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
    "mssql+pyodbc:///?odbc_connect=DRIVER%253Dx%253BPWD%253DSup3rSecret",  # encoded twice
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


def side_yaml(side: str, entry: str, section: str = "contentStores") -> str:
    """A stack of org 3 whose `offboard:<side>` has one database and one content store, `entry` replacing one of them."""
    databases = entry if section == "databases" else "FILES: sqlite:///data/FILES.db"
    stores = entry if section == "contentStores" else "files: content/files"
    return stack_yaml("3", "Gamma", "eu-central-1",
                      f"  offboard:{side}:\n    databases:\n      {databases}\n    contentStores:\n      {stores}\n")


BAD_SETTINGS = {
    "arabic-org": (stack_yaml("٢١٤٠١٢٤١", "X", "eu-central-1"), "offboard:orgId: String should match pattern"),
    "wide-target": (stack_yaml("3", "X", "eu-central-1", '  offboard:targetOrgId: "７０００４２"\n'), "offboard:targetOrgId"),
    "arabic-region": (stack_yaml("3", "X", "eu-central-١"), "aws:region"),
    "root-store": (side_yaml("source", "files: /"), "offboard:source.contentStores: files: / is a system folder (/)"),
    "etc-store": (side_yaml("staging", "files: /etc"), "offboard:staging.contentStores: files: /etc is a system folder (/etc)"),
    "inside-usr": (side_yaml("production", "files: /usr/lib/connections"), "files: /usr/lib/connections is a system folder (/usr)"),
    "tmp-store": (side_yaml("staging", "files: /tmp/"), "files: /tmp is a system folder (/tmp)"),
    "climbing-to-home": (side_yaml("source", "files: /var/../home"), "files: /var/../home is a system folder (/home)"),
    "climbing-to-root": (side_yaml("source", "files: " + "../" * 40), f"files: {'/'.join(['..'] * 40)} is a system folder (/)"),
    "home-store": (side_yaml("source", f"files: {Path.home()}"), f"files: {Path.home()} is a system folder"),
    "spool-store": (side_yaml("staging", "files: /var/spool/cron"), "files: /var/spool/cron is a system folder (/var/spool)"),
    "nested-stores": (side_yaml("production", "files: content\n      wikis: content/wikis"),
                      "offboard:production.contentStores: wikis: content/wikis lies in the folder of store files (content)"),
    "climbing-store": (side_yaml("source", "../files: content/files"), "offboard:source.contentStores: store name '../files'"),
    "upper-store": (side_yaml("staging", "Files: content/files"), "store name 'Files': expected lower-case letters"),
    "lower-database": (side_yaml("source", "files: sqlite:///data/FILES.db", "databases"),
                       "offboard:source.databases: 'files' is not a Connections database name"),
    "dotted-database": (side_yaml("production", "../FILES: sqlite:///data/FILES.db", "databases"),
                        "'../FILES' is not a Connections database name"),
}


@pytest.mark.parametrize("stack", sorted(BAD_SETTINGS))
def test_a_bad_setting_is_refused_in_one_line_naming_the_stack_file(project, stack):
    text, expected = BAD_SETTINGS[stack]
    write_stack(project, stack, text)
    with pytest.raises(OffboardError) as refused:
        load_customer(project, stack)
    message = str(refused.value)
    assert message.startswith(f"stacks/Pulumi.{stack}.yaml: ") and expected in message and "\n" not in message


def test_a_content_store_linked_to_a_system_folder_is_refused(project):
    (project.root / "content").mkdir()
    (project.root / "content" / "files").symlink_to("/etc")
    write_stack(project, "linked", side_yaml("staging", "files: content/files"))
    with pytest.raises(OffboardError, match=r"^stacks/Pulumi.linked.yaml: offboard:staging.contentStores: "
                                            r"files: content/files is a system folder \(/etc\)"):
        load_customer(project, "linked")
    (project.root / "content" / "files").unlink()
    (project.root / "content" / "files").mkdir()
    assert load_customer(project, "linked").staging.content_stores == {"files": Path("content/files")}


def write_latin1_stack(project: Project, stack: str) -> None:
    """A stack file as an editor set to Latin-1 saves it: the customer's name is not UTF-8."""
    project.stack_file(stack).write_bytes(stack_yaml("3", "Müller", "eu-central-1").encode("latin-1"))


def test_a_stack_file_that_is_not_utf8_names_the_line_and_byte(project):
    write_latin1_stack(project, "latin")
    with pytest.raises(OffboardError, match=r"^stacks/Pulumi.latin.yaml line 4: not UTF-8 text at byte offset 84$"):
        load_customer(project, "latin")


def test_a_folder_where_the_stack_file_should_be_cannot_be_read(project):
    project.stack_file("folder").mkdir()
    with pytest.raises(OffboardError, match=r"^cannot read stacks/Pulumi.folder.yaml: Is a directory$"):
        load_customer(project, "folder")


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads a file without read permission")
def test_a_stack_file_without_read_permission_cannot_be_read(project):
    project.stack_file("alpha").chmod(0)
    with pytest.raises(OffboardError, match=r"^cannot read stacks/Pulumi.alpha.yaml: Permission denied$"):
        load_customer(project, "alpha")


def test_another_stack_file_that_cannot_be_read_does_not_stop_this_one(project, customers):
    write_latin1_stack(project, "latin")
    project.stack_file("folder").mkdir()
    require_own_org(project, customers["alpha"])


def test_bad_settings_stop_every_command_in_one_line_before_anything_is_written(project):
    write_stack(project, "arabic", BAD_SETTINGS["arabic-org"][0])
    write_stack(project, "rooted", BAD_SETTINGS["root-store"][0])
    write_latin1_stack(project, "latin")
    for stack, command in (("arabic", ["stack", "up", "arabic"]), ("rooted", ["runbook", "render", "rooted", "initial"]),
                           ("latin", ["db", "export", "latin", "--delivery", "initial"])):
        result = run_cli(project, *command, "--backend", "local")
        lines = result.stderr.splitlines()
        assert result.returncode == 1 and "Traceback" not in result.stderr, (command, result.stderr)
        assert len(lines) == 1 and lines[0].startswith(f"offboard: stacks/Pulumi.{stack}.yaml"), (command, lines)
    assert not project.state_dir.exists()
