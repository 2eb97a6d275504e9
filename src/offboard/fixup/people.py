"""People of the org whom the target already knows: guests, and persons the MSP's directory sync
made there before the import.

A person table (the catalog's `person`: EMPLOYEE, MEMBERPROFILE, the applications' user tables)
may hold, besides the org's rows (their keys are a delivery's: offboard.db.delivered), the
target's own rows for the same people. Mapping the org's row onto the person's id in the new home
would then break the product's unique indexes, or leave the person twice. So the org's row is
merged into the target's: every row of the org that points at it (the catalog's `parents`, in the
same database) is pointed at the target's row instead, and the org's row is deleted. The target's
row stays as the directory sync made it, and so do the rows outside the catalog that point at it
(PROFILE_LOGIN, role grants): the applications refer to people across databases by user id,
which the mapping gives the target's anyway.

Guests are people whose home org (`person.home_org`) is another org: their ids are never mapped
into this org, and they are never merged.

Everything is planned, and every conflict found, before anything is written: two of the org's
people mapped to one person, a unique index the mapping would break, two rows pointing at the
target's person with the same key once moved (a photo on both sides).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import sqlalchemy as sa

from offboard.db.bulk import executing
from offboard.db.catalog import Catalog, TableSpec, derive
from offboard.db.connect import database_errors, table_of
from offboard.db.delivered import PersonKeys
from offboard.db.scan import looked_up, org_batches
from offboard.db.statements import delete_keys, select_among, select_referencing, update_columns
from offboard.db.values import key_text, shown_value
from offboard.errors import OffboardError
from offboard.fixup.report import Merge
from offboard.fixup.rewrite import Rewriter

SHOWN_CONFLICTS = 10


@dataclass
class _Move:
    """One merge as the database takes it: the org's key (driver value) and the target's."""

    table: TableSpec
    removed: object
    kept: object
    record: Merge


@dataclass
class PeoplePlan:
    guests: set[str] = field(default_factory=set)  # user ids whose home org is another org
    moves: list[_Move] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)

    @property
    def merges(self) -> list[Merge]:
        return [move.record for move in self.moves]


def plan_people(engines: Mapping[str, sa.Engine], catalog: Catalog, orgs: tuple[str, str], delivered: PersonKeys,
                rewriter: Rewriter) -> PeoplePlan:
    """Guests, merges and conflicts of the org's people in a target. `orgs`: the cloud org id and
    the target's; `rewriter.mapped`: a user id as the mapping turns it (unchanged when unknown)."""
    plan = PeoplePlan()
    people = [spec for spec in catalog.tables() if spec.person]
    tables = {spec.qualified: _rows(engines[spec.database], spec, orgs[1]) for spec in people}
    for spec in people:  # guests first: a guest is never merged, in any table
        home = spec.person.home_org
        if home:
            plan.guests.update(row[spec.person.id] for row in tables[spec.qualified]
                               if (row[home] or "").strip() not in ("", *orgs) and row[spec.person.id])
    rewriter.guests = plan.guests  # never mapped, from here on
    # The mapping is the MSP's directory, the delivery whoever held the bucket's key: a person
    # both call theirs is a question for a person, not for the fix-up.
    plan.conflicts += [f"{guest} is a guest from another org in the delivery, yet the user mapping maps it"
                       for guest in sorted(plan.guests & set(rewriter.users))]
    for spec in people:
        _plan_table(spec, tables[spec.qualified], delivered[spec.qualified], rewriter.mapped, plan)
        plan.conflicts += _held_elsewhere(engines[spec.database], spec, tables[spec.qualified], delivered[spec.qualified], rewriter, orgs[1])
    for database in dict.fromkeys(move.table.database for move in plan.moves):
        moves = [move for move in plan.moves if move.table.database == database]
        plan.conflicts += _collisions(engines[database], catalog, moves, orgs[1])
    return plan


def _rows(engine: sa.Engine, spec: TableSpec, org_id: str) -> list[dict]:
    columns = list(dict.fromkeys([*spec.key, spec.person.id, *filter(None, [spec.person.home_org]), *spec.person.where,
                                  *(c for unique in spec.unique for c in unique),
                                  *(spec.references.rule(c)[1] for unique in spec.unique for c in unique if c in spec.references.derived)]))
    with database_errors(engine, f"reading {spec.qualified}"), engine.connect() as connection:
        return [dict(zip(columns, row)) for batch in org_batches(connection, spec, org_id, columns) for row in batch]


def _plan_table(spec: TableSpec, rows: list[dict], delivered: set[str], mapped: Callable[[str], str], plan: PeoplePlan) -> None:
    key, person = spec.key[0], spec.person
    text = key_text(spec.types[key])
    is_person = lambda row: person.describes(row.__getitem__)  # noqa: E731
    ours = [row for row in rows if text(row[key]) in delivered]
    own: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        if text(row[key]) not in delivered and row[person.id] and is_person(row):
            own[row[person.id]].append(row)
    removed, taken = set(), {}
    for row in ours:
        if not row[person.id] or not is_person(row) or row[person.id] in plan.guests:
            continue
        target_id = mapped(row[person.id])
        theirs = own.get(target_id)
        if not theirs:
            continue
        if len(theirs) > 1:
            plan.conflicts.append(f"{spec.qualified}: {len(theirs)} of the target's rows stand for {target_id}")
            continue
        kept = theirs[0][key]
        if kept in taken:
            plan.conflicts.append(f"{spec.qualified}: {taken[kept]} and {row[person.id]} are both mapped to {target_id}")
            continue
        taken[kept] = row[person.id]
        record = Merge(table=spec.qualified, person=target_id, kept=shown_value(kept), removed=shown_value(row[key]), repointed=0)
        plan.moves.append(_Move(spec, row[key], kept, record))
        removed.add(id(row))
    remaining = [row for row in rows if id(row) not in removed]
    for columns in spec.unique:  # as the fix-up will leave the table: the org's ids mapped, merged rows gone
        seen: Counter = Counter(_after(spec, row, columns, mapped, text(row[key]) in delivered) for row in remaining)
        plan.conflicts += [f"{spec.qualified}: ({', '.join(columns)}) = ({', '.join(map(str, values))}) would be held by {count} rows"
                           for values, count in seen.items() if count > 1 and None not in values]


def _held_elsewhere(engine: sa.Engine, spec: TableSpec, rows: list[dict], delivered: set[str], rewriter: Rewriter,
                    org_id: str) -> list[str]:
    """A user id the mapping gives one of the org's people that stands, in the target, for a
    person of another org (a row of another tenant whose home org, where the table names one, is
    not this org): mapping onto it would make another org's person this org's."""
    text, key, person = key_text(spec.types[spec.key[0]]), spec.key[0], spec.person
    wanted = sorted({rewriter.users[row[person.id]] for row in rows
                     if text(row[key]) in delivered and row[person.id] in rewriter.users and row[person.id] not in rewriter.guests})
    if not wanted:
        return []
    columns = [person.id, spec.tenant, *filter(None, [person.home_org])]
    statement = select_among(table_of(spec, engine), columns, person.id)
    with database_errors(engine, f"reading {spec.qualified}"), engine.connect() as connection:
        found = [dict(zip(columns, row)) for row in looked_up(connection, statement, "values", wanted)]
    return [f"{spec.qualified}: {row[person.id]} is a person of org {str(row[spec.tenant]).strip()} in the target"
            for row in found if str(row[spec.tenant]).strip() != org_id
            and (person.home_org is None or str(row[person.home_org] or "").strip() != org_id)]


def _after(spec: TableSpec, row: dict, columns: list[str], mapped: Callable[[str], str], ours: bool) -> tuple:
    """The values of `columns` once the fix-up has run: a user id of the org's row mapped, a
    derived column computed again from its mapped source."""
    def value(column: str) -> object:
        if column in spec.references.derived:
            rule, source = spec.references.rule(column)
            return derive(rule, value(source)) if value(source) is not None else row[column]
        if ours and column in spec.references.users and row[column]:
            return mapped(row[column])
        return row[column]

    return tuple(value(column) for column in columns)


def _collisions(engine: sa.Engine, catalog: Catalog, moves: list[_Move], org_id: str) -> list[str]:
    """Rows pointing at a merged person whose key, once moved to the target's person, another row has."""
    conflicts = []
    for child, column, parent in _children(catalog, moves[0].table.database):
        if column not in child.key:
            continue
        onto = {move.removed: move.kept for move in moves if move.table.qualified == parent}
        if not onto:
            continue
        position = child.key.index(column)
        statement = select_referencing(table_of(child, engine), child.tenant, child.key, column, org_id)
        with database_errors(engine, f"reading {child.qualified}"), engine.connect() as connection:
            keys = [tuple(row) for row in looked_up(connection, statement, "parents", sorted({*onto, *onto.values()}, key=repr))]
        moved = Counter(tuple(onto.get(v, v) if i == position else v for i, v in enumerate(key)) for key in keys)
        conflicts += [f"{child.qualified}: {count} rows would have key {', '.join(map(shown_value, key))} once pointed at the "
                      "target's person" for key, count in moved.items() if count > 1]
    return conflicts


def _children(catalog: Catalog, database: str) -> list[tuple[TableSpec, str, str]]:
    """(table, column, person table) for every `parents` column pointing at a person table of the database."""
    people = {spec.qualified for spec in catalog.tables() if spec.person and spec.database == database}
    return [(spec, column, parent) for spec in catalog.tables() if spec.database == database
            for column, parent in spec.parents.items() if parent in people]


def refuse_conflicts(plan: PeoplePlan) -> None:
    if plan.conflicts:
        shown = "; ".join(plan.conflicts[:SHOWN_CONFLICTS])
        more = f" (and {len(plan.conflicts) - SHOWN_CONFLICTS} more)" if len(plan.conflicts) > SHOWN_CONFLICTS else ""
        raise OffboardError(f"the org's people cannot be mapped onto the target's: {shown}{more}; nothing was changed: "
                            "correct the user mapping or the target's people, then run the fix-up again")


def merge_people(engines: Mapping[str, sa.Engine], catalog: Catalog, plan: PeoplePlan, org_id: str, rewriter: Rewriter,
                 record: Callable[[list[Merge]], None]) -> None:
    """Apply the plan's merges, one transaction per database; `record` keeps them (in the stack's
    state) before each commit, so that a crash right after still knows what was merged."""
    for database in dict.fromkeys(move.table.database for move in plan.moves):
        engine = engines[database]
        moves = [move for move in plan.moves if move.table.database == database]
        with database_errors(engine, "merging the org's people"), engine.begin() as connection:
            for move in moves:
                _fill(connection, move.table, move, org_id, rewriter)
            for child, column, parent in _children(catalog, database):
                onto = {move.removed: move for move in moves if move.table.qualified == parent}
                if not onto:
                    continue
                table = table_of(child, engine)
                found = looked_up(connection, select_referencing(table, child.tenant, [column], column, org_id), "parents", list(onto))
                for (value,) in found:
                    onto[value].record.repointed += 1
                executing(connection, update_columns(table, child.tenant, [column], [column], org_id), [f"set_{column}", f"key_{column}"])(
                    [(move.kept, move.removed) for move in onto.values()])
            for spec in {move.table.qualified: move.table for move in moves}.values():
                executing(connection, delete_keys(table_of(spec, engine), spec.tenant, spec.key, org_id), spec.key)(
                    [(move.removed,) for move in moves if move.table is spec])
            record([move.record for move in moves])


def _fill(connection: sa.Connection, spec: TableSpec, move: _Move, org_id: str, rewriter: Rewriter) -> None:
    """What the org's row knows that the target's lacks (a NULL there: an "About me", a blog URL)
    goes into the target's row, its links rewritten; the target's values stay, and the columns
    where the org's differed are recorded. Identity columns are the target's."""
    table, key = table_of(spec, connection.engine), spec.key[0]
    found = looked_up(connection, select_referencing(table, spec.tenant, spec.column_names, key, org_id), "parents",
                      [move.removed, move.kept])
    rows = {row[key]: row for row in (dict(zip(spec.column_names, values)) for values in found)}
    ours, theirs = rows[move.removed], rows[move.kept]
    fixed = {*spec.key, spec.tenant, *spec.references.users, *spec.references.orgs, *spec.references.derived}
    filled = {}
    for column in spec.column_names:
        if column in fixed or ours[column] is None or ours[column] == theirs[column]:
            continue
        if theirs[column] is None:
            filled[column] = rewriter.text(ours[column], Counter(), None) if column in spec.references.links else ours[column]
        else:
            move.record.differed.append(column)
    if filled:
        names = list(filled)
        executing(connection, update_columns(table, spec.tenant, spec.key, names, org_id),
                  [*(f"set_{name}" for name in names), f"key_{key}"])([(*filled.values(), move.kept)])
        move.record.filled = names
