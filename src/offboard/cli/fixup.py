"""`offboard db fixup` and `offboard db accept-unmapped`: the fix-up of a target, and the operator's
decision on the users it could not map. Thin, as the rest of the command line: parse, call
offboard.fixup, print. Its commands join the `db` group."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from offboard.cli.by_hand import OutsideRunbook, Reason, by_hand
from offboard.cli.common import AsJson, Backend, Stack, out, warn

if TYPE_CHECKING:
    from offboard.fixup.report import FixupReport, Unmapped

app = typer.Typer()


@app.command("fixup")
def fixup(
    stack: Stack,
    target: Annotated[str, typer.Option("--target", help="staging or production.")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Count what would change; change nothing.")] = False,
    as_json: AsJson = False,
    backend: Backend = None,
    outside_runbook: OutsideRunbook = False,
    reason: Reason = None,
) -> None:
    """Rewrite cloud hosts, the org id and user ids in the org's rows of the target; list the users it could not map."""
    from offboard.customer import load_customer
    from offboard.db.progress import terminal_rows
    from offboard.fixup import stage
    from offboard.project import Project
    from offboard.runtime import Runtime

    project = Project.find()
    customer = load_customer(project, stack)
    settings = customer.fixup_settings()
    side, target_org_id = customer.side(target), customer.target_org()

    def fix() -> FixupReport:
        with terminal_rows(f"fix-up of {target}", Console(stderr=True) if as_json else out) as progress:  # JSON alone on stdout
            return stage.fixup(Runtime(project, stack, None, dry_run),  # the fix-up never reaches the bucket
                               org_id=customer.org_id, target_org_id=target_org_id, target=target,
                               target_databases=side.databases, target_stores=side.content_stores,
                               cloud_hosts=settings.cloud_hosts,
                               msp_host=settings.msp_host, user_mapping=str(settings.user_mapping), route=settings.route,
                               progress=progress)

    report = by_hand("db fixup", stack, fix, backend=backend, args={"target": target}, dry_run=dry_run,
                     outside_runbook=outside_runbook, reason=reason)
    if as_json:
        print(json.dumps(report.model_dump(mode="json"), indent=2))
        return
    table = Table("table", "column", "rows", "hosts", "users", "orgs", title=f"fix-up of {target}{' (dry run)' if dry_run else ''}")
    for fixed in report.tables:
        for column in fixed.columns:
            table.add_row(fixed.table, column.column, str(column.rows), str(column.hosts), str(column.users), str(column.orgs))
    out.print(table)
    for user in report.unmapped:
        out.print(Text.assemble(("unmapped user ", "yellow"), unmapped_line(user)))
    out.print(f"{report.changed_rows} rows {'would change' if dry_run else 'changed'}; {len(report.unmapped)} users unmapped; "
              f"{len(report.merged)} people merged; {len(report.guests)} guests")
    if report.files or report.files_left:
        left = ", ".join(f"{len(names)} {reason.replace('_', ' ')}" for reason, names in sorted(report.files_left.items()))
        out.print(f"{len(report.files)} files hold the fix-up's links ({sum(f.links for f in report.files)} links)"
                  + (f"; left as they were: {left}" if left else ""))


@app.command("accept-unmapped")
def accept(
    stack: Stack,
    target: Annotated[str, typer.Argument(help="staging or production.")],
    ids: Annotated[Path, typer.Option("--ids", help="A file of the ids to accept, one a line; # starts a comment.")],
    reason: Annotated[str, typer.Option("--reason", help="Why they stay unmapped (they left the company, say).")],
    by: Annotated[str, typer.Option("--by", help="Who accepts.")],
    backend: Annotated[str | None, typer.Option("--backend", "-b", envvar="OFFBOARD_BACKEND",
                                         help="Where the stack lives: the journal is copied into its bucket.")] = None,
    as_json: AsJson = False,
) -> None:
    """Accept users the last fix-up of the target could not map, in the journal; verify then passes over them."""
    from offboard.fixup.acceptance import accept_unmapped, read_ids
    from offboard.project import Project

    accepted = accept_unmapped(Project.find(), stack, target, read_ids(ids), reason=reason, by=by, backend=backend)
    if accepted.warning:
        warn(accepted.warning)
    facts = accepted.facts
    if as_json:
        print(json.dumps({"accepted": accepted.line.model_dump(mode="json"), "unmapped_open": facts.open,
                          "unmapped_accepted": facts.accepted}, indent=2))
        return
    out.print(Text(f"{len(accepted.line.ids)} unmapped user ids of {target} accepted by {accepted.line.confirmed_by}: "
                   f"{accepted.line.reason}"))
    for decision in facts.decisions:
        if decision.acceptance is None:
            out.print(Text.assemble(("still open ", "yellow"), unmapped_line(decision.user)))
    out.print(f"{len(facts.open)} still open, {len(facts.accepted)} accepted in the last fix-up of {target}")


def unmapped_line(user: Unmapped) -> str:
    """An unmapped id and where it stands: table.column and the org's rows there."""
    return f"{user.id} in {', '.join(f'{place.table}.{place.column} ({place.rows} rows)' for place in user.places)}"
