"""The SQL the database stages issue, as SQLAlchemy constructs that compile for DB2, PostgreSQL and SQLite.

Every statement touching target rows carries the tenant predicate, so it can only ever reach
the org's own rows. The org id is inlined as a literal: it is validated to be digits, and an
executemany then binds only the row's own values.
"""

from __future__ import annotations

import re

import sqlalchemy as sa
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import ClauseElement, Executable

from offboard.errors import OffboardError

ORG_ID = re.compile(r"^[0-9]{1,20}$")  # not \d: it takes the digits of every script, and so does int()
LOOKUP_BATCH = 500  # values of an expanding IN list per query: under every engine's limit on parameters


def tenant_literal(org_id: str) -> sa.ColumnElement:
    if not ORG_ID.match(org_id):
        raise OffboardError(f"org id {org_id!r} must be digits")
    return sa.literal_column(f"'{org_id}'", sa.VARCHAR)


def select_org_rows(table: sa.Table, tenant: str, key: list[str], columns: list[str] | None = None) -> sa.Select:
    """The org's rows in key order (so repeated exports write identical files); binds `org`."""
    selected = [table.c[name] for name in columns] if columns else list(table.c)
    return sa.select(*selected).where(table.c[tenant] == sa.bindparam("org")).order_by(*(table.c[k] for k in key))


def select_locators(table: sa.Table, locators: list[str], tenant: str, *, among: bool) -> sa.Select:
    """The locator columns and the tenant of every row, of any tenant; `among`: only of the rows
    whose last locator column is one of the expanding `values`."""
    statement = sa.select(*(table.c[name] for name in locators), table.c[tenant])
    return statement.where(table.c[locators[-1]].in_(sa.bindparam("values", expanding=True))) if among else statement


def select_keys_of_others(table: sa.Table, tenant: str, key: list[str], org_id: str) -> sa.Select:
    """The keys of the rows of any other tenant whose first key column is among the expanding
    `firsts` (the caller compares the whole key)."""
    return sa.select(*(table.c[k] for k in key)).where(
        table.c[tenant] != tenant_literal(org_id), table.c[key[0]].in_(sa.bindparam("firsts", expanding=True)))


def select_referencing(table: sa.Table, tenant: str, columns: list[str], column: str, org_id: str) -> sa.Select:
    """`columns` (their keys, say) of the org's rows whose `column` holds one of the expanding `parents`."""
    return sa.select(*(table.c[name] for name in columns)).where(
        table.c[tenant] == tenant_literal(org_id), table.c[column].in_(sa.bindparam("parents", expanding=True)))


def select_among(table: sa.Table, columns: list[str], column: str) -> sa.Select:
    """`columns` of the rows of any tenant whose `column` holds one of the expanding `values`."""
    return sa.select(*(table.c[name] for name in columns)).where(table.c[column].in_(sa.bindparam("values", expanding=True)))


def count_org_rows(table: sa.Table, tenant: str) -> sa.Select:
    return sa.select(sa.func.count()).select_from(table).where(table.c[tenant] == sa.bindparam("org"))


def insert_rows(table: sa.Table, tenant: str, org_id: str) -> sa.Insert:
    """Plain insert; compile with column_keys = the other columns. The tenant is the target org."""
    return sa.insert(table).values({tenant: tenant_literal(org_id)})


def delete_keys(table: sa.Table, tenant: str, key: list[str], org_id: str) -> sa.Delete:
    return sa.delete(table).where(table.c[tenant] == tenant_literal(org_id), *(table.c[k] == sa.bindparam(k) for k in key))


def update_columns(table: sa.Table, tenant: str, key: list[str], columns: list[str], org_id: str) -> sa.Update:
    """Binds `set_<column>` and `key_<column>` (SQLAlchemy reserves the plain names in SET)."""
    return (
        sa.update(table)
        .where(table.c[tenant] == tenant_literal(org_id), *(table.c[k] == sa.bindparam(f"key_{k}") for k in key))
        .values({name: sa.bindparam(f"set_{name}") for name in columns})
    )


def upsert_rows(table: sa.Table, tenant: str, key: list[str], org_id: str, dialect_name: str) -> ClauseElement:
    """Insert or update by key, never touching a row of another tenant that has the same key.

    DB2 and PostgreSQL (any dialect with standard MERGE) get MERGE INTO; SQLite gets INSERT ... ON CONFLICT.
    Compile with column_keys = the columns other than the tenant for SQLite.
    """
    if dialect_name == "sqlite":
        statement = sqlite_insert(table).values({tenant: tenant_literal(org_id)})
        updated = {c.name: statement.excluded[c.name] for c in table.c if c.name != tenant and c.name not in key}
        if not updated:
            return statement.on_conflict_do_nothing(index_elements=key)
        return statement.on_conflict_do_update(
            index_elements=key, set_=updated, where=table.c[tenant] == tenant_literal(org_id)
        )
    return Merge(table, tenant, key, org_id)


class Merge(Executable, ClauseElement):
    """MERGE INTO table USING (VALUES (typed parameters)) ON key: the DB2 upsert for one row."""

    inherit_cache = False

    def __init__(self, table: sa.Table, tenant: str, key: list[str], org_id: str) -> None:
        self.table = table
        self.tenant = tenant
        self.key = key
        self.org_id = org_id


@compiles(Merge)
def _compile_merge(merge: Merge, compiler, **kw) -> str:
    quote = compiler.preparer.quote
    columns = [c for c in merge.table.c if c.name != merge.tenant]
    names = ", ".join(quote(c.name) for c in columns)
    # DB2 cannot type a bare parameter marker inside VALUES; the catalog's types say what it is
    # (written out: the DB2 dialect drops a CAST to some types, such as a LOB's).
    values = ", ".join(f"CAST({compiler.process(sa.bindparam(c.name, type_=c.type), **kw)} AS "
                       f"{c.type.compile(dialect=compiler.dialect)})" for c in columns)
    tenant = quote(merge.tenant)
    org = compiler.process(tenant_literal(merge.org_id), **kw)
    on = " AND ".join(f"t.{quote(k)} = s.{quote(k)}" for k in merge.key)
    updated = [quote(c.name) for c in columns if c.name not in merge.key]
    matched = f" WHEN MATCHED AND t.{tenant} = {org} THEN UPDATE SET {', '.join(f'{n} = s.{n}' for n in updated)}" if updated else ""
    return (
        f"MERGE INTO {compiler.process(merge.table, asfrom=True, **kw)} AS t "
        f"USING (VALUES ({values})) AS s ({names}) ON {on}{matched} "
        f"WHEN NOT MATCHED THEN INSERT ({names}, {tenant}) VALUES ({', '.join(f's.{quote(c.name)}' for c in columns)}, {org})"
    )
