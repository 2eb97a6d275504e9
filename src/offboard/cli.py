"""The `offboard` command: parse, call one function, print. No logic of its own."""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from offboard.cli_catalog import app as catalog_app
from offboard.cli_fixup import app as fixup_app
from offboard.customer import Customer, load_customer, require_own_org
from offboard.db import stages as db_stages
from offboard.db.progress import terminal_rows
from offboard.demo import run_demo
from offboard.errors import OffboardError, one_line_on_error
from offboard.files import stages as files_stages
from offboard.files.progress import terminal_progress
from offboard.files.verify import report_table
from offboard.fixup.unmapped import open_refusal
from offboard.infra import endpoint as local_endpoint
from offboard.infra import stacks
from offboard.infra.policies import bucket_name
from offboard.project import Project
from offboard.report import write_report
from offboard.runbook import commands as runbook
from offboard.runbook import engine as runbook_engine
from offboard.runbook import fleet as runbook_fleet
from offboard.runbook import view as runbook_view
from offboard.runtime import Runtime
from offboard.sample import create_sample, mutate_org
from offboard.sample.cluster import Cluster, start_cluster, stop_cluster
from offboard.sample.layout import CLUSTER_FOLDER
from offboard.sample.stack import write_stack
from offboard.teardown import teardown_command
from offboard.verify import require_equal, verify_target

app = typer.Typer(no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
                  help="Move one customer organization out of IBM Connections Cloud.")
stack_app = typer.Typer(no_args_is_help=True, help="A customer's bucket and scoped key (Pulumi or the embedded endpoint).")
local_app = typer.Typer(no_args_is_help=True, help="The embedded S3/IAM endpoint on 127.0.0.1.")
app.add_typer(stack_app, name="stack")
runbook_app = typer.Typer(no_args_is_help=True, help="The two deliveries, step by step, with their journal.")
db_app = typer.Typer(no_args_is_help=True, help="The org's database rows: export, import, fix-up, verify.")
files_app = typer.Typer(no_args_is_help=True, help="The org's binary files: export, import, verify.")
sample_app = typer.Typer(no_args_is_help=True, help="A synthetic multi-tenant Connections source.")
app.add_typer(local_app, name="local")
app.add_typer(db_app, name="db")
db_app.add_typer(fixup_app)  # db fixup, db accept-unmapped
app.add_typer(files_app, name="files")
app.add_typer(sample_app, name="sample")
app.add_typer(runbook_app, name="runbook")
app.add_typer(catalog_app, name="catalog")

out = Console(width=None if sys.stdout.isatty() else 160)  # pipes and logs: no cramped tables
Stack = Annotated[str, typer.Argument(help="The stack: stacks/Pulumi.<stack>.yaml.")]
Backend = Annotated[str, typer.Option("--backend", "-b", envvar="OFFBOARD_BACKEND",
                                      help="pulumi (AWS, via the Pulumi CLI) or local (the embedded endpoint).")]


def customer_and_backend(stack: str, backend_name: str):
    project = Project.find()
    return project, load_customer(project, stack), stacks.backend(project, backend_name, on_output=print)


@stack_app.command("up")
def stack_up(stack: Stack, backend: Backend = "pulumi") -> None:
    """Create or update the customer's bucket, group, user and key."""
    project, customer, chosen = customer_and_backend(stack, backend)
    require_own_org(project, customer)
    with Runtime(project, stack, backend).changing():
        outputs = chosen.up(customer)
    out.print(f"stack {stack} is up: bucket {outputs.bucket}, key {outputs.access_key_id} ({chosen.name})")


@stack_app.command("preview")
def stack_preview(stack: Stack, backend: Backend = "pulumi") -> None:
    """Show what `up` would create or change."""
    _, customer, chosen = customer_and_backend(stack, backend)
    table = Table("resource", "name", "operation", title=f"stack {stack} ({chosen.name})")
    for row in chosen.preview(customer):
        table.add_row(*row)
    out.print(table)


@stack_app.command("outputs")
def stack_outputs(
    stack: Stack,
    backend: Backend = "pulumi",
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object.")] = False,
    show_secrets: Annotated[bool, typer.Option("--show-secrets", help="Include the secret access key.")] = False,
) -> None:
    """Print the stack's outputs; the secret only with --show-secrets."""
    _, customer, chosen = customer_and_backend(stack, backend)
    shown = chosen.outputs(customer).shown(show_secrets)
    if as_json:
        print(json.dumps(shown, indent=2, sort_keys=True))
        return
    table = Table("output", "value", title=f"stack {stack} ({chosen.name})")
    for key, value in shown.items():
        table.add_row(key, "" if value is None else str(value))
    out.print(table)


@stack_app.command("destroy")
def stack_destroy(stack: Stack, backend: Backend = "pulumi") -> None:
    """Remove the customer's resources (the bucket must be empty: teardown empties it)."""
    project, customer, chosen = customer_and_backend(stack, backend)
    with Runtime(project, stack, backend).changing():
        chosen.destroy(customer)
    out.print(f"stack {stack} destroyed ({chosen.name})")


@stack_app.command("access-info")
def stack_access_info(
    stack: Stack,
    backend: Backend = "pulumi",
    stdout: Annotated[bool, typer.Option("--stdout", help="Print the text (it holds the secret) instead of its path.")] = False,
) -> None:
    """Render the S3 access information for the customer's Box folder into a 0600 file."""
    project, customer, chosen = customer_and_backend(stack, backend)
    outputs = chosen.outputs(customer)
    if stdout:
        print(stacks.access_info(project, customer, outputs), end="")
    else:
        print(stacks.write_access_info(project, customer, outputs))


@local_app.command("start")
def local_start() -> None:
    """Start the embedded endpoint in the background (reuses a running one)."""
    endpoint = local_endpoint.start(Project.find().state_dir / "local")
    out.print(f"embedded endpoint running at {endpoint.url} (pid {endpoint.pid})")


@local_app.command("stop")
def local_stop() -> None:
    """Stop the embedded endpoint; everything on it is gone."""
    stopped = local_endpoint.stop(Project.find().state_dir / "local")
    out.print("embedded endpoint stopped" if stopped else "no embedded endpoint was running")


@local_app.command("status")
def local_status() -> None:
    """Say whether the embedded endpoint runs, and where."""
    endpoint = local_endpoint.running(Project.find().state_dir / "local")
    out.print(f"embedded endpoint running at {endpoint.url} (pid {endpoint.pid})")


@app.command("demo")
def demo(
    workdir: Annotated[Path, typer.Option(help="Where the demo works (made anew).")] = Path(".offboard/demo"),
    orgs: Annotated[int, typer.Option(help="Orgs in the sample source; the first one moves.")] = 3,
    size: Annotated[str, typer.Option(help="small or medium.")] = "small",
    engine: Annotated[str, typer.Option(help="sqlite, or postgresql on a throwaway cluster in the work folder.")] = "sqlite",
) -> None:
    """The whole off-boarding of one org on the embedded endpoint, from provisioning to teardown."""
    result = run_demo(Project.find(), workdir, orgs, size, engine, say=out.print)
    checks = Table("what the customer's key tried", "expected", "result", "", title="the key, tried for real (IAM enforced)")
    for check in result.checks:
        checks.add_row(check.action, "allowed" if check.expected else "refused",
                       "allowed" if check.allowed else "refused", "ok" if check.ok else "[red]WRONG[/red]")
    out.print(checks)
    summary = Table("stage", "seconds", "files", "rows", "MB", "MB/s", title=f"org {result.org_id}: what moved, per stage")
    for entry in result.entries:
        if entry.kind == "automated" and entry.status == "done":
            figures, size_mb = entry.figures, entry.figures.get("bytes_sent", entry.figures.get("bytes", 0)) / 1e6
            rate = f"{size_mb / entry.duration:.1f}" if size_mb and entry.duration else ""
            summary.add_row(entry.step, f"{entry.duration:.2f}", str(figures.get("files", "")), str(figures.get("rows", "")),
                            f"{size_mb:.2f}" if size_mb else "", rate)
    out.print(summary)
    for problem in result.foreign:
        out.print(f"[red]{problem}[/red]")
    out.print(f"report: {result.report}")
    out.print(f"work folder: {result.workdir}; journal, texts and the teardown archive under project/.offboard/stacks/demo")
    if not result.ok:
        raise OffboardError("the demo did not end as it must: see above")
    out.print(f"[green]demo passed[/green] in {result.seconds:.0f} s: org {result.org_id} moved, verified and torn down; "
              f"nothing of orgs {', '.join(result.other_orgs)} left the source; the key reached its bucket and nothing else")


Workflow = Annotated[str, typer.Argument(help="initial or delta.")]
AsJson = Annotated[bool, typer.Option("--json", help="A list with one object per step.")]


@runbook_app.command("render")
def runbook_render(stack: Stack, workflow: Workflow, backend: Backend = "pulumi") -> None:
    """Write the Python module of every machine step, with this customer's values, for review."""
    project = Project.find()
    modules = runbook.render(project, stack, workflow, backend=backend)
    table = Table("step", "module", "sha256", "change", title=f"{workflow} modules of stack {stack}")
    for module in modules:
        style = "yellow" if module.change in ("changed", "inputs only", "edit replaced") else ""
        table.add_row(module.step, project.shown(module.path), module.sha256[:16], Text(module.change, style=style))
    out.print(table)
    out.print("review them (diff them against another stack's), then `offboard runbook run` runs exactly these")


@runbook_app.command("plan")
def runbook_plan(stack: Stack, workflow: Workflow, backend: Backend = "pulumi", as_json: AsJson = False) -> None:
    """Every step of a delivery: who does it, and where it stands; open gates first."""
    plan = runbook.plan(Project.find(), stack, workflow, backend=backend)
    if as_json:
        print(json.dumps(plan.as_json(), indent=2))
    else:
        out.print(runbook_view.plan_view(plan))


@runbook_app.command("run")
def runbook_run(
    stack: Stack,
    workflow: Workflow,
    backend: Backend = "pulumi",
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Say what would run; change nothing.")] = False,
    until: Annotated[str | None, typer.Option(help="Stop after this step.")] = None,
) -> None:
    """Run the machine steps in order; stop at the first step a person must do."""
    report(runbook.run(Project.find(), stack, workflow, backend=backend, dry_run=dry_run, until=until))


@runbook_app.command("confirm")
def runbook_confirm(
    stack: Stack,
    step: Annotated[str, typer.Argument(help="The person's step that is done.")],
    by: Annotated[str, typer.Option("--by", help="Who confirms.")],
    note: Annotated[str | None, typer.Option(help="A note for the journal.")] = None,
    backend: Backend = "pulumi",
) -> None:
    """Record that a person's step is done; `run` then goes on."""
    report(runbook.confirm(Project.find(), stack, step, by=by, note=note, backend=backend))


@runbook_app.command("status")
def runbook_status(stack: Stack, workflow: Annotated[str | None, typer.Argument(help="initial, delta, or both.")] = None,
                   backend: Backend = "pulumi", as_json: AsJson = False) -> None:
    """Where every step stands, from the journal."""
    views = runbook.status(Project.find(), stack, workflow, backend=backend)
    if as_json:
        print(json.dumps(runbook_engine.as_json(views), indent=2))
    else:
        out.print(runbook_view.steps_table(views))


@runbook_app.command("retry")
def runbook_retry(stack: Stack, step: Annotated[str, typer.Argument(help="The machine step to run again.")],
                  backend: Backend = "pulumi") -> None:
    """Run one machine step again, after a failure."""
    report(runbook.retry(Project.find(), stack, step, backend=backend))


def report(outcome) -> None:
    """What a runbook command did, the texts it wrote (paths only), and its exit status."""
    for step in outcome.steps if outcome.dry_run else []:
        out.print(f"would run {step}")
    for entry in outcome.entries:
        if entry.kind == "automated":
            out.print(f"ran {entry.step}: {entry.status} in {entry.duration} s {json.dumps(entry.figures)}")
    for text in outcome.texts:
        out.print(f"{text.audience} text for {text.step}: {text.path}")
    for warning in outcome.warnings:
        print(f"offboard: warning: {warning}", file=sys.stderr)
    if not outcome.ok:
        raise OffboardError(outcome.message)
    out.print(outcome.message)


def stage_of(stack: str, backend_name: str | None, dry_run: bool = False) -> tuple[Runtime, Customer, str]:
    """What a stage command needs: the runtime, the stack file's values, and the stack's bucket."""
    project = Project.find()
    customer = load_customer(project, stack)
    return Runtime(project, stack, backend_name, dry_run), customer, bucket_name(customer)


Target = Annotated[str, typer.Option("--target", help="staging or production.")]


@db_app.command("export")
def db_export(stack: Stack, delivery: Annotated[str, typer.Option(help="initial or delta.")], backend: Backend = "pulumi") -> None:
    """Export the org's rows of every Connections database into the customer's bucket."""
    runtime, customer, bucket = stage_of(stack, backend)
    with terminal_rows("export", out) as progress:
        figures = db_stages.export(runtime, org_id=customer.org_id, bucket=bucket, delivery=delivery,
                                   source_databases=customer.side("source").databases, progress=progress)
    out.print(f"database delivery {figures['delivery']} in the bucket: {figures['tables']} tables, "
              f"{figures['rows']} rows, {figures['deleted']} deletions; {figures['files_sent']} files sent")


@db_app.command("import")
def db_import(stack: Stack, target: Target, backend: Backend = "pulumi",
              delivery: Annotated[str, typer.Option(help="initial, delta (the newest), delta-N, or all.")] = "initial") -> None:
    """Load committed deliveries from the bucket into the target, each table all or nothing."""
    runtime, customer, bucket = stage_of(stack, backend)
    with terminal_rows(f"import into {target}", out) as progress:
        figures = db_stages.import_(runtime, org_id=customer.org_id, target_org_id=customer.target_org(), bucket=bucket,
                                    delivery=delivery, target=target, target_databases=customer.side(target).databases,
                                    progress=progress)
    out.print(f"imported {', '.join(figures['deliveries'])} into {target}: {figures['rows']} rows, {figures['deleted']} deleted")


@db_app.command("verify")
def db_verify(stack: Stack, target: Target,
              as_json: Annotated[bool, typer.Option("--json", help="The result as JSON.")] = False) -> None:
    """Prove the target holds exactly the org's rows: counts and checksums per table."""
    runtime, customer, _ = stage_of(stack, None)  # reads the last import and the target, never the bucket
    with terminal_rows(f"verify {target}", out) as progress:
        result = db_stages.verify(runtime, org_id=customer.org_id, target_org_id=customer.target_org(), target=target,
                                  target_databases=customer.side(target).databases, progress=progress)
    if as_json:
        print(json.dumps({**dataclasses.asdict(result), "ok": result.ok}, indent=2, default=str))
    else:
        table = Table("table", "expected rows", "found rows", "", title=f"{target} against {result.delivery} ({result.against})")
        for check in result.tables:
            table.add_row(check.table, str(check.expected_rows), "missing" if check.rows is None else str(check.rows), "ok" if check.ok else "[red]DIFFERENT[/red]")
        out.print(table)
    if result.failures:
        raise OffboardError(f"{target} differs from the delivery in {len(result.failures)} tables")
    if result.unmapped_open:
        raise OffboardError(open_refusal(stack, target, result.unmapped_open))


@files_app.command("export")
def files_export(
    stack: Stack,
    delivery: Annotated[str, typer.Option(help="initial or delta.")],
    backend: Backend = "pulumi",
    checksum: Annotated[bool, typer.Option("--checksum", help="Re-hash every file instead of trusting size and mtime.")] = False,
) -> None:
    """Send the org's files (a delta: only what was added or changed) to the bucket as archives."""
    runtime, customer, bucket = stage_of(stack, backend)
    source = customer.side("source")
    with terminal_progress("export", out) as progress:
        figures = files_stages.export(runtime, org_id=customer.org_id, bucket=bucket, delivery=delivery,
                                      source_databases=source.databases, source_stores=source.content_stores,
                                      checksum=checksum, progress=progress)
    out.print(f"files delivery {figures['delivery']} in the bucket: {figures['files']} files, {figures['deleted']} deletions; "
              f"{figures['archives_sent']} archives sent, {figures['archives_resumed']} kept from an earlier run")


@files_app.command("import")
def files_import(stack: Stack, target: Target, backend: Backend = "pulumi",
                 delivery: Annotated[str, typer.Option(help="initial, delta (the newest), delta-N, or all.")] = "initial") -> None:
    """Land committed deliveries under the target's content stores, each archive checked first."""
    runtime, customer, bucket = stage_of(stack, backend)
    with terminal_progress("import", out) as progress:
        side = customer.side(target)
        figures = files_stages.import_(runtime, org_id=customer.org_id, target_org_id=customer.target_org(), bucket=bucket,
                                       delivery=delivery, target=target, target_stores=side.content_stores,
                                       target_databases=side.databases, progress=progress)
    out.print(f"imported {', '.join(figures['deliveries'])} into {target}: {figures['files']} files, {figures['deleted']} deleted")


@files_app.command("verify")
def files_verify(stack: Stack, target: Target, backend: Backend = "pulumi",
                 as_json: Annotated[bool, typer.Option("--json", help="The report as JSON.")] = False) -> None:
    """Prove the target's stores hold exactly the org's files: missing, extra, different."""
    runtime, customer, bucket = stage_of(stack, backend)
    with terminal_progress("verify", out) as progress:
        report = files_stages.verify(runtime, org_id=customer.org_id, target_org_id=customer.target_org(), bucket=bucket,
                                     target=target, target_stores=customer.side(target).content_stores,
                                     target_databases=customer.side(target).databases, progress=progress)
    if as_json:
        print(json.dumps(report.to_json(), indent=2))
    else:
        out.print(report_table(report))
    if not report.ok:
        raise OffboardError(f"{target} differs from the deliveries: {len(report.missing)} missing, "
                            f"{len(report.extra)} extra, {len(report.different)} different")


@app.command("verify")
def verify(stack: Stack, target: Target, backend: Backend = "pulumi") -> None:
    """Files and rows of the target against every committed delivery; exit 0 only when equal."""
    runtime, customer, bucket = stage_of(stack, backend)
    side = customer.side(target)
    verification = verify_target(runtime, org_id=customer.org_id, target_org_id=customer.target_org(), bucket=bucket,
                                 target=target, target_stores=side.content_stores, target_databases=side.databases)
    out.print(report_table(verification.files))
    out.print(json.dumps(verification.figures()))
    require_equal(verification)
    out.print(f"[green]{target} holds exactly the org's files and rows[/green]")


@sample_app.command("create")
def sample_create(
    directory: Annotated[Path, typer.Argument(help="An empty or new folder.")],
    orgs: Annotated[int, typer.Option(help="How many orgs share the source.")] = 3,
    seed: Annotated[int, typer.Option(help="Same seed, same sample.")] = 0,
    scale: Annotated[int, typer.Option(help="Rows and files per org, times this.")] = 1,
    stack: Annotated[str | None, typer.Option(help="Also write stacks/Pulumi.<stack>.yaml for the first org.")] = None,
    engine: Annotated[str, typer.Option(help="sqlite (a file per Connections database) or postgresql.")] = "sqlite",
    server: Annotated[str | None, typer.Option(
        help="PostgreSQL server URL (postgresql+psycopg://user:${VARIABLE}@host/postgres); "
             "without it, a throwaway cluster under DIRECTORY.")] = None,
) -> None:
    """Create a multi-tenant Connections source with empty staging and production targets."""
    project = Project.find() if stack else None
    layout = create_sample(directory, orgs=orgs, seed=seed, scale=scale, engine=engine, server=server,
                           catalog_path=project.runbooks_dir / db_stages.CATALOG if project else None)
    out.print(f"sample in {layout.root}: orgs {', '.join(layout.org_ids)}")
    if (layout.root / CLUSTER_FOLDER).is_dir():
        out.print(f"its PostgreSQL cluster runs in {layout.root / CLUSTER_FOLDER}: "
                  f"`offboard sample stop {directory}` stops it, `offboard sample start {directory}` starts it again")
    if project:
        out.print(f"stack file for org {layout.org_ids[0]}: {write_stack(project, stack, layout, layout.org_ids[0])}")


@sample_app.command("start")
def sample_start(directory: Annotated[Path, typer.Argument(help="The sample's folder.")]) -> None:
    """Start the sample's own PostgreSQL cluster again (after `sample stop` or a restart)."""
    folder = directory.resolve() / CLUSTER_FOLDER
    if not Cluster(folder).data.is_dir():
        raise OffboardError(f"{directory} holds no PostgreSQL cluster of a sample's own")
    out.print(f"PostgreSQL cluster running in {start_cluster(folder).folder}")


@sample_app.command("stop")
def sample_stop(directory: Annotated[Path, typer.Argument(help="The sample's folder.")]) -> None:
    """Stop the sample's own PostgreSQL cluster (also one a killed `sample create` left running)."""
    folder = directory.resolve() / CLUSTER_FOLDER
    out.print(f"PostgreSQL cluster in {folder} stopped" if stop_cluster(folder) else f"no PostgreSQL cluster runs in {folder}")


@sample_app.command("mutate")
def sample_mutate(
    directory: Annotated[Path, typer.Argument(help="The sample's folder.")],
    org: Annotated[str, typer.Option(help="The org to change.")],
    seed: Annotated[int, typer.Option(help="Same seed, same changes.")] = 1,
) -> None:
    """Change one org as the weeks before cut-over do: rows and files added, edited, deleted."""
    changes = mutate_org(directory, org, seed)
    counts = [sum(len(getattr(c, kind)) for c in changes.values()) for kind in ("inserted", "updated", "deleted")]
    out.print(f"org {org}: {counts[0]} rows inserted, {counts[1]} updated, {counts[2]} deleted")


@app.command("teardown")
def teardown(
    stack: Stack,
    backend: Backend = "pulumi",
    force: Annotated[bool, typer.Option("--force", help="Tear down before the delta is verified and confirmed.")] = False,
    reason: Annotated[str | None, typer.Option(help="Why, with --force; written into the journal.")] = None,
) -> None:
    """Archive the proof, empty and remove the bucket, revoke the key and prove it is refused."""
    runtime, _, bucket = stage_of(stack, backend)
    figures = teardown_command(runtime, bucket=bucket, force=force, reason=reason)
    if figures.get("already"):
        out.print(f"stack {stack} was already torn down at {figures['finished']}; archive {figures['archive']}")
        return
    out.print(f"stack {stack} torn down: {figures['objects_deleted']} object versions deleted, bucket and key removed, "
              f"the old key is refused")
    out.print(f"archive {figures['archive']} (sha256 {figures['sha256']})")


@app.command("report")
def report_command(stack: Stack) -> None:
    """Write the migration report (HTML and Markdown): timeline, figures, verification."""
    project = Project.find()
    html, markdown = write_report(project, load_customer(project, stack))
    out.print(f"report: {html}\nmarkdown: {markdown}")


@app.command("fleet")
def fleet(as_json: Annotated[bool, typer.Option("--json", help="One object per stack.")] = False) -> None:
    """Every stack of stacks/: customer, org, delivery, current step, waiting on whom, since when."""
    rows = runbook_fleet.fleet(Project.find())
    if as_json:
        print(json.dumps([row.model_dump(mode="json") for row in rows], indent=2))
        return
    table = Table("stack", "customer", "org", "delivery", "step", "status", "waiting on", "since", title="offboarding fleet")
    for row in rows:
        since = f"{row.since:%Y-%m-%d %H:%M} UTC" if row.since else ""
        table.add_row(row.stack, row.customer or f"[red]{row.problem}[/red]", row.org_id, row.delivery, row.step,
                      row.status, row.waiting_on, since)
    out.print(table)


def main() -> None:
    """Run the CLI: a user's mistake, or a bug, is one scrubbed line on stderr and exit 1, never a traceback."""
    with one_line_on_error("offboard"):
        app()  # usage errors are Typer's own: a message and exit 2


if __name__ == "__main__":
    main()
