"""`offboard catalog ...`: the catalog of Connections databases against the live ones. Thin, as
the rest of the command line: parse, call offboard.db.check, print."""

from __future__ import annotations

import json
from enum import Enum
from typing import Annotated

import typer


app = typer.Typer(no_args_is_help=True, help="The catalog against the live databases and content stores.")
Side = Enum("Side", {name: name for name in ("source", "staging", "production")}, type=str)  # a wrong --target is a usage error (exit 2)


@app.command("check")
def check(
    stack: Annotated[str, typer.Argument(help="The stack: stacks/Pulumi.<stack>.yaml.")],
    target: Annotated[Side | None, typer.Option(
        "--target", help="source, staging or production alone; without it the source, both targets and the "
                         "drift between the source and each target.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="The result as one JSON document.")] = False,
    backend: Annotated[str | None, typer.Option("--backend", "-b", envvar="OFFBOARD_BACKEND",
                                         help="Accepted as by every stack command; the check reaches no bucket.")] = None,
) -> None:
    """Compare the live schemas and the org's binaries with the catalog; exit 0 only when nothing blocks."""
    from offboard.customer import SIDES, load_customer
    from offboard.db import check as catalog_check
    from offboard.errors import OffboardError
    from offboard.project import Project

    project = Project.find()
    customer = load_customer(project, stack)
    result = catalog_check.check_customer(project, customer, [target.value] if target else SIDES, required=target is not None)
    if as_json:
        print(json.dumps(result.to_json(), indent=2))
    else:
        for finding in result.ordered():
            print(finding.line())
        print(result.summary())
    if result.blocks:
        raise OffboardError(f"the catalog check of stack {stack} found {len(result.blocks)} blocking: "
                            f"{result.blocks[0].line()}")
