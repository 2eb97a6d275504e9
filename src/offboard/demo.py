"""The whole off-boarding on the embedded default, for a new user: no cloud account, no DB2.

A sample source of several orgs, one customer's stack on an embedded endpoint inside this
process, the initial delivery, the org changed and made read-only, the delta delivery,
verification and teardown, all through the runbook. People's steps are confirmed
automatically (and journaled as such), and so is the operator's decision on the user the
sample's mapping lacks: verify of production fails on it until the demo accepts it, with a
reason. The demo passes only when the key reaches its bucket and nothing else, the target holds
exactly the org's files and rows, and nothing of the other orgs left the source.
"""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import sqlalchemy as sa

from offboard.customer import content_roots, database_urls, load_customer
from offboard.db.connect import open_engine, table_of
from offboard.db.content import org_content
from offboard.db.stages import CATALOG, catalog
from offboard.errors import OffboardError
from offboard.fixup.acceptance import accept_unmapped
from offboard.fixup.unmapped import last_fixup, named
from offboard.infra import endpoint as local_endpoint
from offboard.infra.embedded import EmbeddedBackend
from offboard.infra.probe import Check, key_checks
from offboard.project import Project
from offboard.report import write_report
from offboard.runbook import commands
from offboard.runbook.engine import Outcome
from offboard.runbook.journal import Entry, Journal
from offboard.runbook.workflow import load_runbook
from offboard.sample import create_sample, mutate_org
from offboard.sample.cluster import stop_cluster
from offboard.sample.layout import CLUSTER_FOLDER
from offboard.sample.source import check_engine
from offboard.sample.stack import write_stack

STACK = "demo"
CONFIRMED_BY = "demo (confirmed automatically)"
DEPARTED = "left the company before the move"  # the sample's mapping lacks one user on purpose
SIZES = {"small": 1, "medium": 20}
MARKER = ".offboard-demo"


@dataclass
class DemoResult:
    workdir: Path
    org_id: str
    other_orgs: list[str]
    checks: list[Check] = field(default_factory=list)
    entries: list[Entry] = field(default_factory=list)  # the journal, as the runbook left it
    foreign: list[str] = field(default_factory=list)  # what of other orgs the targets hold
    report: Path | None = None
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        verified = {e.step for e in self.entries if e.action == "verify" and e.status == "done"}
        return (all(check.ok for check in self.checks) and {"verify-staging", "verify-production"} <= verified
                and any(e.step == "teardown" and e.status == "done" for e in self.entries) and not self.foreign)


def run_demo(project: Project, workdir: Path, orgs: int = 3, size: str = "small", engine: str = "sqlite",
             say: Callable[[str], None] = lambda line: None) -> DemoResult:
    """Everything happens under `workdir` (made anew) on an endpoint inside this process; on
    PostgreSQL, with a cluster of the demo's own there, stopped at the end."""
    if size not in SIZES:
        raise OffboardError(f"unknown size {size!r}: choose {' or '.join(SIZES)}")
    if orgs < 2:
        raise OffboardError("the demo needs at least 2 orgs: one moves, the others must stay")
    check_engine(engine)
    started = time.monotonic()
    demo = fresh_project(project, workdir.resolve())
    try:
        return _run(demo, orgs, size, engine, say, started)
    finally:
        stop_cluster(demo.root.parent / "sample" / CLUSTER_FOLDER)


def _run(demo: Project, orgs: int, size: str, engine: str, say: Callable[[str], None], started: float) -> DemoResult:
    sample = create_sample(demo.root.parent / "sample", orgs=orgs, scale=SIZES[size], catalog_path=demo.runbooks_dir / CATALOG,
                           engine=engine)
    org = sample.org_ids[0]
    write_stack(demo, STACK, sample, org)
    say(f"sample source with orgs {', '.join(sample.org_ids)} in {sample.root} ({sample.engine}); org {org} moves")
    result = DemoResult(demo.root.parent, org, sample.org_ids[1:])
    with local_endpoint.embedded(demo.state_dir / "local"):
        say("initial delivery: people's steps are confirmed automatically in this demo")
        walk(demo, "initial", say)
        result.checks = prove_key_isolation(demo)
        say(f"weeks before cut-over: org {org} changes; then it is made read-only (a confirmed step of the delta)")
        mutate_org(sample.root, org)
        walk(demo, "delta", say)
    result.entries = Journal.of_stack(demo, STACK).entries()
    result.foreign = foreign_data(demo, sample.org_ids[1:])
    result.report, _ = write_report(demo, load_customer(demo, STACK))
    result.seconds = time.monotonic() - started
    return result


def fresh_project(project: Project, workdir: Path) -> Project:
    """A project of the demo's own (the repo's stacks/ stay untouched), in an empty workdir."""
    if workdir.exists() and any(workdir.iterdir()):
        if not (workdir / MARKER).is_file():
            raise OffboardError(f"{workdir} is not empty and holds no earlier demo: choose another --workdir")
        stop_cluster(workdir / "sample" / CLUSTER_FOLDER)  # an earlier demo's, if it was killed
        shutil.rmtree(workdir)
    root = workdir / "project"
    (root / "stacks").mkdir(parents=True)
    (workdir / MARKER).touch()
    shutil.copy(project.root / "Pulumi.yaml", root / "Pulumi.yaml")
    shutil.copytree(project.runbooks_dir, root / "runbooks")
    return Project(root=root, state_dir=root / ".offboard")


def walk(project: Project, workflow: str, say: Callable[[str], None], stack: str = STACK) -> None:
    """Render the workflow's modules, then run it to its end, confirming each person's step where the run
    waits, and accepting the unmapped users a verify step fails on (the sample's mapping lacks one)."""
    modules = commands.render(project, stack, workflow, backend="local")
    say(f"  {len(modules)} modules rendered into {project.shown(modules[0].path.parent)}")
    while True:
        outcome = ran(commands.run(project, stack, workflow, backend="local"), say)
        if not outcome.ok and accepted_unmapped(project, stack, outcome, say):
            outcome = ran(commands.retry(project, stack, outcome.stopped_at, backend="local"), say)
            if outcome.ok:
                continue
        if not outcome.ok:
            raise OffboardError(f"demo stopped: {outcome.message}")
        if outcome.reason != "person":
            return
        commands.confirm(project, stack, outcome.stopped_at, by=CONFIRMED_BY, backend="local")


def ran(outcome: Outcome, say: Callable[[str], None]) -> Outcome:
    """Say what the machine steps of a runbook command did."""
    for entry in outcome.entries:
        if entry.kind == "automated":
            say(f"  {entry.step}: {entry.status} in {entry.duration:.2f} s")
    return outcome


def accepted_unmapped(project: Project, stack: str, outcome: Outcome, say: Callable[[str], None]) -> bool:
    """When a verify step failed on unmapped users, accept them as an operator would, through the
    function of `offboard db accept-unmapped`; False when the run stopped for anything else."""
    _, step = load_runbook(project, load_customer(project, stack), None).find(outcome.stopped_at)
    facts = last_fixup(project, stack, step.args["target"]) if step.action == "verify" else None
    if not (facts and facts.open):
        return False
    say(f"  {step.id} refused: {len(facts.open)} unmapped user id(s) ({named(facts.open)}); the demo accepts them")
    accept_unmapped(project, stack, facts.target, facts.open, reason=DEPARTED, by=CONFIRMED_BY, backend="local")
    return True


def prove_key_isolation(project: Project) -> list[Check]:
    """The customer's key against its bucket and a neighbour's, made for the purpose."""
    customer = load_customer(project, STACK)
    backend = EmbeddedBackend(project)
    neighbour = customer.model_copy(update={"stack": "neighbour", "org_id": "20099999", "customer_name": "A neighbour"})
    return key_checks(backend.outputs(customer), backend.up(neighbour).bucket)


def foreign_data(project: Project, other_orgs: list[str]) -> list[str]:
    """Anything in staging or production that is not the moved org's: other orgs' files under
    the content stores, rows under another tenant id. There must be none."""
    customer = load_customer(project, STACK)
    connections = catalog(project)
    source_urls = database_urls(customer.side("source").databases, project.root)
    source_roots = content_roots(customer.side("source").content_stores, project.root)
    found = []
    for side in ("staging", "production"):
        roots = content_roots(customer.side(side).content_stores, project.root)
        for org in other_orgs:
            found += [f"{side}: file {store}/{path} of org {org}" for store, path in org_content(connections, source_urls, org, source_roots)
                      if (roots[store] / path).exists()]
        urls = database_urls(customer.side(side).databases, project.root)
        for spec in connections.tables():
            engine = open_engine(urls[spec.database])
            table = table_of(spec.shape(), engine)
            with engine.connect() as connection:
                tenants = connection.execute(sa.select(table.c[spec.tenant]).distinct()).scalars().all()
            found += [f"{side}: rows of tenant {tenant} in {spec.qualified}" for tenant in tenants if tenant != customer.target_org_id]
    return found
