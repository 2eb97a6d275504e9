"""Shared fixtures: a throw-away project with two customers, and the embedded endpoint."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from offboard import masking
from offboard.customer import load_customer
from offboard.errors import OffboardError
from offboard.infra import endpoint as local_endpoint
from offboard.infra.embedded import EmbeddedBackend
from offboard.infra.outputs import StackOutputs
from offboard.project import Project
from offboard.sample import create_sample
from offboard.sample.cluster import remove_cluster, start_cluster
from offboard.sample.layout import ENGINES
from offboard.teardown import empty_bucket

REPO = Path(__file__).resolve().parents[1]
# Set by scripts/test: a run without PostgreSQL fails instead of skipping its half.
REQUIRE_POSTGRESQL = "OFFBOARD_TEST_POSTGRESQL"

CUSTOMERS = {
    "alpha": {"orgId": "20011111", "customerName": "Alpha Holding AG", "region": "eu-central-1"},
    "beta": {"orgId": "20022222", "customerName": "Beta & Söhne KG", "region": "eu-west-1"},
}


def stack_yaml(org_id: str, name: str, region: str, extra: str = "") -> str:
    return (
        "config:\n"
        f"  aws:region: {region}\n"
        f"  offboard:orgId: \"{org_id}\"\n"
        f"  offboard:customerName: \"{name}\"\n"
        "  offboard:mspEmail: migration@msp.example.com\n"
        f"{extra}"
    )


def make_project(root: Path) -> Project:
    """A project folder like the repo's: Pulumi.yaml, runbooks/, and stacks for two customers."""
    root.mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO / "Pulumi.yaml", root / "Pulumi.yaml")
    shutil.copytree(REPO / "runbooks", root / "runbooks")
    (root / "stacks").mkdir()
    for stack, c in CUSTOMERS.items():
        (root / "stacks" / f"Pulumi.{stack}.yaml").write_text(stack_yaml(c["orgId"], c["customerName"], c["region"]))
    return Project(root=root, state_dir=root / ".offboard")


@pytest.fixture
def project(tmp_path) -> Project:
    return make_project(tmp_path / "project")


@pytest.fixture(scope="session")
def endpoint_session(tmp_path_factory):
    """One in-process endpoint for the whole run (moto keeps one state per process)."""
    folder = tmp_path_factory.mktemp("endpoint")
    with local_endpoint.embedded(folder) as endpoint:
        yield folder, endpoint


@pytest.fixture
def local_project(project, endpoint_session) -> Project:
    """A project whose embedded endpoint is the session's one (its record copied in)."""
    return use_endpoint(project, endpoint_session[0])


def use_endpoint(project: Project, folder: Path) -> Project:
    """Point the project at the embedded endpoint recorded in `folder`."""
    (project.state_dir / "local").mkdir(parents=True)
    shutil.copy(folder / local_endpoint.RECORD, project.state_dir / "local" / local_endpoint.RECORD)
    return project


@pytest.fixture(scope="session")
def pristine_sqlite_sample(tmp_path_factory) -> Path:
    """A two-org SQLite sample made once for the run; tests change copies (tests.db.support.copy_sample)."""
    folder = tmp_path_factory.mktemp("pristine-sqlite") / "sample"
    create_sample(folder, orgs=2, seed=3)
    return folder


@pytest.fixture(scope="session")
def postgres_server(tmp_path_factory):
    """A throwaway PostgreSQL cluster for the whole run, removed at its end."""
    folder = tmp_path_factory.mktemp("postgres")
    try:
        cluster = start_cluster(folder)
    except OffboardError as error:
        if os.environ.get(REQUIRE_POSTGRESQL) == "required":
            pytest.fail(f"PostgreSQL is required ({REQUIRE_POSTGRESQL}=required) and could not start: {error}")
        pytest.skip(f"no PostgreSQL: {error}")
    yield cluster.url
    remove_cluster(folder)


def pytest_collection_modifyitems(config, items):
    """A test marked `one_engine` runs on SQLite only: its PostgreSQL twin is deselected."""
    twins = [item for item in items if item.get_closest_marker("one_engine")
             and getattr(item, "callspec", None) and item.callspec.params.get("server") == "postgresql"]
    if twins:
        config.hook.pytest_deselected(items=twins)
        items[:] = [item for item in items if item not in twins]


@pytest.fixture(scope="session", params=ENGINES)
def server(request) -> str | None:
    """Every test that asks for it runs on both engines: None for SQLite files, else the URL of
    the session's PostgreSQL server."""
    return request.getfixturevalue("postgres_server") if request.param == "postgresql" else None


def engine_options(server: str | None) -> list[str]:
    """`offboard sample create` options for the engine of `server`."""
    return ["--engine", "postgresql", "--server", server] if server else []


@pytest.fixture
def customers(project):
    return {stack: load_customer(project, stack) for stack in CUSTOMERS}


@pytest.fixture
def provisioned(local_project, customers, endpoint_session):
    """Both customers up on the session's endpoint; their outputs by stack. Emptied and destroyed afterwards."""
    outputs = {stack: EmbeddedBackend(local_project).up(customer) for stack, customer in customers.items()}
    yield outputs
    for stack in customers:
        remove_stack(local_project, stack, endpoint_session[1])


@pytest.fixture
def registered(monkeypatch):
    """A registry of filled-in passwords (`offboard.masking`) of the test's own, so that none reaches another test."""
    monkeypatch.setattr(masking, "_filled_in", set())


def remove_stack(project: Project, stack: str, endpoint) -> None:
    """Empty the stack's bucket with the admin key (as teardown does) and destroy it, for the next test."""
    customer = load_customer(project, stack)
    outputs = StackOutputs.load(project.stack_state_dir(stack))
    if outputs is not None:
        empty_bucket(endpoint.client("s3", customer.region), outputs.bucket)
    EmbeddedBackend(project).destroy(customer)


def run_cli(project: Project, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    """The real `offboard` command in a child process, as a user runs it."""
    full_env = {**os.environ, "OFFBOARD_PROJECT": str(project.root), **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "offboard.cli", *args], env=full_env, capture_output=True, text=True, timeout=120
    )
