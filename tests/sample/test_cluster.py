"""`offboard sample create --engine postgresql`: on a throwaway cluster of its own, or on a given server."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import yaml

from offboard.errors import OffboardError
from offboard.sample import SampleLayout
from offboard.sample.cluster import Cluster, start_cluster, stop_cluster
from tests.conftest import REPO, run_cli
from tests.db.support import query


def test_a_sample_on_its_own_cluster_says_how_to_stop_it_and_starts_again(project, tmp_path):
    folder = tmp_path / "sample"
    made = run_cli(project, "sample", "create", str(folder), "--engine", "postgresql", "--stack", "gamma")
    try:
        assert made.returncode == 0, made.stderr
        assert f"`offboard sample stop {folder}` stops it" in " ".join(made.stdout.split())
        sample = SampleLayout.load(folder)
        urls = yaml.safe_load(project.stack_file("gamma").read_text())["config"]["offboard:staging"]["databases"]
        assert urls == sample.targets["staging"] and all(url.startswith("postgresql+psycopg://offboard@/") for url in urls.values())
        count = 'SELECT COUNT(*) FROM "EMPLOYEE" WHERE "TENANT_KEY" = :org'
        rows = query(sample, "source", "PEOPLEDB", count, org=sample.org_ids[0])

        assert run_cli(project, "sample", "stop", str(folder)).returncode == 0
        assert not Cluster(folder / "postgres").running
        assert run_cli(project, "sample", "start", str(folder)).returncode == 0
        assert query(sample, "source", "PEOPLEDB", count, org=sample.org_ids[0]) == rows != [(0,)]
    finally:
        run_cli(project, "sample", "stop", str(folder))
    assert not Cluster(folder / "postgres").running


def test_a_password_of_the_server_stays_a_variable_in_the_stack_file(project, tmp_path, postgres_server):
    """The session's cluster trusts its socket and ignores the password; the stack file must still name only the variable."""
    server = postgres_server.replace("offboard@", "offboard:${SAMPLE_PG_PASSWORD}@")
    made = run_cli(project, "sample", "create", str(tmp_path / "sample"), "--engine", "postgresql", "--server", server,
                   "--stack", "gamma", env={"SAMPLE_PG_PASSWORD": "Sup3r-Secret"})
    assert made.returncode == 0, made.stderr
    stack_file = project.stack_file("gamma").read_text()
    assert "${SAMPLE_PG_PASSWORD}" in stack_file and "Sup3r-Secret" not in stack_file + made.stdout + made.stderr
    assert not (tmp_path / "sample" / "postgres").exists()


def test_wrong_engine_options_are_one_line(project, tmp_path):
    for args, said in [(["--server", "postgresql+psycopg://u@h/postgres"], "--server names a PostgreSQL server: add --engine postgresql"),
                       (["--engine", "oracle"], "unknown engine 'oracle': choose sqlite or postgresql")]:
        result = run_cli(project, "sample", "create", str(tmp_path / "sample"), *args)
        assert (result.returncode, result.stderr) == (1, f"offboard: {said}\n")


def test_a_folder_too_deep_for_a_socket_is_refused_before_anything_starts(project, tmp_path):
    deep = tmp_path / ("d" * 100) / "sample"
    result = run_cli(project, "sample", "create", str(deep), "--engine", "postgresql")
    assert result.returncode == 1 and "is too deep for a PostgreSQL socket" in result.stderr and len(result.stderr.splitlines()) == 1


def test_the_postgresql_half_fails_instead_of_skipping_when_required(tmp_path):
    """What keeps CI honest: without PostgreSQL's programs, scripts/test's run fails; a developer's plain run skips."""
    test = "tests/db/test_connect.py::test_no_connection_stays_open_on_a_shared_server"
    without = {**os.environ, "OFFBOARD_PG_BIN": str(tmp_path), "PATH": os.path.dirname(sys.executable)}
    for required, code, said in [("required", 1, "PostgreSQL is required"), ("", 0, "1 skipped")]:
        run = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-rs", test],
                             env={**without, "OFFBOARD_TEST_POSTGRESQL": required}, cwd=REPO, capture_output=True, text=True)
        assert run.returncode == code and said in run.stdout, run.stdout[-1500:]


def test_a_server_that_cannot_start_says_why_in_one_line(tmp_path):
    """pg_ctl itself only says to examine the log: the log's last line is the one that tells."""
    folder = tmp_path / "pg"
    start_cluster(folder)
    stop_cluster(folder)
    with open(folder / "data" / "postgresql.conf", "a", encoding="utf-8") as conf:
        conf.write("shared_buffers = 'a lot'\n")
    with pytest.raises(OffboardError, match=r'^pg_ctl failed for the cluster in .*: .*FATAL: .*postgresql.conf" contains errors$') as caught:
        start_cluster(folder)
    assert "\n" not in str(caught.value) and not Cluster(folder).running


@pytest.mark.parametrize("name", ['a$(touch PWNED)b', 'say "hi"', "back\\slash"])
def test_a_folder_a_shell_would_expand_is_refused_and_nothing_runs(project, tmp_path, name):
    """pg_ctl hands the data folder to a shell in double quotes."""
    result = run_cli(project, "sample", "create", str(tmp_path / name / "sample"), "--engine", "postgresql")
    assert result.returncode == 1 and "holds a character a shell expands" in result.stderr and len(result.stderr.splitlines()) == 1
    assert not (tmp_path / name / "sample").exists() and not list(tmp_path.rglob("PWNED"))


@pytest.mark.parametrize("name", ["with space", "a&b+c%20d"])
def test_a_folder_with_spaces_or_url_characters_works(project, tmp_path_factory, name):
    """The folder is the socket's, in the URL's query: quoted there. Not below tmp_path, whose
    test-named folder (one level deeper under xdist) leaves the socket's path too long."""
    folder = tmp_path_factory.mktemp("pg") / name / "sample"
    try:
        assert run_cli(project, "sample", "create", str(folder), "--engine", "postgresql").returncode == 0
        assert Cluster(folder / "postgres").running
    finally:
        run_cli(project, "sample", "stop", str(folder))


def test_a_literal_password_in_server_is_refused_before_anything_is_written(project, tmp_path):
    result = run_cli(project, "sample", "create", str(tmp_path / "sample"), "--engine", "postgresql", "--stack", "gamma",
                     "--server", "postgresql+psycopg://offboard:Zq9-p%40ss@/postgres?host=/nowhere")
    assert result.returncode == 1 and "--server holds a password" in result.stderr and "Zq9" not in result.stderr
    assert not (tmp_path / "sample").exists() and not project.stack_file("gamma").exists()


def test_a_cluster_a_killed_create_left_running_can_be_stopped(project, tmp_path):
    folder = tmp_path / "sample"
    start_cluster(folder / "postgres")  # as a create killed before its sample.json was written leaves it
    stopped = run_cli(project, "sample", "stop", str(folder))
    assert stopped.returncode == 0 and "stopped" in stopped.stdout and not Cluster(folder / "postgres").running
