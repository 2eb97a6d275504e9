"""The whole check: every side's databases, the drift between the source and each target and the
content count, and its entry points: `offboard catalog check` (`check_customer`), the runbook
step (`stage`) and `offboard runbook render` (`check_before_render`)."""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from offboard.customer import SIDES, Customer, content_roots, database_urls
from offboard.db.catalog import CATALOG_FILE, Catalog, load_catalog
from offboard.db.check.content import count_content
from offboard.db.check.drift import drift
from offboard.db.check.live import LiveDatabase
from offboard.db.check.model import BLOCKS, NOTE, SOURCE, CatalogNote, CheckResult, Side
from offboard.db.check.side import check_database, known_tables
from offboard.db.connect import open_engine
from offboard.errors import OffboardError
from offboard.project import Project


def check_catalog(catalog: Catalog, sides: Mapping[str, Mapping[str, str] | None], *, org_id: str | None = None,
                  source_stores: Mapping[str, Path] | None = None, unreachable_is_note: bool = False,
                  not_checked: Mapping[str, str] | None = None) -> CheckResult:
    """Compare each side's databases (side -> Connections database -> URL, filled in; None: the
    stack does not configure that side, or `not_checked` says why not) with the catalog, the
    source with each target, and count the org's binaries in the source's stores. A database that
    cannot be read is an OffboardError, or with `unreachable_is_note` a note saying what was not
    checked."""
    result = CheckResult()
    live: dict[str, dict[str, LiveDatabase]] = {}
    known = set().union(*map(known_tables, catalog.databases.values()))
    for name in sorted(sides, key=lambda side: SIDES.index(side) if side in SIDES else len(SIDES)):  # source first
        urls, side = sides[name], Side(name, result)
        if urls is None:
            side.add(NOTE, "not-checked", f"not checked: {(not_checked or {}).get(name, 'not configured in the stack')}")
            continue
        live[name] = {}
        unread: dict[str, str] = {}  # database -> why it could not be read
        for database, spec in catalog.databases.items():
            try:
                if database not in urls:
                    raise OffboardError(f"no {name} database URL for {database} (given: {', '.join(urls) or 'none'})")
                engine = open_engine(urls[database])
                try:
                    live[name][database] = check_database(side, database, spec, engine, org_id, known)
                finally:
                    engine.dispose()
            except OffboardError as error:
                if not unreachable_is_note:
                    raise
                unread[database] = str(error)
        if len(unread) == 1:
            [(database, why)] = unread.items()
            side.add(NOTE, "not-checked", f"not checked: {why}", database)
        elif unread:  # one line for a side out of reach, not one per database
            side.add(NOTE, "not-checked", f"not checked ({', '.join(unread)}): {next(iter(unread.values()))}")
        else:
            result.checked.append(name)
        result.releases[name] = {database: found.release for database, found in live[name].items() if found.release is not None}
    if SOURCE in live:
        for target in (name for name in live if name != SOURCE):
            drift(result, target, catalog, live[SOURCE], live[target])
    if SOURCE in result.checked and org_id is not None and source_stores is not None:
        try:
            count_content(result, catalog, sides[SOURCE], org_id, source_stores)
        except OffboardError as error:  # the source's content tables could not be read (their findings say why)
            Side(SOURCE, result).add(NOTE if unreachable_is_note else BLOCKS, "content", f"binaries not counted: {error}")
    return result


def project_catalog(project: Project) -> Catalog:
    return load_catalog(project.runbooks_dir / CATALOG_FILE)


def check_customer(project: Project, customer: Customer, sides: Iterable[str] = SIDES, *, required: bool = False,
                   unreachable_is_note: bool = False) -> CheckResult:
    """The check of `offboard catalog check` and of rendering, of the stack file's sides: one the
    stack does not configure is a note, or with `required` an OffboardError."""
    databases: dict[str, dict[str, str] | None] = {}
    for name in sides:
        side = customer.side(name) if required else getattr(customer, name)
        databases[name] = dict(side.databases) if side is not None and side.databases else None
    source = customer.source
    stores = source.content_stores if source is not None and SOURCE in databases else None
    return run_check(project, customer.org_id, databases, stores, unreachable_is_note=unreachable_is_note)


def run_check(project: Project, org_id: str, databases: Mapping[str, Mapping[str, str] | None],
              source_stores: Mapping[str, str | Path] | None, *, unreachable_is_note: bool = False) -> CheckResult:
    """Fill in each side's URLs (`${VARIABLE}` from the environment, SQLite paths from the project
    folder) and the source's store roots, then check."""
    sides: dict[str, Mapping[str, str] | None] = {}
    not_checked: dict[str, str] = {}
    for name, urls in databases.items():
        try:
            sides[name] = database_urls(urls, project.root) if urls is not None else None
        except OffboardError as error:  # a password's variable is not set here
            if not unreachable_is_note:
                raise
            sides[name], not_checked[name] = None, str(error)
    roots = content_roots(source_stores, project.root) if source_stores else None
    return check_catalog(project_catalog(project), sides, org_id=org_id, source_stores=roots,
                         unreachable_is_note=unreachable_is_note, not_checked=not_checked)


def refusal(result: CheckResult, stack: str, doing: str) -> OffboardError:
    first = result.blocks[0]
    return OffboardError(f"the catalog check blocks {doing}: {first.line()} ({len(result.blocks)} blocking in all); "
                         f"run `offboard catalog check {stack}` for all of them")


def stage(runtime, *, org_id: str, databases: Mapping[str, Mapping[str, str] | None],
          source_stores: Mapping[str, str] | None) -> CheckResult | dict[str, Any]:
    """The runbook step: check every side the stack configures (one it does not is a note in the
    figures); the step fails when anything blocks, or a configured database cannot be read.
    It only reads: a dry run checks the same, and says what would stop the step instead."""
    result = run_check(runtime.project, org_id, databases, source_stores)
    if runtime.dry_run:
        return {"dry_run": True, **result.figures(), "would_refuse": str(refusal(result, runtime.stack, "the run")) if result.blocks else None}
    if result.blocks:
        raise refusal(result, runtime.stack, "the run")
    return result


def check_before_render(project: Project, customer: Customer) -> CheckResult:
    """The check `offboard runbook render` runs: refused on the first blocking finding. A side the
    stack does not configure, or that cannot be reached from here, is a note (one warning line)
    and left to the workflow's check step, which refuses to run without it."""
    result = check_customer(project, customer, unreachable_is_note=True)
    if result.blocks:
        raise refusal(result, customer.stack, "rendering (nothing rendered)")
    for note in result.findings:
        if note.kind == "not-checked":
            warnings.warn(CatalogNote(f"catalog check: {note.line()}"), stacklevel=2)
    others = [note for note in result.notes if note.kind != "not-checked"]
    if others:
        warnings.warn(CatalogNote(f"catalog check: {len(others)} note{'' if len(others) == 1 else 's'}, nothing blocks: "
                                  f"`offboard catalog check {customer.stack}` lists them"), stacklevel=2)
    return result
