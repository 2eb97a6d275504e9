"""`offboard local ...`: the embedded S3/IAM endpoint on 127.0.0.1."""

from __future__ import annotations

from pathlib import Path

import typer

from offboard.cli.common import out

app = typer.Typer(no_args_is_help=True, help="The embedded S3/IAM endpoint on 127.0.0.1.")


def state_folder() -> Path:
    from offboard.project import Project

    return Project.find().state_dir / "local"


@app.command("start")
def local_start() -> None:
    """Start the embedded endpoint in the background (reuses a running one)."""
    from offboard.infra import endpoint as local_endpoint

    endpoint = local_endpoint.start(state_folder())
    out.print(f"embedded endpoint running at {endpoint.url} (pid {endpoint.pid})")


@app.command("stop")
def local_stop() -> None:
    """Stop the embedded endpoint; everything on it is gone."""
    from offboard.infra import endpoint as local_endpoint

    stopped = local_endpoint.stop(state_folder())
    out.print("embedded endpoint stopped" if stopped else "no embedded endpoint was running")


@app.command("status")
def local_status() -> None:
    """Say whether the embedded endpoint runs, and where."""
    from offboard.infra import endpoint as local_endpoint

    endpoint = local_endpoint.running(state_folder())
    out.print(f"embedded endpoint running at {endpoint.url} (pid {endpoint.pid})")
