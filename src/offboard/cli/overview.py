"""The commands of the whole migration rather than one stage: demo, verify, teardown, report, fleet."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from offboard.cli.common import AsJson, Backend, Stack, Target, out, stage_of, warn


def register(app: typer.Typer) -> None:
    for command in (demo, verify, teardown, report_command, fleet):
        app.command(command.__name__.removesuffix("_command"))(command)


def demo(
    workdir: Annotated[Path, typer.Option(help="Where the demo works (made anew).")] = Path(".offboard/demo"),
    orgs: Annotated[int, typer.Option(help="Orgs in the sample source; the first one moves.")] = 3,
    size: Annotated[str, typer.Option(help="small or medium.")] = "small",
    engine: Annotated[str, typer.Option(help="sqlite, or postgresql on a throwaway cluster in the work folder.")] = "sqlite",
) -> None:
    """The whole off-boarding of one org on the embedded endpoint, from provisioning to teardown."""
    from offboard.demo import run_demo
    from offboard.errors import OffboardError
    from offboard.project import Project

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


def verify(stack: Stack, target: Target, backend: Backend = None, as_json: AsJson = False) -> None:
    """Files and rows of the target against every committed delivery; exit 0 only when equal."""
    from offboard.cli.by_hand import by_hand
    from offboard.files.verify import report_table
    from offboard.verify import require_equal, verify_target

    runtime, customer, bucket = stage_of(stack, backend)
    side = customer.side(target)

    def prove() -> dict:
        verification = verify_target(runtime, org_id=customer.org_id, target_org_id=customer.target_org(), bucket=bucket,
                                     target=target, target_stores=side.content_stores, target_databases=side.databases)
        if as_json:
            print(json.dumps({"ok": verification.ok and not verification.rows.unmapped_open, "figures": verification.figures(),
                              "files": verification.files.to_json(),
                              "rows": {**dataclasses.asdict(verification.rows), "ok": verification.rows.ok}}, indent=2, default=str))
        else:
            out.print(report_table(verification.files))
            out.print(json.dumps(verification.figures()))
        return require_equal(verification)

    by_hand("verify", stack, prove, backend=backend, args={"target": target}, changes=False)
    if not as_json:
        out.print(f"[green]{target} holds exactly the org's files and rows[/green]")


def teardown(
    stack: Stack,
    backend: Backend = None,
    force: Annotated[bool, typer.Option("--force", help="Tear down before the delta is verified and confirmed.")] = False,
    reason: Annotated[str | None, typer.Option(help="Why, with --force; written into the journal.")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Say what teardown would delete, and whether it may; change nothing.")] = False,
) -> None:
    """Archive the proof, empty and remove the bucket, revoke the key and prove it is refused."""
    from offboard.teardown import teardown_command

    runtime, _, bucket = stage_of(stack, backend, dry_run)
    figures = teardown_command(runtime, bucket=bucket, force=force, reason=reason)
    if dry_run and not figures.get("already"):
        out.print(f"teardown of stack {stack} would archive {figures['proof_objects']} proof objects, delete "
                  f"{figures['versions_to_delete']} object versions of bucket {bucket}, remove it and user "
                  f"{figures['user_and_key_to_remove']} with its key, and remove here what still holds the org's rows or the "
                  f"key ({', '.join(figures['local_to_remove']) or 'nothing'}); nothing was changed")
        out.print(f"{figures['refused']}; --force --reason TEXT would override it" if figures["refused"]
                  else "its gate is open: `offboard teardown` may run")
        return
    if figures.get("already"):
        out.print(f"stack {stack} was already torn down at {figures['finished']}; archive {figures['archive']}")
        return
    out.print(f"stack {stack} torn down: {figures['objects_deleted']} object versions deleted, bucket and key removed, "
              f"the old key is refused; removed here: {', '.join(figures['local_removed']) or 'nothing'}")
    out.print(f"archive {figures['archive']} (sha256 {figures['sha256']})")


def report_command(
    stack: Stack,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report's facts and the two files' paths as JSON.")] = False,
) -> None:
    """Write the migration report for the customer (HTML and Markdown): summary, timeline, confirmations,
    failures, verification, teardown's proof, figures."""
    from offboard.customer import load_customer
    from offboard.project import Project
    from offboard.report import report_facts, write_report

    project = Project.find()
    customer = load_customer(project, stack)
    facts = report_facts(project, customer)
    html, markdown = write_report(project, customer, facts)
    if as_json:
        print(json.dumps({"html": str(html), "markdown": str(markdown), "facts": facts.model_dump(mode="json")}, indent=2))
        return
    out.print(f"report: {html}\nmarkdown: {markdown}")


def fleet(as_json: Annotated[bool, typer.Option("--json", help="One object per stack.")] = False) -> None:
    """Every stack of stacks/: customer, org, delivery, current step, waiting on whom, since when."""
    from offboard.project import Project
    from offboard.runbook import fleet as runbook_fleet

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
    for row in rows:
        if row.customer and row.problem:  # a bucket gone with the embedded endpoint
            warn(row.problem)
