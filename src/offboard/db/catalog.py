"""The catalog of Connections databases and tables (runbooks/catalog/connections.yaml).

Loaded once and validated strictly: a catalog that names a column it does not declare, or a
type we cannot carry, is a one-line error before anything touches a database.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from functools import cached_property
from operator import itemgetter
from pathlib import Path

import sqlalchemy as sa
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from offboard.errors import OffboardError
from offboard.validation import describe, format_version

CATALOG_FILE = Path("catalog") / "connections.yaml"  # inside the project's runbooks/
FORMAT = 1

_TYPE = re.compile(r"^(?:(?P<sized>CHAR|VARCHAR)\((?P<length>[1-9][0-9]{0,4})\)|CLOB|SMALLINT|INTEGER|BIGINT|TIMESTAMP)$")
IDENTIFIER = re.compile(r"^[A-Z][A-Z0-9_]{0,127}$")  # an upper-case DB2 name: databases, schemas, tables, columns
_INTEGER_TYPES = {"SMALLINT": sa.SMALLINT, "INTEGER": sa.INTEGER, "BIGINT": sa.BIGINT}
# The longest text of a value: -32768, -2147483648, -9223372036854775808, and a TIMESTAMP(12)
# (yyyy-mm-dd-hh.mm.ss.nnnnnnnnnnnn; the six digits of the usual TIMESTAMP(6) are shorter).
_FIXED_CHARS = {"SMALLINT": 6, "INTEGER": 11, "BIGINT": 20, "TIMESTAMP": 32}
# A CLOB declared without a length is DB2's default length, CLOB(1M): 1 MiB.
CLOB_CHARS = 1 << 20


def is_text_type(type_text: str) -> bool:
    return type_text == "CLOB" or type_text.startswith(("CHAR(", "VARCHAR("))


def is_integer_type(type_text: str) -> bool:
    return type_text in _INTEGER_TYPES


def max_chars(type_text: str) -> int:
    """The most characters a value of a catalog type can have as text. DB2 counts CHAR(n) and
    VARCHAR(n) in bytes, and n bytes are never more than n characters."""
    match = _TYPE.match(type_text)
    if match and match["sized"]:
        return int(match["length"])
    return CLOB_CHARS if type_text == "CLOB" else _FIXED_CHARS[type_text]


def sa_type(type_text: str) -> sa.types.TypeEngine:
    """The SQLAlchemy type of one catalog type (validated by the catalog already)."""
    match = _TYPE.match(type_text)
    if match and match["sized"]:
        return (sa.CHAR if match["sized"] == "CHAR" else sa.VARCHAR)(int(match["length"]))
    if type_text in _INTEGER_TYPES:
        return _INTEGER_TYPES[type_text]()
    return sa.Text() if type_text == "CLOB" else sa.TIMESTAMP()  # Text: CLOB on DB2, TEXT on PostgreSQL


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
            if not isinstance(type_text, str) or not _TYPE.match(type_text):
                raise ValueError(f"{column}: unsupported type {type_text!r} (CHAR(n), VARCHAR(n), CLOB, SMALLINT, INTEGER, BIGINT, TIMESTAMP)")
        return columns

    @model_validator(mode="after")
    def _tenant_and_key(self) -> TableShape:
        self._require_columns("tenant", [self.tenant])
        self._require_columns("key", self.key)
        if not is_text_type(self.columns[self.tenant]) or self.columns[self.tenant] == "CLOB":
            raise ValueError(f"tenant column {self.tenant} must be CHAR or VARCHAR")
        if self.tenant in self.key:
            # The import writes the target org id into the tenant column; a key holding it would change.
            raise ValueError(f"tenant column {self.tenant} must not be part of the key")
        if any(self.columns[k] in ("CLOB", "TIMESTAMP") for k in self.key):
            raise ValueError("key columns must be CHAR, VARCHAR or integers")
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
    def field_chars(self) -> list[int]:
        """The most characters of each column's values, in column order: what a reader of
        delivered rows allows."""
        return list(map(max_chars, self.columns.values()))

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


class References(_Strict):
    links: list[str] = []
    users: list[str] = []
    orgs: list[str] = []

    def all(self) -> list[str]:
        return [*self.links, *self.users, *self.orgs]


class Content(_Strict):
    store: str
    locator: str


class TableSpec(TableShape):
    changed: str | None = None
    references: References = References()
    content: Content | None = None

    @model_validator(mode="after")
    def _roles(self) -> TableSpec:
        if self.changed is not None:
            self._require_columns("changed", [self.changed])
            if self.columns[self.changed] != "TIMESTAMP":
                raise ValueError(f"change-time column {self.changed} must be a TIMESTAMP")
        self._require_columns("reference", self.references.all())
        for column in self.references.all():
            if not is_text_type(self.columns[column]):
                raise ValueError(f"reference column {column} must be CHAR, VARCHAR or CLOB")
            if column == self.tenant or column in self.key:
                raise ValueError(f"reference column {column} cannot be the tenant or a key column")
        if self.content is not None:
            self._require_columns("content locator", [self.content.locator])
        return self


class DatabaseSpec(_Strict):
    application: str
    schema_name: str = Field(alias="schema")
    tables: dict[str, TableSpec] = Field(min_length=1)


class Catalog(_Strict):
    format: format_version(FORMAT)
    content_stores: dict[str, str]
    databases: dict[str, DatabaseSpec] = Field(min_length=1)

    @model_validator(mode="after")
    def _stores(self) -> Catalog:
        for table in self.tables():
            if table.content is not None and table.content.store not in self.content_stores:
                raise ValueError(f"{table.qualified}: content store {table.content.store!r} is not in content_stores")
        return self

    def tables(self) -> list[TableSpec]:
        """All tables in catalog order (parents before children)."""
        return [table for database in self.databases.values() for table in database.tables.values()]

    def table(self, qualified: str) -> TableSpec:
        for table in self.tables():
            if table.qualified == qualified:
                return table
        raise OffboardError(f"the catalog has no table {qualified}")


def load_catalog(path: Path) -> Catalog:
    """Read and validate the catalog; every problem is one OffboardError line naming the file."""
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
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
                name: {"database": database, "schema": body.get("schema"), "name": name, **table}
                if isinstance(table, dict) else table
                for name, table in body["tables"].items()
            }
            body = {**body, "tables": tables}
        databases[database] = body
    return {**document, "databases": databases}
