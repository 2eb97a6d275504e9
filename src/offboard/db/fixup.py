"""Fix-up: rewrite the org's external references in a target so links, people and the org
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

import csv
import io
import pickle
import re
import tempfile
from collections import Counter
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Literal

import sqlalchemy as sa
import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from offboard.db.bulk import executing
from offboard.db.catalog import Catalog, TableSpec
from offboard.db.connect import database_errors, opened_engines, require_tables, table_of
from offboard.db.fit import Fit
from offboard.db.manifest import now, write_json_atomically
from offboard.db.scan import Progress, count_rows, org_batches, table_state
from offboard.db.statements import ORG_ID, update_columns
from offboard.errors import OffboardError
from offboard.project import Project, read_utf8
from offboard.templates import render
from offboard.validation import describe

RULES_TEMPLATE = "fixup/rules.yaml.j2"
SPOOL_ROWS = 1000
MAPPING_HEADER = ["cloud_id", "target_id", "email"]
MAPPING_FIELD_LENGTH = 1024  # characters: far more than an id or an address, far less than garbage


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class OrgRule(_Strict):
    cloud: str = Field(pattern=ORG_ID.pattern)
    target: str = Field(pattern=ORG_ID.pattern)
    in_text: list[str] = []


class UserRule(_Strict):
    mapping: Path
    in_text: list[str] = []


class Rules(_Strict):
    format: Literal[1]
    hosts: dict[str, str] = Field(min_length=1)
    org: OrgRule
    users: UserRule

    @field_validator("hosts")
    @classmethod
    def _hosts(cls, hosts: dict[str, str]) -> dict[str, str]:
        lowered = {source.lower(): target.lower() for source, target in hosts.items()}
        looping = [target for target in lowered.values() if target in lowered]
        if looping:
            raise ValueError(f"{', '.join(looping)} is mapped from and to: a second run would change it again")
        return lowered

    @field_validator("org")
    @classmethod
    def _org(cls, org: OrgRule) -> OrgRule:
        if org.cloud == org.target:
            raise ValueError("cloud and target org ids are the same: nothing to rewrite")
        return org

    @model_validator(mode="after")
    def _patterns(self) -> Rules:
        for pattern in [*self.org.in_text, *self.users.in_text]:
            try:
                compiled = re.compile(pattern)
            except re.error as error:
                raise ValueError(f"pattern {pattern!r}: {error}") from None
            if "id" not in compiled.groupindex:
                raise ValueError(f"pattern {pattern!r} has no group (?P<id>...) to replace")
        return self


def render_rules(project: Project, *, cloud_hosts: list[str], msp_host: str, cloud_org_id: str, target_org_id: str, user_mapping: Path) -> Rules:
    """The customer's rules from the project's template."""
    values = {"cloud_hosts": cloud_hosts, "msp_host": msp_host, "cloud_org_id": cloud_org_id,
              "target_org_id": target_org_id, "user_mapping": user_mapping}
    return parse_rules(render(project, RULES_TEMPLATE, values), f"runbooks/{RULES_TEMPLATE}")


def parse_rules(text: str, shown: str) -> Rules:
    try:
        return Rules.model_validate(yaml.safe_load(text))
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        raise OffboardError(f"{shown}:{f' line {mark.line + 1}' if mark else ''} not valid YAML once rendered") from None
    except ValidationError as error:
        raise OffboardError(f"{shown}: {describe(error)}") from None


def read_user_mapping(path: Path) -> dict[str, str]:
    """cloud id -> target id from the directory sync's CSV (header cloud_id,target_id,email).

    Anything but such a CSV is refused in one line naming the file and line: a header alone is an
    empty mapping, garbage never is. `db fixup` reads it, and `runbook render` before the first step.
    """
    shown = f"the user mapping {path}"
    rows = csv.reader(io.StringIO(read_utf8(path, shown).removeprefix("\ufeff"), newline=""))
    mapping: dict[str, str] = {}
    try:
        if next(rows, None) != MAPPING_HEADER:
            raise OffboardError(f"{shown}: expected the header {','.join(MAPPING_HEADER)}")
        for row in rows:
            if not row:
                continue  # a blank line
            cloud, target = mapping_row(row, f"{shown} line {rows.line_num}")
            if mapping.get(cloud, target) != target:
                raise OffboardError(f"{shown} line {rows.line_num}: cloud id {cloud} is mapped twice")
            mapping[cloud] = target
    except csv.Error as error:
        raise OffboardError(f"{shown} line {rows.line_num}: not a CSV file ({error})") from None
    both = set(mapping) & set(mapping.values())
    if both:
        raise OffboardError(f"{shown}: {', '.join(sorted(both))} is a cloud id and a target id; a second run would map it again")
    return mapping


def mapping_row(row: list[str], where: str) -> tuple[str, str]:
    """The cloud id and target id of one row of the mapping, unless it is not three sane fields."""
    if len(row) != len(MAPPING_HEADER):
        raise OffboardError(f"{where}: expected {len(MAPPING_HEADER)} fields ({','.join(MAPPING_HEADER)}), found {len(row)}")
    if any(len(field) > MAPPING_FIELD_LENGTH for field in row):
        raise OffboardError(f"{where}: a field longer than {MAPPING_FIELD_LENGTH} characters")
    cloud, target, email = (field.strip() for field in row)
    if not cloud or not target:
        raise OffboardError(f"{where}: cloud_id and target_id are both required")
    if not all(value.isprintable() for value in (cloud, target, email)):  # NUL, line breaks, other control characters
        raise OffboardError(f"{where}: a control character in an id or address")
    return cloud, target


class ColumnFixup(BaseModel):
    column: str
    kind: str  # links | users | orgs
    rows: int = 0  # rows whose value changed
    hosts: int = 0
    users: int = 0
    orgs: int = 0

    def record(self, tally: Counter) -> None:
        self.rows += 1
        self.hosts += tally["hosts"]
        self.users += tally["users"]
        self.orgs += tally["orgs"]


class TableFixup(BaseModel):
    table: str
    rows: int  # the org's rows in the target
    checksum: str | None  # of the org's rows after the fix-up; None for a dry run
    columns: list[ColumnFixup]


class FixupReport(BaseModel):
    org_id: str  # the target org id
    dry_run: bool
    created: str
    tables: list[TableFixup]
    unmapped_users: dict[str, list[str]]  # cloud user id -> TABLE.COLUMN where it was found

    @property
    def changed_rows(self) -> int:
        return sum(column.rows for table in self.tables for column in table.columns)

    def table(self, qualified: str) -> TableFixup | None:
        return next((table for table in self.tables if table.table == qualified), None)

    def figures(self) -> dict[str, Any]:
        """What the journal keeps of a fix-up."""
        return {"rows_changed": self.changed_rows, "unmapped_users": len(self.unmapped_users), "dry_run": self.dry_run}

    def save(self, path: Path) -> None:
        write_json_atomically(path, self.model_dump(mode="json"))

    @classmethod
    def load(cls, path: Path) -> FixupReport:
        try:
            return cls.model_validate_json(path.read_text(encoding="utf-8"))
        except OSError as error:
            raise OffboardError(f"cannot read the fix-up report {path}: {error.strerror}") from None
        except ValidationError as error:
            raise OffboardError(f"{path}: {describe(error)}") from None


class Rewriter:
    """The rules applied to single values, counting what it changed and which users it lacked."""

    def __init__(self, rules: Rules, users: Mapping[str, str]) -> None:
        self.rules = rules
        self.users = dict(users)
        self.known_targets = set(users.values())
        hosts = "|".join(re.escape(host) for host in sorted(rules.hosts, key=len, reverse=True))
        # A whole host name: not part of a longer name on either side (a trailing dot may end a sentence).
        self.host_pattern = re.compile(rf"(?<![\w.-])(?:{hosts})(?![\w-]|\.[\w-])", re.IGNORECASE)
        self.org_patterns = [re.compile(p) for p in rules.org.in_text]
        self.user_patterns = [re.compile(p) for p in rules.users.in_text]
        self.unmapped: dict[str, set[str]] = {}

    def text(self, value: str, tally: Counter, where: str) -> str:
        value, count = self.host_pattern.subn(lambda m: self.rules.hosts[m[0].lower()], value)
        tally["hosts"] += count
        for pattern in self.org_patterns:
            value = pattern.sub(lambda m: _replace_id(m, self.org(m["id"], tally, where)), value)
        for pattern in self.user_patterns:
            value = pattern.sub(lambda m: _replace_id(m, self.user(m["id"], tally, where)), value)
        return value

    def user(self, value: str, tally: Counter, where: str) -> str:
        if value in self.users:
            tally["users"] += 1
            return self.users[value]
        if value not in self.known_targets:
            self.unmapped.setdefault(value, set()).add(where)
        return value

    def org(self, value: str, tally: Counter, where: str) -> str:
        if value == self.rules.org.cloud:
            tally["orgs"] += 1
            return self.rules.org.target
        return value


def _replace_id(match: re.Match, new: str) -> str:
    start, end = match.span("id")
    whole = match[0]
    return whole[: start - match.start()] + new + whole[end - match.start():]


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
