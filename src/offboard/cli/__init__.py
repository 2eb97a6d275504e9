"""The `offboard` command: parse, call one function, print. No logic of its own.

One module per command group; each loads the project's heavier modules only when one of its
commands runs, so `offboard --help` answers at once."""

from __future__ import annotations

from typing import Annotated

import typer
import typer.core

from offboard.cli import catalog, check, db, files, fixup, handover, local, overview, records, runbook, sample, stack
from offboard.cli import init
from offboard.errors import one_line_on_error

app = typer.Typer(no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Move one customer organization out of IBM Connections Cloud.")
app.add_typer(stack.app, name="stack")
app.add_typer(local.app, name="local")
app.add_typer(runbook.app, name="runbook")
runbook.app.command("record")(records.record)
runbook.app.command("handover")(handover.handover)
app.add_typer(db.app, name="db")
db.app.add_typer(fixup.app)  # db fixup, db accept-unmapped
app.add_typer(files.app, name="files")
app.add_typer(sample.app, name="sample")
app.add_typer(catalog.app, name="catalog")
overview.register(app)  # demo, verify, teardown, report, fleet
app.command("init")(init.init)
check.register(app)  # check: the preflight


def show_version(asked: bool) -> None:
    if asked:
        from importlib.metadata import version

        print(f"offboard {version('connections-offboard')}")
        raise typer.Exit()


@app.callback()
def everything(version: Annotated[bool, typer.Option("--version", callback=show_version, is_eager=True,
                                                     help="Print the version and exit.")] = False) -> None:
    """Move one customer organization out of IBM Connections Cloud."""


def flag_shows_no_value(shown_type):
    """Typer's help lists a type beside every option, `<bool>` for a flag too, which reads as if
    `--dry-run` took a value: a flag shows none."""
    def display(option, ctx):
        return None if option.is_flag else shown_type(option, ctx)
    return display


typer.core.TyperOption.display_type_rich = flag_shows_no_value(typer.core.TyperOption.display_type_rich)


def main() -> None:
    """Run the CLI: a user's mistake, or a bug, is one scrubbed line on stderr and exit 1, never a traceback."""
    with one_line_on_error("offboard"):
        app()  # usage errors are Typer's own: a message and exit 2
