"""`offboard db ...`: the org's database rows: export, import, verify (fix-up: offboard.cli.fixup)."""

from __future__ import annotations

import dataclasses
import json
from typing import Annotated

import typer
from rich.table import Table

from offboard.cli.by_hand import OutsideRunbook, Reason, by_hand
from offboard.cli.common import Backend, Stack, Target, out, stage_of

app = typer.Typer(no_args_is_help=True, help="The org's database rows: export, import, fix-up, verify.")


@app.command("export")
def db_export(stack: Stack, delivery: Annotated[str, typer.Option(help="initial or delta.")], backend: Backend = None,
              outside_runbook: OutsideRunbook = False, reason: Reason = None) -> None:
    """Export the org's rows of every Connections database into the customer's bucket."""
    from offboard.db import stages as db_stages
    from offboard.db.progress import terminal_rows

    runtime, customer, bucket = stage_of(stack, backend)
    source = customer.side("source")

    def export() -> dict:
        with terminal_rows("export", out) as progress:
            return db_stages.export(runtime, org_id=customer.org_id, bucket=bucket, delivery=delivery,
                                    source_databases=source.databases, progress=progress)

    figures = by_hand("db export", stack, export, backend=backend, args={"delivery": delivery},
                      outside_runbook=outside_runbook, reason=reason)
    out.print(f"database delivery {figures['delivery']} in the bucket: {figures['tables']} tables, "
              f"{figures['rows']} rows, {figures['deleted']} deletions; {figures['files_sent']} files sent")


@app.command("import")
def db_import(stack: Stack, target: Target, backend: Backend = None,
              delivery: Annotated[str, typer.Option(help="initial, delta (the newest), delta-N, or all.")] = "initial",
              outside_runbook: OutsideRunbook = False, reason: Reason = None) -> None:
    """Load committed deliveries from the bucket into the target, each table all or nothing."""
    from offboard.db import stages as db_stages
    from offboard.db.progress import terminal_rows

    runtime, customer, bucket = stage_of(stack, backend)
    side, target_org_id = customer.side(target), customer.target_org()

    def import_() -> dict:
        with terminal_rows(f"import into {target}", out) as progress:
            return db_stages.import_(runtime, org_id=customer.org_id, target_org_id=target_org_id, bucket=bucket,
                                     delivery=delivery, target=target, target_databases=side.databases, progress=progress)

    figures = by_hand("db import", stack, import_, backend=backend, args={"target": target, "delivery": delivery},
                      outside_runbook=outside_runbook, reason=reason)
    out.print(f"imported {', '.join(figures['deliveries'])} into {target}: {figures['rows']} rows, {figures['deleted']} deleted")


@app.command("verify")
def db_verify(stack: Stack, target: Target,
              as_json: Annotated[bool, typer.Option("--json", help="The result as JSON.")] = False,
              backend: Backend = None) -> None:
    """Prove the target holds exactly the org's rows: counts and checksums per table."""
    from offboard.db import stages as db_stages
    from offboard.db.progress import terminal_rows
    from offboard.errors import OffboardError
    from offboard.fixup.unmapped import open_refusal

    runtime, customer, _ = stage_of(stack, None)  # reads the last import and the target, never the bucket
    side, target_org_id = customer.side(target), customer.target_org()

    def verify() -> dict:
        with terminal_rows(f"verify {target}", out) as progress:
            result = db_stages.verify(runtime, org_id=customer.org_id, target_org_id=target_org_id, target=target,
                                      target_databases=side.databases, progress=progress)
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
        return {"target": target, "delivery": result.delivery, "tables": len(result.tables),
                "rows": sum(check.expected_rows for check in result.tables)}

    by_hand("db verify", stack, verify, backend=backend, args={"target": target}, changes=False)
