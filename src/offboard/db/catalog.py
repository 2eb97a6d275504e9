"""The catalog of Connections databases and tables (runbooks/catalog/connections.yaml).

Loaded once and validated strictly: a catalog that names a column it does not declare, or a
type we cannot carry, is a one-line error before anything touches a database.
"""

from __future__ import annotations

import hashlib
import heapq
import re
from collections.abc import Callable, Iterable, Sequence
from functools import cached_property
from operator import itemgetter
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from offboard.db.types import SUPPORTED, ColumnType, parse_type
from offboard.errors import OffboardError
from offboard.validation import describe, format_version

CATALOG_FILE = Path("catalog") / "connections.yaml"  # inside the project's runbooks/
FORMAT = 2

IDENTIFIER = re.compile(r"^[A-Z][A-Z0-9_]{0,127}$")  # an upper-case DB2 name: databases, schemas, tables, columns
QUALIFIED = re.compile(r"^[A-Z][A-Z0-9_]{0,127}\.[A-Z][A-Z0-9_]{0,127}$")  # SCHEMA.TABLE
Identifier = Annotated[str, Field(pattern=IDENTIFIER.pattern)]
Qualified = Annotated[str, Field(pattern=QUALIFIED.pattern)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class TableShape(_Strict):
    """What moving a table's rows needs: where it lives, its columns, its tenant column and key.

    The manifest of a delivery records the same shape, but whoever holds the bucket's key can
    rewrite a manifest: import and verify take the shape from the catalog, and refuse a delivery
    whose shape differs from it (`difference`).
    """

    database: str
    schema_name: str = Field(alias="schema")
    name: str
    columns: dict[str, str]
    tenant: str
    key: list[str] = Field(min_length=1)

    @field_validator("database", "schema_name", "name")
    @classmethod
    def _identifier(cls, value: str) -> str:
        if not IDENTIFIER.match(value):
            raise ValueError(f"{value!r} is not an upper-case DB2 identifier")
        return value

    @field_validator("columns")
    @classmethod
    def _column_types(cls, columns: dict[str, str]) -> dict[str, str]:
        if len(columns) < 2:
            raise ValueError("a table needs its tenant column and at least one more")
        for column, type_text in columns.items():
            if not IDENTIFIER.match(column):
                raise ValueError(f"{column!r} is not an upper-case DB2 identifier")
            if parse_type(type_text) is None:
                raise ValueError(f"{column}: unsupported type {type_text!r} ({SUPPORTED})")
        return columns

    @model_validator(mode="after")
    def _tenant_and_key(self) -> TableShape:
        self._require_columns("tenant", [self.tenant])
        self._require_columns("key", self.key)
        if self.types[self.tenant].kind not in ("CHAR", "VARCHAR"):
            raise ValueError(f"tenant column {self.tenant} must be CHAR or VARCHAR")
        if any(self.types[k].is_lob or self.types[k].kind in ("DOUBLE", "TIMESTAMP") for k in self.key):
            raise ValueError("key columns must be CHAR, VARCHAR (FOR BIT DATA too), integers, DECIMAL, DATE or TIME")
        return self

    def _require_columns(self, role: str, names: list[str]) -> None:
        missing = [name for name in names if name not in self.columns]
        if missing:
            raise ValueError(f"{role} column(s) {', '.join(missing)} not among the columns")

    def shape(self) -> TableShape:
        """Just the shape, of this table or of any richer record of it (catalog or manifest entry)."""
        return TableShape.model_validate(self.model_dump(include=set(TableShape.model_fields)))

    def difference(self, other: TableShape) -> str | None:
        """How `other`, which claims to be this table, differs from it, in words (None: it does not)."""
        if other.database != self.database:
            return f"is in database {other.database}, the catalog says {self.database}"
        for column, type_text in other.columns.items():
            if column not in self.columns:
                return f"has column {column}, which the catalog does not name"
            if type_text != self.columns[column]:
                return f"has column {column} as {type_text}, the catalog says {self.columns[column]}"
        missing = [column for column in self.columns if column not in other.columns]
        if missing:
            return f"lacks column(s) {', '.join(missing)} of the catalog"
        if other.column_names != self.column_names:
            return "has its columns in another order than the catalog"
        if other.tenant != self.tenant:
            return f"has tenant column {other.tenant}, the catalog says {self.tenant}"
        if other.key != self.key:
            return f"has key {', '.join(other.key)}, the catalog says {', '.join(self.key)}"
        return None

    @property
    def qualified(self) -> str:
        return f"{self.schema_name}.{self.name}"

    @cached_property
    def column_names(self) -> list[str]:
        return list(self.columns)

    def positions(self, names: list[str]) -> list[int]:
        return [self.column_names.index(name) for name in names]

    @cached_property
    def types(self) -> dict[str, ColumnType]:
        return {column: parse_type(type_text) for column, type_text in self.columns.items()}

    @cached_property
    def field_chars(self) -> list[int]:
        """The most characters of each column's DEL field, in column order: what a reader of
        delivered rows allows."""
        return [column_type.field_chars for column_type in self.types.values()]

    @cached_property
    def tenant_position(self) -> int:
        return self.column_names.index(self.tenant)

    @cached_property
    def key_positions(self) -> list[int]:
        return self.positions(self.key)

    def foreign_tenants(self, rows: Iterable[Sequence], org_id: str) -> set:
        """Tenant values in `rows` other than `org_id` (DB2 pads CHAR values with blanks)."""
        return {v for v in set(map(itemgetter(self.tenant_position), rows)) if not isinstance(v, str) or v.rstrip() != org_id}

    @cached_property
    def digest_positions(self) -> list[int]:
        """Every column but the tenant: what a row's digest covers (the tenant differs by design)."""
        return [i for i in range(len(self.columns)) if i != self.tenant_position]


DERIVED = re.compile(r"^(lower|md5)\(([A-Z][A-Z0-9_]{0,127})\)$")  # lower(COLUMN), md5(COLUMN)


class References(_Strict):
    links: list[str] = []
    users: list[str] = []
    orgs: list[str] = []
    # A column computed from another reference column (`lower(PROF_UID)`, `md5(ORIGINAL_URL)`): the
    # fix-up computes it again whenever it rewrites its source, never maps it on its own.
    derived: dict[str, str] = {}

    @field_validator("derived")
    @classmethod
    def _derived(cls, derived: dict[str, str]) -> dict[str, str]:
        for column, rule in derived.items():
            if not DERIVED.match(rule):
                raise ValueError(f"derived column {column}: {rule!r} is not lower(COLUMN) or md5(COLUMN)")
        return derived

    def all(self) -> list[str]:
        return [*self.links, *self.users, *self.orgs, *self.derived]

    def rule(self, column: str) -> tuple[str, str]:
        """A derived column's rule and source column."""
        match = DERIVED.match(self.derived[column])
        return match[1], match[2]


def derive(rule: str, source: str) -> str:
    """A derived column's value from its source's value (`References.derived`)."""
    if rule == "lower":
        return source.lower()
    return hashlib.md5(source.encode("utf-8"), usedforsecurity=False).hexdigest()


class Person(_Strict):
    """A table listing an application's people, a row per person, which the MSP's directory sync
    (or the product, on first use) may already have filled in the target: the fix-up merges such a
    person with the org's (offboard.fixup.people). `id` is the person's user id (a `users`
    column); `home_org` names a guest's own org (an `orgs` column); `where` tells people from other
    rows in a table that also lists communities (HOMEPAGE.PERSON: MEMBER_TYPE 0)."""

    id: Identifier
    home_org: Identifier | None = None
    where: dict[Identifier, int | str] = {}

    def describes(self, value: Callable[[str], object]) -> bool:
        """Whether a row (`value`: its value of a column) is a person, not another kind of member."""
        return all(str(value(column)).strip() == str(wanted) for column, wanted in self.where.items())


class Layout(_Strict):
    """How a content store names a binary from its row's id: `levels` folders, each a number
    below `fanout` computed from the id (offboard.db.content), then the id itself."""

    rule: Literal["hashed-id"]
    levels: int = Field(2, ge=1, le=4)
    fanout: int = Field(128, ge=2, le=4096)
    inferred: str | None = None


class ContentStore(_Strict):
    folder: str = Field(pattern=r"^[a-z]+(?:/[a-z]+)*$")  # under the shared data directory
    about: str
    layout: Layout | None = None  # None: the rows name the path (`content.path`)


class Content(_Strict):
    """Where a row's binaries lie in its store: at the path its `path` columns spell (joined by
    "/"), at the path the store's layout computes from its `id` column, or every file under the
    folder its `folder` column names (Blogs keeps a weblog's uploads in a folder of its own)."""

    store: str
    path: list[str] | None = None
    id: str | None = None
    folder: str | None = None
    links: bool = False  # the binaries are text holding links (wiki pages): the fix-up rewrites them

    @field_validator("path", mode="before")
    @classmethod
    def _columns(cls, value: object) -> object:
        return [value] if isinstance(value, str) else value

    @model_validator(mode="after")
    def _one_locator(self) -> Content:
        if sum(locator is not None for locator in (self.path, self.id, self.folder)) != 1 or self.path == []:
            raise ValueError("content needs one of: path (columns), id (a column), folder (a column)")
        return self

    @property
    def columns(self) -> list[str]:
        return self.path or [self.id or self.folder]


class TableSpec(TableShape):
    changed: str | None = None
    references: References = References()
    parents: dict[str, str] = {}  # column -> SCHEMA.TABLE whose key it holds (a foreign key)
    content: Content | None = None
    # The org's own row that other tables reference (EMPINST.TENANT): the target keeps its own
    # if it has one, or gets the delivery's; never updated or deleted by a delta.
    ensure: bool = False
    person: Person | None = None
    # The product's unique indexes besides the key, each with the tenant column (EMPLOYEE's
    # (PROF_GUID, TENANT_KEY)): what the fix-up must not break when it maps and merges people.
    unique: list[list[Identifier]] = []
    inferred: str | None = None  # what about this table nobody has seen, in words

    @model_validator(mode="after")
    def _roles(self) -> TableSpec:
        if self.changed is not None:
            self._require_columns("changed", [self.changed])
            if self.columns[self.changed] != "TIMESTAMP":
                raise ValueError(f"change-time column {self.changed} must be a TIMESTAMP")
        self._require_columns("reference", self.references.all())
        for column in self.references.all():
            if not self.types[column].is_text:
                raise ValueError(f"reference column {column} must be CHAR, VARCHAR or CLOB")
            if column == self.tenant or column in self.key:
                raise ValueError(f"reference column {column} cannot be the tenant or a key column")
        for column in self.references.derived:
            source = self.references.rule(column)[1]
            if source not in self.references.all() or source in self.references.derived:
                raise ValueError(f"derived column {column}: its source {source} must be a links, users or orgs column")
        if self.person is not None:
            if self.person.id not in self.references.users:
                raise ValueError(f"person id {self.person.id} must be a users reference column")
            if self.person.home_org is not None and self.person.home_org not in self.references.orgs:
                raise ValueError(f"person home_org {self.person.home_org} must be an orgs reference column")
            self._require_columns("person where", list(self.person.where))
            if len(self.key) != 1:
                raise ValueError("a person table needs a single-column key")
        for columns in self.unique:
            self._require_columns("unique", columns)
        self._require_columns("parent", list(self.parents))
        for column, parent in self.parents.items():
            if not QUALIFIED.match(parent):
                raise ValueError(f"parent of {column} must be SCHEMA.TABLE, not {parent!r}")
        if self.content is not None:
            self._require_columns("content", self.content.columns)
            if any(not self.types[c].is_text or self.types[c].is_lob for c in self.content.columns if c != self.content.id):
                raise ValueError("content path and folder columns must be CHAR or VARCHAR")
        if self.tenant in self.key and not (self.ensure and self.key == [self.tenant]):
            # The import writes the target org id into the tenant column; a key holding it would change.
            raise ValueError(f"tenant column {self.tenant} must not be part of the key (but the whole key of an `ensure` table)")
        return self


class Release(_Strict):
    """Where a database records its schema release (compared between source and target)."""

    table: Qualified
    column: Identifier
    where: dict[Identifier, str] = {}  # column -> value of the release's row, in a table of name/value rows
    inferred: str | None = None


class DatabaseSpec(_Strict):
    application: str
    schema_name: str = Field(alias="schema")
    tables: dict[str, TableSpec] = Field(min_length=1)
    # Tables known to exist and deliberately not moved (SCHEMA.TABLE -> why): a cache, an
    # index the product rebuilds, another org's configuration.
    excluded: dict[Qualified, str] = {}
    release: Release | None = None


class Catalog(_Strict):
    format: format_version(FORMAT)
    content_stores: dict[str, ContentStore]
    databases: dict[str, DatabaseSpec] = Field(min_length=1)

    @model_validator(mode="after")
    def _references(self) -> Catalog:
        names = {table.qualified: table for database in self.databases.values() for table in database.tables.values()}
        for table in names.values():
            if table.content is not None and table.content.store not in self.content_stores:
                raise ValueError(f"{table.qualified}: content store {table.content.store!r} is not in content_stores")
            if table.content is not None and table.content.id and not self.content_stores[table.content.store].layout:
                raise ValueError(f"{table.qualified}: content store {table.content.store!r} has no layout for an id")
            for column, parent in table.parents.items():
                if parent not in names:
                    raise ValueError(f"{table.qualified}.{column}: parent table {parent} is not in the catalog")
                if len(names[parent].key) != 1:
                    raise ValueError(f"{table.qualified}.{column}: parent table {parent} has a composite key")
        for database in self.databases.values():
            both = set(database.excluded) & {table.qualified for table in database.tables.values()}
            if both:
                raise ValueError(f"{sorted(both)[0]} is both moved and excluded")
        self._ordered  # noqa: B018  (computed now: a cycle is refused with the rest)
        return self

    def tables(self) -> list[TableSpec]:
        """All tables, parents before the tables that reference them (the load order)."""
        return list(self._ordered)

    @cached_property
    def _ordered(self) -> list[TableSpec]:
        """The tables in catalog order, except that a table comes after every table its
        `parents` name and after the ensure tables of its database: the order in which foreign
        keys let them load."""
        tables = {table.qualified: table for database in self.databases.values() for table in database.tables.values()}
        names = list(tables)
        position = {name: i for i, name in enumerate(names)}
        ensured = {table.database: set() for table in tables.values()}
        for table in tables.values():
            if table.ensure:
                ensured[table.database].add(table.qualified)
        # Every table of a database comes after its ensure tables: the org's own row they reference.
        waiting = {name: ({p for p in table.parents.values()} | (set() if table.ensure else ensured[table.database])) - {name}
                   for name, table in tables.items()}
        ready = [position[name] for name, parents in waiting.items() if not parents]
        heapq.heapify(ready)
        ordered: list[TableSpec] = []
        while ready:
            table = tables[names[heapq.heappop(ready)]]
            ordered.append(table)
            for name, parents in waiting.items():
                if table.qualified in parents:
                    parents.discard(table.qualified)
                    if not parents:
                        heapq.heappush(ready, position[name])
        if len(ordered) < len(tables):
            cycle = sorted(name for name, parents in waiting.items() if parents)
            raise ValueError(f"the parents of tables {', '.join(cycle)} form a cycle")
        return ordered

    def table(self, qualified: str) -> TableSpec:
        for table in self.tables():
            if table.qualified == qualified:
                return table
        raise OffboardError(f"the catalog has no table {qualified}")


def load_catalog(path: Path) -> Catalog:
    """Read and validate the catalog; every problem is one OffboardError line naming the file."""
    try:
        document = yaml.load(path.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # libyaml: 5x faster
    except OSError as error:
        raise OffboardError(f"cannot read the catalog {path}: {error.strerror}") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        raise OffboardError(f"{path}:{f' line {mark.line + 1}' if mark else ''} not valid YAML") from None
    try:
        return Catalog.model_validate(_with_table_names(document))
    except ValidationError as error:
        raise OffboardError(f"{path}: {describe(error)}") from None


def _with_table_names(document: object) -> object:
    """Give every table its database, schema and name, which the YAML expresses by nesting."""
    if not isinstance(document, dict) or not isinstance(document.get("databases"), dict):
        return document
    databases = {}
    for database, body in document["databases"].items():
        if isinstance(body, dict) and isinstance(body.get("tables"), dict):
            tables = {
                name: {"database": database, "schema": body.get("schema"), "name": name, **table}  # a table may name its own schema
                if isinstance(table, dict) else table
                for name, table in body["tables"].items()
            }
            body = {**body, "tables": tables}
        databases[database] = body
    return {**document, "databases": databases}
