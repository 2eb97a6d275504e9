"""`offboard sample ...`: a synthetic multi-tenant Connections source to try the tool on."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from offboard.cli.common import out

app = typer.Typer(no_args_is_help=True, help="A synthetic multi-tenant Connections source.")


@app.command("create")
def sample_create(
    directory: Annotated[Path, typer.Argument(help="An empty or new folder.")],
    orgs: Annotated[int, typer.Option(help="How many orgs share the source.")] = 3,
    seed: Annotated[int, typer.Option(help="Same seed, same sample.")] = 0,
    scale: Annotated[int, typer.Option(help="Rows and files per org, times this.")] = 1,
    stack: Annotated[str | None, typer.Option(help="Also write stacks/Pulumi.<stack>.yaml for the first org.")] = None,
    engine: Annotated[str, typer.Option(help="sqlite (a file per Connections database) or postgresql.")] = "sqlite",
    server: Annotated[str | None, typer.Option(
        help="PostgreSQL server URL (postgresql+psycopg://user:${VARIABLE}@host/postgres); "
             "without it, a throwaway cluster under DIRECTORY.")] = None,
) -> None:
    """Create a multi-tenant Connections source with empty staging and production targets."""
    from offboard.db import stages as db_stages
    from offboard.project import Project
    from offboard.sample import create_sample
    from offboard.sample.layout import CLUSTER_FOLDER
    from offboard.sample.stack import check_new_stack, write_stack

    project = Project.find() if stack else None
    if project:
        check_new_stack(project, stack)  # before the sample is made, not after
    layout = create_sample(directory, orgs=orgs, seed=seed, scale=scale, engine=engine, server=server,
                           catalog_path=project.runbooks_dir / db_stages.CATALOG if project else None)
    out.print(f"sample in {layout.root}: orgs {', '.join(layout.org_ids)}")
    if (layout.root / CLUSTER_FOLDER).is_dir():
        out.print(f"its PostgreSQL cluster runs in {layout.root / CLUSTER_FOLDER}: "
                  f"`offboard sample stop {directory}` stops it, `offboard sample start {directory}` starts it again")
    if project:
        out.print(f"stack file for org {layout.org_ids[0]}: {write_stack(project, stack, layout, layout.org_ids[0])}")


@app.command("start")
def sample_start(directory: Annotated[Path, typer.Argument(help="The sample's folder.")]) -> None:
    """Start the sample's own PostgreSQL cluster again (after `sample stop` or a restart)."""
    from offboard.errors import OffboardError
    from offboard.sample.cluster import Cluster, start_cluster
    from offboard.sample.layout import CLUSTER_FOLDER

    folder = directory.resolve() / CLUSTER_FOLDER
    if not Cluster(folder).data.is_dir():
        raise OffboardError(f"{directory} holds no PostgreSQL cluster of a sample's own")
    out.print(f"PostgreSQL cluster running in {start_cluster(folder).folder}")


@app.command("stop")
def sample_stop(directory: Annotated[Path, typer.Argument(help="The sample's folder.")]) -> None:
    """Stop the sample's own PostgreSQL cluster (also one a killed `sample create` left running)."""
    from offboard.sample.cluster import stop_cluster
    from offboard.sample.layout import CLUSTER_FOLDER

    folder = directory.resolve() / CLUSTER_FOLDER
    out.print(f"PostgreSQL cluster in {folder} stopped" if stop_cluster(folder) else f"no PostgreSQL cluster runs in {folder}")


@app.command("mutate")
def sample_mutate(
    directory: Annotated[Path, typer.Argument(help="The sample's folder.")],
    org: Annotated[str, typer.Option(help="The org to change.")],
    seed: Annotated[int, typer.Option(help="Same seed, same changes.")] = 1,
) -> None:
    """Change one org as the weeks before cut-over do: rows and files added, edited, deleted."""
    from offboard.sample import mutate_org

    changes = mutate_org(directory, org, seed)
    counts = [sum(len(getattr(c, kind)) for c in changes.values()) for kind in ("inserted", "updated", "deleted")]
    out.print(f"org {org}: {counts[0]} rows inserted, {counts[1]} updated, {counts[2]} deleted")
