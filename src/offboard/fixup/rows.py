"""Fix-up of the rows: rewrite the org's external references in a target so links, people and the org
resolve in the new home.

The rules (runbooks/fixup/rules.yaml.j2, rendered per customer) map cloud host names to the
MSP's host, the cloud org id to the target org id, and cloud user ids to the MSP directory's
ids. They apply to the catalog's reference columns of the org's rows, CLOBs included; each
table is rewritten in one transaction. Idempotent by construction: the rules are refused when
a result could match again (a target id that is also a cloud id, a host mapped to a cloud host).
The report counts changes per table and column, lists the users the mapping lacks, and holds
each table's checksum after the fix-up, which `verify` compares against later.
"""

from __future__ import annotations

import pickle
import tempfile
from collections import Counter
from collections.abc import Iterator, Mapping

import sqlalchemy as sa

from offboard.db.bulk import executing
from offboard.db.catalog import Catalog, TableSpec
from offboard.db.connect import database_errors, opened_engines, require_tables, table_of
from offboard.db.fit import Fit
from offboard.db.manifest import now
from offboard.db.scan import Progress, count_rows, org_batches, table_state
from offboard.db.statements import update_columns
from offboard.errors import OffboardError
from offboard.fixup.mapping import read_user_mapping
from offboard.fixup.report import ColumnFixup, FixupReport, TableFixup
from offboard.fixup.rewrite import Rewriter
from offboard.fixup.rules import Rules

SPOOL_ROWS = 1000


def fixup_target(
    catalog: Catalog,
    targets: Mapping[str, str],
    rules: Rules,
    *,
    dry_run: bool = False,
    progress: Progress | None = None,
) -> FixupReport:
    """Apply `rules` to the org's rows (tenant = the target org id) in every catalog table."""
    rewriter = Rewriter(rules, read_user_mapping(rules.users.mapping))
    tables = catalog.tables()
    with opened_engines(targets, dict.fromkeys(t.database for t in tables), "target") as engines:
        for database, engine in engines.items():
            require_tables(engine, [t for t in tables if t.database == database])
        results = [_fixup_table(engines[spec.database], spec, rewriter, rules.org.target, dry_run, progress) for spec in tables]
        unmapped = {user: sorted(places) for user, places in sorted(rewriter.unmapped.items())}
        return FixupReport(org_id=rules.org.target, dry_run=dry_run, created=now(), tables=results, unmapped_users=unmapped)


def _fixup_table(engine: sa.Engine, spec: TableSpec, rewriter: Rewriter, org_id: str, dry_run: bool, progress: Progress | None) -> TableFixup:
    kinds = {**dict.fromkeys(spec.references.links, "links"), **dict.fromkeys(spec.references.users, "users"),
             **dict.fromkeys(spec.references.orgs, "orgs")}
    columns = [ColumnFixup(column=name, kind=kind) for name, kind in kinds.items()]
    with database_errors(engine, f"fixing up {spec.qualified}"), engine.begin() as connection:
        if columns:
            with tempfile.TemporaryFile() as spool:
                if _rewrite(connection, spec, rewriter, org_id, columns, spool, progress) and not dry_run:
                    spool.seek(0)
                    _write(connection, spec, list(kinds), org_id, _spooled(spool))
        if dry_run:
            return TableFixup(table=spec.qualified, rows=count_rows(connection, spec, org_id), checksum=None, columns=columns)
        state = table_state(connection, spec, org_id)
    return TableFixup(table=spec.qualified, rows=state.rows, checksum=state.checksum, columns=columns)


def _rewrite(connection: sa.Connection, spec: TableSpec, rewriter: Rewriter, org_id: str,
             columns: list[ColumnFixup], spool, progress: Progress | None) -> int:
    """Read the org's reference columns, count, and spool the changed rows (new values, then key)."""
    apply = {"links": rewriter.text, "users": rewriter.user, "orgs": rewriter.org}
    width = len(spec.key)
    changed, batch, seen = 0, [], 0
    for rows in org_batches(connection, spec, org_id, [*spec.key, *(c.column for c in columns)]):
        for row in rows:
            new = list(row[width:])
            for i, (column, value) in enumerate(zip(columns, row[width:])):
                if value is not None:
                    tally: Counter = Counter()
                    new[i] = apply[column.kind](value, tally, f"{spec.qualified}.{column.column}")
                    if new[i] != value:
                        column.record(tally)
            if new != list(row[width:]):
                batch.append((*new, *row[:width]))
                changed += 1
            if len(batch) == SPOOL_ROWS:
                pickle.dump(batch, spool)
                batch = []
        seen += len(rows)
        if progress:
            progress(spec.qualified, seen)
    if batch:
        pickle.dump(batch, spool)
    return changed


def _spooled(spool) -> Iterator[list[tuple]]:
    while True:
        try:
            yield pickle.load(spool)
        except EOFError:
            return


def _write(connection: sa.Connection, spec: TableSpec, names: list[str], org_id: str, batches: Iterator[list[tuple]]) -> None:
    statement = update_columns(table_of(spec, connection.engine), spec.tenant, spec.key, names, org_id)
    write = executing(connection, statement, [*(f"set_{n}" for n in names), *(f"key_{k}" for k in spec.key)])
    fit = Fit([(name, spec.columns[name]) for name in names], lobs_inline=True)
    for batch in batches:
        misfit = fit.first_misfit(batch)
        if misfit:  # a host name longer than the cloud's, say, in a value already near its column's length
            key = ", ".join(value.hex() if isinstance(value, bytes) else str(value) for value in batch[misfit.row][len(names):])
            raise OffboardError(f"{spec.qualified}: after the fix-up, {misfit.column} of the row with key {key} {misfit.problem}: "
                                "the table was left unchanged; shorten what the rule writes, or widen the column")
        write(batch)
