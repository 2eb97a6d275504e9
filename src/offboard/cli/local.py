"""`offboard local ...`: the embedded S3/IAM endpoint on 127.0.0.1."""

from __future__ import annotations

import typer

from offboard.cli.common import out, warn

app = typer.Typer(no_args_is_help=True, help="The embedded S3/IAM endpoint on 127.0.0.1.")


@app.command("start")
def local_start() -> None:
    """Start the embedded endpoint in the background (reuses a running one)."""
    from offboard.infra import endpoint as local_endpoint
    from offboard.project import Project

    project = Project.find()
    endpoint = local_endpoint.start(project.state_dir / "local")
    out.print(f"embedded endpoint running at {endpoint.url} (pid {endpoint.pid}, started {endpoint.started})")
    say_gone(project)


@app.command("stop")
def local_stop() -> None:
    """Stop the embedded endpoint; everything on it is gone."""
    from offboard.infra import endpoint as local_endpoint
    from offboard.project import Project

    project = Project.find()
    stopped = local_endpoint.stop(project.state_dir / "local")
    out.print("embedded endpoint stopped" if stopped else "no embedded endpoint was running")
    say_gone(project)


@app.command("status")
def local_status() -> None:
    """Say whether the embedded endpoint runs, and where."""
    from offboard.infra import endpoint as local_endpoint
    from offboard.project import Project

    endpoint = local_endpoint.running(Project.find().state_dir / "local")
    out.print(f"embedded endpoint running at {endpoint.url} (pid {endpoint.pid}, started {endpoint.started})")


def say_gone(project) -> None:
    """One warning per stack whose bucket went with an earlier start of the endpoint."""
    from offboard.infra.embedded import gone

    for stack in project.stack_names():
        lost = gone(project, stack)
        if lost:
            warn(lost)
