"""The wsadmin script of the supported route: the same mapping gives the same bytes, every id is
data that cannot become code, the script holds no secret, and run (with stand-ins for the
product's member services) it syncs each mapped id in each application or stops before any."""

from __future__ import annotations

import ast
import io
import os
import stat
from contextlib import redirect_stdout

import pytest
import yaml

from offboard.customer import load_customer
from offboard.errors import OffboardError
from offboard.fixup import wsadmin
from offboard.fixup.mapping import read_user_mapping
from offboard.runbook import commands
from offboard.sample import create_sample
from offboard.sample.stack import write_stack
from tests.conftest import run_cli, stack_yaml
from tests.runbook.support import KEY_ID, OUTPUTS, SECRET

PASSWORD = "Db2-pa55word-of-acme"
HOSTILE = ['a"b', "c\\d", '"); import os; os.system("x")#', "'''; x = 1 #", 'tail\\', "Ünïcødé-😀"]
SERVICES = ["ActivitiesMemberService", "BlogsMemberService", "DogearMemberService", "CommunitiesMemberService",
            "FilesMemberService", "ForumsMemberService", "NewsMemberService", "WikisMemberService"]
MAPPED = [("cloud-2", "target-2"), ("cloud-1", "target-1"), ("cloud-3", "target-3")]
FIXUP = ("  offboard:targetOrgId: \"700042\"\n  offboard:fixup:\n    cloudHosts: [apps.na.collabserv.com]\n"
         "    mspHost: connections.msp.example.com\n    userMapping: mappings/users.csv\n    route: wsadmin\n")


@pytest.fixture
def acme(project):
    """Stack acme with a fix-up on the wsadmin route and nothing else the script needs; its mapping's path."""
    project.stack_file("acme").write_text(stack_yaml("20033333", "Acme AG", "eu-central-1", FIXUP))
    mapping = project.root / "mappings" / "users.csv"
    mapping.parent.mkdir()
    write_mapping(mapping, MAPPED)
    return mapping


@pytest.fixture
def sampled(project, tmp_path):
    """Stacks acme (wsadmin route) and zenith (direct) on the two orgs of a SQLite sample, complete
    enough for `runbook render` (not the database tests' sample: no row is read here)."""
    layout = create_sample(tmp_path / "sample", orgs=2)
    for name, org, route in (("acme", 0, "wsadmin"), ("zenith", 1, "direct")):
        write_stack(project, name, layout, layout.org_ids[org])
        path = project.stack_file(name)
        document = yaml.safe_load(path.read_text())
        document["config"]["offboard:fixup"]["route"] = route
        path.write_text(yaml.safe_dump(document, allow_unicode=True))
    return layout


def script(project) -> str:
    return wsadmin.render_script(project, load_customer(project, "acme"), "delta")


def write_mapping(path, pairs) -> None:
    lines = ["cloud_id,target_id,email"] + [",".join('"' + v.replace('"', '""') + '"' for v in (cloud, target, f"{n}@example.com"))
                                            for n, (cloud, target) in enumerate(pairs)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def members(source: str) -> list[tuple[str, str]]:
    """The MEMBERS list of the script, read as a literal: what the ids are, as data."""
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign) and [target.id for target in node.targets] == ["MEMBERS"]:
            return ast.literal_eval(node.value)
    raise AssertionError("no MEMBERS list")


def run_script(source: str, defined: dict[str, object]) -> tuple[str, object]:
    """Run the script as wsadmin would, `execfile(<admin script>, globals)` defining what `defined`
    maps each admin script to (an exception: it fails); what it printed, and SystemExit if it stopped."""
    def execfile(name, namespace):
        found = defined[name]
        if isinstance(found, Exception):
            raise found
        namespace.update(found)

    out, stopped = io.StringIO(), None
    with redirect_stdout(out):
        try:
            exec(compile(source, "sync-members.py", "exec"), {"execfile": execfile, "__name__": "main"})
        except SystemExit as exit:
            stopped = exit
    return out.getvalue(), stopped


class Service:
    """Stands in for an application's member service: records each call; refuses the ids in `refused`."""

    def __init__(self, refused=()) -> None:
        self.calls, self.refused = [], set(refused)

    def syncMemberByExtId(self, cloud, options):  # noqa: N802 (the product's name)
        self.calls.append((cloud, options))
        if cloud in self.refused:
            raise RuntimeError(f"CLFWY0999E: no member with external id {cloud}")


def admin_scripts(services: dict[str, Service]) -> dict[str, dict]:
    scripts = ["activitiesAdmin.py", "blogsAdmin.py", "dogearAdmin.py", "communitiesAdmin.py", "filesAdmin.py",
               "forumsAdmin.py", "newsAdmin.py", "wikisAdmin.py"]
    return {name: {service: services[service]} for name, service in zip(scripts, SERVICES)}


def test_the_same_mapping_in_any_order_gives_the_same_bytes(project, acme):
    first = script(project)
    header, *rows = acme.read_text(encoding="utf-8").splitlines(keepends=True)
    acme.write_text(header + "".join(reversed(rows)), encoding="utf-8")
    assert script(project) == first
    assert members(first) == sorted(MAPPED)
    assert first.startswith("# -*- coding: utf-8 -*-\n# sync-members: the user ids of stack acme (cloud org 20033333, org 700042 on the MSP)")
    assert '"mappings/users.csv" (3 mapped ids)' in first


def test_a_hostile_id_stays_data_and_arrives_whole(project, acme, monkeypatch):
    pairs = [(cloud, f"target-{n}-{cloud}") for n, cloud in enumerate(HOSTILE)]
    write_mapping(acme, pairs)
    source = script(project)
    tree = ast.parse(source)  # Jython 2.7 parses what Python 3 parses here: no print statement, no f-string
    ids = {value for pair in pairs for value in pair}
    assert {value for pair in members(source) for value in pair} == ids
    data = next(node for node in tree.body if isinstance(node, ast.Assign) and node.targets[0].id == "MEMBERS")
    outside = {node.value for node in ast.walk(tree) if isinstance(node, ast.Constant)} - \
              {node.value for node in ast.walk(data) if isinstance(node, ast.Constant)}
    assert not outside & ids  # no id is a literal anywhere but in the data list
    assert [alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names] == ["sys"]

    system = []
    monkeypatch.setattr(os, "system", lambda command: system.append(command))
    services = {name: Service() for name in SERVICES}
    printed, stopped = run_script(source, admin_scripts(services))
    assert stopped is None and not system
    expected = [(cloud, {"newExtId": target, "allowExtIdSwap": "false"}) for cloud, target in sorted(pairs)]
    assert all(service.calls == expected for service in services.values())
    assert printed.isascii() and "\\u00dcn\\u00efc\\u00f8d\\u00e9-\\u1f600 -> " in printed
    assert f"{len(pairs) * len(SERVICES)} of {len(pairs) * len(SERVICES)} syncs done for stack acme" in printed


def test_an_id_an_application_refuses_is_listed_and_the_others_go_on(project, acme):
    write_mapping(acme, [("cloud-1", "target-1"), ("cloud-2", "target-2")])
    services = {name: Service() for name in SERVICES}
    services["BlogsMemberService"] = Service(refused={"cloud-1"})  # a person who never blogged
    printed, stopped = run_script(script(project), admin_scripts(services))
    assert stopped is None
    assert "Blogs: 2 mapped ids\n  cloud-1 -> target-1: not synced (CLFWY0999E: no member with external id cloud-1)\n" \
           "  cloud-2 -> target-2: synced\n" in printed
    assert [cloud for cloud, _ in services["WikisMemberService"].calls] == ["cloud-1", "cloud-2"]
    assert "15 of 16 syncs done for stack acme" in printed


@pytest.mark.parametrize(("missing", "said"), [
    (IOError("No such file or directory: forumsAdmin.py"),
     'STOPPED, nothing changed: Forums: execfile("forumsAdmin.py") failed (No such file or directory: forumsAdmin.py): '
     "start wsadmin in the bin folder of the deployment manager's profile, or remove Forums from APPLICATIONS"),
    ({}, "STOPPED, nothing changed: Forums: forumsAdmin.py defines no ForumsMemberService: is Forums installed"),
])
def test_an_unavailable_admin_script_stops_it_before_any_id_changes(project, acme, missing, said):
    services = {name: Service() for name in SERVICES}
    scripts = {**admin_scripts(services), "forumsAdmin.py": missing}
    printed, stopped = run_script(script(project), scripts)
    assert stopped is not None and stopped.code == 1 and printed.startswith(said)
    assert not any(service.calls for service in services.values())


def test_the_script_holds_no_secret_and_one_that_would_is_refused(project, sampled, monkeypatch):
    path = project.stack_file("acme")
    document = yaml.safe_load(path.read_text())
    document["config"]["offboard:production"]["databases"]["FILES"] = "db2+ibm_db://db2inst1:${ACME_DB_PASSWORD}@db2.msp.example.com:50000/FILES"
    path.write_text(yaml.safe_dump(document))
    monkeypatch.setenv("ACME_DB_PASSWORD", PASSWORD)
    mapping = sampled.user_mapping(sampled.org_ids[0])

    rendered = {module.step: module for module in commands.render(project, "acme", "delta", backend="local", outputs=lambda: OUTPUTS)}
    written = rendered["wsadmin script"]
    assert written.path == project.stack_state_dir("acme") / "wsadmin" / "sync-members.py" and written.change == "new"
    body = written.path.read_text(encoding="utf-8")
    assert stat.S_IMODE(written.path.stat().st_mode) == 0o600 and members(body) == sorted(read_user_mapping(mapping).items())
    unmapped = sampled.org(sampled.org_ids[0]).users[-1].cloud_id  # the sample's mapping lacks its last user
    assert members(body) and unmapped not in body
    for secret in (KEY_ID, SECRET, PASSWORD):
        assert secret not in body

    write_mapping(mapping, [("cloud-1", KEY_ID)])  # the key id pasted into the mapping
    with pytest.raises(OffboardError, match=r"^the wsadmin script \(runbooks/fixup/wsadmin.py.j2\) contains the access key id: refused, nothing written$"):
        commands.render(project, "acme", "delta", backend="local", outputs=lambda: OUTPUTS)
    assert written.path.read_text(encoding="utf-8") == body


def test_runbook_render_writes_the_script_for_a_wsadmin_stack_only(project, sampled):
    env = {"OFFBOARD_BACKEND": "local"}
    rendered = run_cli(project, "runbook", "render", "acme", "delta", env=env)
    assert rendered.returncode == 0, rendered.stderr
    assert "wsadmin script" in rendered.stdout and "sync-members.py" in " ".join(rendered.stdout.split())
    assert wsadmin.script_path(project, "acme").is_file()
    module = (project.stack_state_dir("acme") / "modules" / "delta" / "fixup-staging-after-sync.py").read_text()
    assert 'route="wsadmin",' in module and 'target="staging",' in module

    rendered = run_cli(project, "runbook", "render", "zenith", "delta", env=env)
    assert rendered.returncode == 0, rendered.stderr
    assert "wsadmin script" not in rendered.stdout and not wsadmin.script_path(project, "zenith").exists()
    assert 'route="direct",' in (project.stack_state_dir("zenith") / "modules" / "delta" / "fix-links.py").read_text()
    assert not (project.stack_state_dir("zenith") / "modules" / "delta" / "fix-links-after-sync.py").exists()

    again = run_cli(project, "runbook", "render", "acme", "initial", env=env)  # no fix-up in the initial delivery
    assert again.returncode == 0 and "wsadmin script" not in again.stdout
