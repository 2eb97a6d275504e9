"""`offboard check <stack>`: the preflight (offboard.preflight), one line per problem. Thin, as the
rest of the command line: parse, call, print."""

from __future__ import annotations

import json

import typer

from offboard.cli.common import AsJson, Backend, Stack


def register(app: typer.Typer) -> None:
    app.command("check")(check)


def check(stack: Stack, as_json: AsJson = False, backend: Backend = None) -> None:
    """Variables, databases, content stores, user mapping, backend, key and catalog, before a delivery
    runs: one line per problem; exit 0 when nothing blocks (warnings may remain)."""
    from offboard.customer import load_customer
    from offboard.errors import OffboardError
    from offboard.infra.provisioned import stack_backend
    from offboard.preflight import check_stack
    from offboard.project import Project

    project = Project.find()
    report = check_stack(project, load_customer(project, stack), stack_backend(project, stack, backend))
    if as_json:
        print(json.dumps(report.to_json(), indent=2))
    else:
        for finding in report.ordered():
            print(finding.line())
        print(report.summary())
    if report.blocks:
        raise OffboardError(f"the preflight of stack {stack} found {len(report.blocks)} blocking: {report.blocks[0].line()}")
