"""Fix-up of the rows: rewrite the org's external references in a target so links, people and the
org resolve in the new home.

The rules (runbooks/fixup/rules.yaml.j2, rendered per customer) map cloud host names to the
MSP's host, the cloud org id to the target org id, and cloud user ids to the MSP directory's
ids. They apply to the catalog's reference columns of the org's rows, CLOBs included; a derived
column (a lower-case twin, a hash of a URL) is computed again from its rewritten source. First the
org's people are planned against the target's (offboard.fixup.people): guests are never mapped,
people the directory sync made already are merged, and any conflict refuses the whole fix-up
before anything is written. Then each table is rewritten in one transaction. Idempotent by
construction: the rules are refused when a result could match again (a target id that is also a
cloud id, a host mapped to a cloud host). The report counts changes per table and column, lists
each user id left in place with where it stands, and holds each table's checksum after the
fix-up, which `verify` compares against later.
"""

from __future__ import annotations

import pickle
import tempfile
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence

import sqlalchemy as sa

from offboard.db.bulk import executing
from offboard.db.catalog import Catalog, TableSpec, derive
from offboard.db.connect import database_errors, opened_engines, require_tables, table_of
from offboard.db.fit import Fit
from offboard.db.manifest import now
from offboard.db.delivered import PersonKeys
from offboard.db.scan import Progress, org_batches, table_state
from offboard.db.statements import update_columns
from offboard.errors import OffboardError
from offboard.fixup.mapping import read_user_mapping
from offboard.db.values import key_text, shown_value
from offboard.fixup.files import LinkedFile, rewrite_linked_files
from offboard.fixup.people import merge_people, plan_people, refuse_conflicts
from offboard.fixup.report import ColumnFixup, FixupReport, Merge, Place, RewrittenFile, TableFixup, Unmapped
from offboard.fixup.rewrite import DIRECT, Rewriter
from offboard.fixup.rules import Rules

SPOOL_ROWS = 1000


def fixup_target(
    catalog: Catalog,
    targets: Mapping[str, str],
    rules: Rules,
    *,
    delivered: PersonKeys,
    route: str = DIRECT,
    record_merges: Callable[[list[Merge]], None] = lambda merges: None,
    linked: Sequence[LinkedFile] = (),
    earlier: Mapping[str, RewrittenFile] = {},
    dry_run: bool = False,
    progress: Progress | None = None,
) -> FixupReport:
    """Apply `rules` to the org's rows (tenant = the target org id) in every catalog table, and to
    the text among its `linked` files (offboard.fixup.files; `earlier`: what the fix-ups rewrote
    there before). `delivered`: the keys of the org's rows in person tables
    (offboard.db.delivered); `route`: wsadmin leaves whole user-id columns to the product's commands."""
    users = read_user_mapping(rules.users.mapping)
    rewriter = Rewriter(rules, users, route)
    tables, org_id = catalog.tables(), rules.org.target
    with opened_engines(targets, dict.fromkeys(t.database for t in tables), "target") as engines:
        for database, engine in engines.items():
            require_tables(engine, [t for t in tables if t.database == database])
        plan = plan_people(engines, catalog, (rules.org.cloud, org_id), delivered, rewriter)
        refuse_conflicts(plan)
        _refuse_misfits(engines, tables, rewriter, org_id, delivered)
        if not dry_run:
            merge_people(engines, catalog, plan, org_id, rewriter, record_merges)
        results = [_fixup_table(engines[spec.database], spec, rewriter, org_id, delivered.get(spec.qualified), dry_run, progress)
                   for spec in tables]
    files = rewrite_linked_files(linked, rewriter, earlier, dry_run=dry_run)
    unmapped = [Unmapped(id=user, places=[Place(table=table, column=column, rows=rows) for (table, column), rows in sorted(places.items())])
                for user, places in sorted(rewriter.unmapped.items()) if places]
    return FixupReport(org_id=org_id, dry_run=dry_run, created=now(), route=route, tables=results, unmapped=unmapped,
                       guests=sorted(plan.guests), merged=plan.merges, files=files.files, files_left=files.left)


def _columns(spec: TableSpec) -> list[ColumnFixup]:
    references = spec.references
    kinds = {**dict.fromkeys(references.links, "links"), **dict.fromkeys(references.users, "users"),
             **dict.fromkeys(references.orgs, "orgs"), **dict.fromkeys(references.derived, "derived")}
    return [ColumnFixup(column=name, kind=kind) for name, kind in kinds.items()]


def _refuse_misfits(engines: Mapping[str, sa.Engine], tables: list[TableSpec], rewriter: Rewriter, org_id: str,
                    delivered: PersonKeys) -> None:
    """Refuse, before anything is written, a rewrite that a column cannot hold (a host name or an id
    of the mapping longer than the cloud's, in a value already near its column's length): a fix-up
    stopped halfway would leave some tables rewritten and their ids no longer the mapping's."""
    checker = rewriter.copy()  # counts nothing of the real run
    for spec in tables:
        columns = _columns(spec)
        if not columns:
            continue
        fit = Fit([(column.column, spec.columns[column.column]) for column in columns], lobs_inline=True)
        engine = engines[spec.database]
        with database_errors(engine, f"reading {spec.qualified}"), engine.connect() as connection:
            for batch in _changes(connection, spec, checker, org_id, delivered.get(spec.qualified), columns, None):
                misfit = fit.first_misfit(batch)
                if misfit:
                    key = ", ".join(map(shown_value, batch[misfit.row][len(columns):]))
                    raise OffboardError(
                        f"{spec.qualified}: after the fix-up, {misfit.column} of the row with key {key} {misfit.problem}; nothing "
                        "was changed: shorten the MSP host name or the mapped ids the rules write, or widen the column")


def _fixup_table(engine: sa.Engine, spec: TableSpec, rewriter: Rewriter, org_id: str, keys: set[str] | None, dry_run: bool,
                 progress: Progress | None) -> TableFixup:
    columns = _columns(spec)
    with database_errors(engine, f"fixing up {spec.qualified}"), engine.begin() as connection:
        if columns:
            with tempfile.TemporaryFile() as spool:
                changed = 0
                for batch in _changes(connection, spec, rewriter, org_id, keys, columns, progress):
                    pickle.dump(batch, spool)
                    changed += len(batch)
                if changed and not dry_run:
                    spool.seek(0)
                    _write(connection, spec, [column.column for column in columns], org_id, _spooled(spool))
        state = table_state(connection, spec, org_id, keys=keys)
    return TableFixup(table=spec.qualified, rows=state.rows, checksum=None if dry_run else state.checksum, columns=columns)


def _changes(connection: sa.Connection, spec: TableSpec, rewriter: Rewriter, org_id: str, keys: set[str] | None,
             columns: list[ColumnFixup], progress: Progress | None) -> Iterator[list[tuple]]:
    """The org's changed rows, a batch at a time (new values of `columns`, then the key), counted
    in `columns`. In a person table the target's own rows (their key no delivery's: `keys`) are left
    alone, and a row that is not a person (`person.where`) keeps its user ids."""
    apply = {"links": rewriter.text, "users": rewriter.user, "orgs": rewriter.org}
    names = [column.column for column in columns]
    derived = [(names.index(name), rule, names.index(source))
               for name in spec.references.derived for rule, source in [spec.references.rule(name)]]
    person = spec.person
    selected = [*spec.key, *names, *(c for c in (person.where if person else {}) if c not in names)]
    width, text = len(spec.key), key_text(spec.types[spec.key[0]])
    batch, seen = [], 0
    for rows in org_batches(connection, spec, org_id, selected):
        for row in rows:
            if keys is not None and text(row[0]) not in keys:
                continue  # the target's own person
            old = list(row[width:width + len(names)])
            new = list(old)
            is_person = person is None or person.describes(lambda column: row[selected.index(column)])
            for i, column in enumerate(columns):
                if old[i] is None or column.kind == "derived" or (column.kind == "users" and not is_person):
                    continue
                tally: Counter = Counter()
                new[i] = apply[column.kind](old[i], tally, (spec.qualified, column.column))
                if new[i] != old[i]:
                    column.record(tally)
            for i, rule, source in derived:
                if new[source] != old[source] and new[source] is not None:
                    new[i] = derive(rule, new[source])
                    if new[i] != old[i]:
                        columns[i].record(Counter())
            if new != old:
                batch.append((*new, *row[:width]))
            if len(batch) == SPOOL_ROWS:
                yield batch
                batch = []
        seen += len(rows)
        if progress:
            progress(spec.qualified, seen)
    if batch:
        yield batch


def _spooled(spool) -> Iterator[list[tuple]]:
    while True:
        try:
            yield pickle.load(spool)
        except EOFError:
            return


def _write(connection: sa.Connection, spec: TableSpec, names: list[str], org_id: str, batches: Iterator[list[tuple]]) -> None:
    statement = update_columns(table_of(spec, connection.engine), spec.tenant, spec.key, names, org_id)
    write = executing(connection, statement, [*(f"set_{n}" for n in names), *(f"key_{k}" for k in spec.key)])
    for batch in batches:  # every value fits: `_refuse_misfits` saw them all before the first write
        write(batch)
