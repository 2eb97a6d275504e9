"""The `offboard` command: parse, call one function, print. No logic of its own.

One module per command group; each loads the project's heavier modules only when one of its
commands runs, so `offboard --help` answers at once."""

from __future__ import annotations

import typer

from offboard.cli import catalog, db, files, fixup, local, overview, runbook, sample, stack
from offboard.errors import one_line_on_error

app = typer.Typer(no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
                  help="Move one customer organization out of IBM Connections Cloud.")
app.add_typer(stack.app, name="stack")
app.add_typer(local.app, name="local")
app.add_typer(runbook.app, name="runbook")
app.add_typer(db.app, name="db")
db.app.add_typer(fixup.app)  # db fixup, db accept-unmapped
app.add_typer(files.app, name="files")
app.add_typer(sample.app, name="sample")
app.add_typer(catalog.app, name="catalog")
overview.register(app)  # demo, verify, teardown, report, fleet


def main() -> None:
    """Run the CLI: a user's mistake, or a bug, is one scrubbed line on stderr and exit 1, never a traceback."""
    with one_line_on_error("offboard"):
        app()  # usage errors are Typer's own: a message and exit 2
