"""`offboard files ...`: the org's binary files: export, import, verify."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from offboard.cli.by_hand import OutsideRunbook, Reason, by_hand
from offboard.cli.common import Backend, Stack, Target, out, stage_of

app = typer.Typer(no_args_is_help=True, help="The org's binary files: export, import, verify.")


@app.command("export")
def files_export(
    stack: Stack,
    delivery: Annotated[str, typer.Option(help="initial or delta.")],
    backend: Backend = None,
    checksum: Annotated[bool, typer.Option("--checksum", help="Re-hash every file instead of trusting size and mtime.")] = False,
    outside_runbook: OutsideRunbook = False,
    reason: Reason = None,
) -> None:
    """Send the org's files (a delta: only what was added or changed) to the bucket as archives."""
    from offboard.files import stages as files_stages
    from offboard.files.progress import terminal_progress

    runtime, customer, bucket = stage_of(stack, backend)
    source = customer.side("source")

    def export() -> dict:
        with terminal_progress("export", out) as progress:
            return files_stages.export(runtime, org_id=customer.org_id, bucket=bucket, delivery=delivery,
                                       source_databases=source.databases, source_stores=source.content_stores,
                                       checksum=checksum, progress=progress)

    figures = by_hand("files export", stack, export, backend=backend, args={"delivery": delivery},
                      flags=("--checksum",) if checksum else (), outside_runbook=outside_runbook, reason=reason)
    out.print(f"files delivery {figures['delivery']} in the bucket: {figures['files']} files, {figures['deleted']} deletions; "
              f"{figures['archives_sent']} archives sent, {figures['archives_resumed']} kept from an earlier run")


@app.command("import")
def files_import(stack: Stack, target: Target, backend: Backend = None,
                 delivery: Annotated[str, typer.Option(help="initial, delta (the newest), delta-N, or all.")] = "initial",
                 outside_runbook: OutsideRunbook = False, reason: Reason = None) -> None:
    """Land committed deliveries under the target's content stores, each archive checked first."""
    from offboard.files import stages as files_stages
    from offboard.files.progress import terminal_progress

    runtime, customer, bucket = stage_of(stack, backend)
    side, target_org_id = customer.side(target), customer.target_org()

    def import_() -> dict:
        with terminal_progress("import", out) as progress:
            return files_stages.import_(runtime, org_id=customer.org_id, target_org_id=target_org_id, bucket=bucket,
                                        delivery=delivery, target=target, target_stores=side.content_stores,
                                        target_databases=side.databases, progress=progress)

    figures = by_hand("files import", stack, import_, backend=backend, args={"target": target, "delivery": delivery},
                      outside_runbook=outside_runbook, reason=reason)
    out.print(f"imported {', '.join(figures['deliveries'])} into {target}: {figures['files']} files, {figures['deleted']} deleted")


@app.command("verify")
def files_verify(stack: Stack, target: Target, backend: Backend = None,
                 as_json: Annotated[bool, typer.Option("--json", help="The report as JSON.")] = False) -> None:
    """Prove the target's stores hold exactly the org's files: missing, extra, different."""
    from offboard.errors import OffboardError
    from offboard.files import stages as files_stages
    from offboard.files.progress import terminal_progress
    from offboard.files.verify import report_table

    runtime, customer, bucket = stage_of(stack, backend)
    side, target_org_id = customer.side(target), customer.target_org()

    def verify() -> dict:
        with terminal_progress("verify", out) as progress:
            report = files_stages.verify(runtime, org_id=customer.org_id, target_org_id=target_org_id, bucket=bucket,
                                         target=target, target_stores=side.content_stores,
                                         target_databases=side.databases, progress=progress)
        if as_json:
            print(json.dumps(report.to_json(), indent=2))
        else:
            out.print(report_table(report))
        if not report.ok:
            raise OffboardError(f"{target} differs from the deliveries: {report.missing_count} missing, "
                                f"{report.extra_count} extra, {report.different_count} different")
        return {"target": target, "files": report.expected}

    by_hand("files verify", stack, verify, backend=backend, args={"target": target}, changes=False)
