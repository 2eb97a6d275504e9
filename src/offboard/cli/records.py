"""`offboard runbook record`: the stack's case and ticket numbers and the agreed cut-over date."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from offboard.cli.common import AsJson, Backend, Stack, out, warn


def record(
    stack: Stack,
    case: Annotated[list[str] | None, typer.Option(
        "--case", metavar="[DELIVERY=]NUMBER",
        help="A delivery's support case: initial=, delta=, or alone the delivery in progress. Repeatable.")] = None,
    ticket: Annotated[list[str] | None, typer.Option(
        "--ticket", metavar="NAME=NUMBER", help="A ticket: box-folder, customizer, transfer or delta. Repeatable.")] = None,
    cutover: Annotated[str | None, typer.Option("--cutover", metavar="YYYY-MM-DD",
                                                help="The agreed cut-over date (today or later).")] = None,
    by: Annotated[str | None, typer.Option("--by", metavar="NAME", help="Who records (needed with a value).")] = None,
    backend: Backend = None,
    as_json: AsJson = False,
) -> None:
    """Record case and ticket numbers and the cut-over date for the texts and the report; alone, show them."""
    from offboard.project import Project
    from offboard.runbook import records

    done = records.record(Project.find(), stack, cases=case or [], tickets=ticket or [], cutover=cutover, by=by, backend=backend)
    if done.warning:
        warn(done.warning)
    if as_json:
        print(json.dumps(done.records.model_dump(mode="json"), indent=2))
        return
    for name, reference in shown(done.records):
        out.print(f"{name}: {reference}", highlight=False)


def shown(records) -> list[tuple[str, str]]:
    """Every reference with its value and who recorded it when, or that it is not recorded."""
    from offboard.runbook.records import CASES, NOT_RECORDED, TICKETS

    def said(reference) -> str:
        return f"{reference.value} ({reference.by}, {reference.at:%Y-%m-%d %H:%M} UTC, {reference.via})" if reference else NOT_RECORDED

    return [*((f"case {name}", said(records.cases.get(name))) for name in CASES),
            *((f"ticket {name}", said(records.tickets.get(name))) for name in TICKETS),
            ("cut-over date", said(records.cutover))]
