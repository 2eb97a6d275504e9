"""Plausible rows for any catalog table of one org, and their binaries. Every column type gets
plausible values (binary ids, BLOBs whose bytes break naive text handling, HTML bodies linking
to the cloud hosts, non-ASCII names); a `parents` column holds the key of a row of the same org
in its parent table; every content row has its binaries in its store."""

from __future__ import annotations

import random
import uuid
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

from offboard.db.catalog import Catalog, TableSpec, derive
from offboard.db.content import binary_path
from offboard.db.types import INTEGER_RANGE, ColumnType, parse_type
from offboard.sample.layout import OrgSample, SampleLayout, User

EPOCH = datetime(2023, 1, 2, 8, 0, 0)
TIMESTAMP = "%Y-%m-%d %H:%M:%S.%f"

_WORDS = ("budget plan review draft launch meeting notes roadmap customer team quarterly report design "
          "release travel policy onboarding training workshop agenda minutes proposal summary").split()
# In every BLOB: NUL, LF, CR LF, a double quote, a comma, and bytes no UTF-8 decoder takes (ff fe, a lone 80).
NASTY_BYTES = b'\x00\n\r\n",\xff\xfeA\x80Z'
_JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01"
_PAGE_TYPE = parse_type("CLOB(1M)")
_GUEST_FLAGS = ("ISEXTERNAL", "IS_EXTERNAL")  # a column whose name ends so marks a guest (1) or a member (0)


def is_people(spec: TableSpec) -> bool:
    """An application's list of people (the catalog's `person`): a row per user."""
    return spec.person is not None


def plain(value: object) -> object:
    """A key value as generated: DB2 and PostgreSQL give CHAR(n) back padded with blanks."""
    return value.rstrip(" ") if isinstance(value, str) else value


def fit_text(text: str, column_type: ColumnType) -> str:
    """`text` cut to the column's length in bytes of UTF-8, never inside a character."""
    if column_type.length is None or len(text) * 4 <= column_type.length:
        return text
    return text.encode()[: column_type.length].decode("utf-8", "ignore")


def size_columns(spec: TableSpec) -> list[str]:
    """The integer columns of a content table holding its binary's size (FILE_SIZE, FILESIZE, SIZE)."""
    if not spec.content:
        return []
    return [column for column, column_type in spec.types.items() if column_type.is_integer and column.endswith("SIZE")]


class RowMaker:
    """Plausible rows for any catalog table of one org, and their binaries."""

    def __init__(self, rng: random.Random, org: OrgSample, layout: SampleLayout, catalog: Catalog, used: dict[str, set]) -> None:
        self.rng = rng
        self.org = org
        self.layout = layout
        self.catalog = catalog
        self.keys: dict[str, list] = {}  # table -> first key column's values of the org's rows, for `parents`
        self.used = used  # table -> the keys of its rows of every org, since a key is unique in the table
        self._derived: dict[str, set[str]] = {}  # table -> columns `finish` fills in
        self._folders: set[Path] = set()  # made already

    def rows(self, spec: TableSpec, count: int) -> list[tuple]:
        rows, used = [], self.used.setdefault(spec.qualified, set())
        for _ in range(count * 3):  # composite keys and keys that are parents may repeat; try a few more times
            values = self.values(spec, self.rng.choice(self.org.users))
            if tuple(values[k] for k in spec.key) not in used:
                rows.append(self.finish(spec, values))
            if len(rows) == count:
                break
        return rows

    def make(self, spec: TableSpec, user: User) -> tuple:
        return self.finish(spec, self.values(spec, user))

    def values(self, spec: TableSpec, user: User) -> dict[str, object]:
        people = is_people(spec)
        if spec.qualified not in self._derived:
            locators = [c for c in spec.content.columns if c != spec.content.id] if spec.content else []
            self._derived[spec.qualified] = {*locators, *size_columns(spec)}
        derived = self._derived[spec.qualified]
        values = {column: None if column in derived else self.value(spec, column, column_type, user, people)
                  for column, column_type in spec.types.items()}
        for column in spec.references.derived:  # a lower-case twin, a hash: computed from its source, as the product does
            rule, source = spec.references.rule(column)
            values[column] = None if values[source] is None else fit_text(derive(rule, values[source]), spec.types[column])
        return values

    def finish(self, spec: TableSpec, values: dict[str, object]) -> tuple:
        """The row, its key kept for the rows referencing it, its binaries written into its store."""
        self.keys.setdefault(spec.qualified, []).append(values[spec.key[0]])
        self.used.setdefault(spec.qualified, set()).add(tuple(values[k] for k in spec.key))
        if spec.content:
            self.locate(spec, values)
            sizes = []
            pages = spec.content.links
            for relative in content_files(self.catalog, self.layout, spec, values, self.rng):
                data = self.page() if pages and self.rng.random() < 0.5 else self.rng.randbytes(self.rng.randrange(200, 4000))
                path = self.layout.content_stores[spec.content.store] / relative
                if path.parent not in self._folders:
                    path.parent.mkdir(parents=True, exist_ok=True)
                    self._folders.add(path.parent)
                path.write_bytes(data)
                sizes.append(len(data))
            values.update(dict.fromkeys(size_columns(spec), sizes[0]))
        return tuple(values.values())

    def locate(self, spec: TableSpec, values: dict[str, object]) -> None:
        """The row's path columns: `<2 hex>/<the row's id or a uuid>` in the first, a folder of two
        hex digits in any between, a file name in the last of several; or its folder column, a
        name of its own (a weblog's handle). An id column was made with the row: the store's
        layout names its binary."""
        if spec.content.folder:
            values[spec.content.folder] = fit_text(f"{self.rng.choice(_WORDS)}-{self.rng.getrandbits(48):012x}", spec.types[spec.content.folder])
        columns = spec.content.path or []
        first = values[spec.key[0]]
        name = str(uuid.UUID(int=self.rng.getrandbits(128), version=4))
        if len(spec.key) == 1 and isinstance(first, bytes) and len(first) == 16:
            name = str(uuid.UUID(bytes=first))
        elif len(spec.key) == 1 and isinstance(first, (str, int)) and str(first).replace("-", "").isalnum():
            name = str(first)
        parts = [f"{self.rng.getrandbits(8):02x}/{name}", *(f"{self.rng.getrandbits(8):02x}" for _ in columns[2:])]
        if len(columns) > 1:
            parts.append(f"{self.rng.choice(_WORDS)}-{self.rng.randrange(1000)}.bin")
        for column, part in zip(columns, parts):
            room = spec.types[column].length
            if len(part) > room:  # a short column: a shorter name
                part = f"{part[:3]}{self.rng.getrandbits(128):032x}"[:room] if column == columns[0] else part[-room:]
            values[column] = part

    def value(self, spec: TableSpec, column: str, column_type: ColumnType, user: User, people: bool) -> object:
        rng, kind = self.rng, column_type.kind
        if column == spec.tenant:
            return self.org.org_id
        if column in spec.references.orgs:  # a guest's home org in a list of people, else the org's own id
            return fit_text(user.home_org if people and user.home_org else self.org.org_id, column_type)
        if column in spec.parents:
            return self.parent(spec, column, column_type)
        if column in spec.key or (spec.content and column == spec.content.id):
            return self.unique(column_type)
        if column in spec.references.users:
            return fit_text(user.cloud_id, column_type)
        if people and column in spec.person.where:  # a person, not a community
            return spec.person.where[column]
        if column.endswith(_GUEST_FLAGS) and (column_type.is_integer or kind in ("CHAR", "VARCHAR")):
            flag = int(people and user.home_org is not None)
            return flag if column_type.is_integer else str(flag)
        if column in spec.references.links:
            return self.linked_text(column, column_type, user)
        if kind == "TIMESTAMP":
            return (EPOCH + timedelta(seconds=rng.randrange(0, 400 * 86400), microseconds=rng.randrange(10**6))).strftime(TIMESTAMP)
        if kind == "DATE":
            return (EPOCH.date() + timedelta(days=rng.randrange(-15_000, 400))).isoformat()
        if kind == "TIME":
            return f"{rng.randrange(24):02d}:{rng.randrange(60):02d}:{rng.randrange(60):02d}"
        roll = rng.random()
        if roll < 0.08 and kind != "BLOB" and not column_type.is_integer:
            return None  # Connections leaves many optional columns NULL
        if kind == "DOUBLE":
            if roll < 0.35:
                return -rng.uniform(0, 1e6)
            return rng.randrange(-4000, 4000) / 8 if roll < 0.5 else rng.random() * 10.0 ** rng.randrange(-6, 12)
        if kind == "DECIMAL":
            return self.decimal(column_type, negative=roll < 0.3)
        if kind == "BLOB":
            return None if roll < 0.06 else self.blob(column, column_type)
        if kind == "BINARY":
            return rng.randbytes(column_type.length)
        if kind == "VARBINARY":  # activity stream metadata: some a few bytes, some longer
            size = rng.randrange(1, 5) if roll < 0.4 else rng.randrange(5, max(6, min(column_type.length, 200) + 1))
            return rng.randbytes(min(size, column_type.length))
        if column_type.is_integer:
            return rng.randrange(0, 4)
        if people and "MAIL" in column:
            return fit_text(user.email.lower() if column.endswith("LOWER") else user.email, column_type)
        if people and any(part in column for part in ("NAME", "DISPLAY")):
            return fit_text(user.name, column_type)
        if roll < 0.12:
            return ""
        words = " ".join(rng.choice(_WORDS) for _ in range(rng.randrange(2, 60 if kind == "CLOB" else 6)))
        return fit_text(words.capitalize(), column_type)

    def parent(self, spec: TableSpec, column: str, column_type: ColumnType) -> object:
        """The key of one of the org's rows of the parent table; in a table referencing itself, of
        an earlier row, or NULL (a root). Only the first two thirds of the parent's rows get
        children, so that every table keeps rows nothing references (leaves a mutation may delete)."""
        keys = self.keys.get(spec.parents[column]) or []
        if not keys or (spec.parents[column] == spec.qualified and self.rng.random() < 0.3):
            return None
        value = plain(keys[self.rng.randrange((2 * len(keys) + 2) // 3)])
        if column_type.is_binary and isinstance(value, str):
            return value.encode()
        if column_type.is_text and isinstance(value, bytes):
            return str(uuid.UUID(bytes=value)) if len(value) == 16 else value.hex()
        return str(value) if column_type.is_text and not isinstance(value, str) else value

    def unique(self, column_type: ColumnType) -> object:
        """A key value, unique with near certainty: 16 random bytes for a CHAR(16) FOR BIT DATA id."""
        rng, kind = self.rng, column_type.kind
        if kind == "BINARY":
            return rng.randbytes(column_type.length)
        if kind == "VARBINARY":
            return rng.randbytes(min(column_type.length, 16))
        if column_type.is_integer:
            return rng.randrange(1, min(INTEGER_RANGE[kind], 1 << 31))
        if kind == "DECIMAL":
            return self.decimal(column_type, negative=False)
        if kind == "DATE":
            return (EPOCH.date() + timedelta(days=rng.randrange(-30_000, 30_000))).isoformat()
        if kind == "TIME":
            return f"{rng.randrange(24):02d}:{rng.randrange(60):02d}:{rng.randrange(60):02d}"
        if column_type.length >= 36:
            return str(uuid.UUID(int=rng.getrandbits(128), version=4))
        return f"{rng.getrandbits(4 * column_type.length):0{column_type.length}x}"

    def decimal(self, column_type: ColumnType, negative: bool) -> Decimal:
        """A DECIMAL(p,s) value with at most 15 digits (what SQLite keeps of a number)."""
        digits = min(column_type.precision, 15)
        scale = min(column_type.scale, digits)
        value = Decimal(self.rng.randrange(10**digits)).scaleb(-scale)
        return -value if negative else value

    def blob(self, column: str, column_type: ColumnType) -> bytes:
        """A few hundred bytes to a few KB, every one holding NASTY_BYTES somewhere (a photo starts
        as a JPEG does)."""
        size = min(column_type.length, self.rng.randrange(300, 4000))
        head = _JPEG if any(part in column for part in ("PHOTO", "IMAGE", "THUMB")) else b""
        body = self.rng.randbytes(max(0, size - len(head) - len(NASTY_BYTES)))
        cut = self.rng.randrange(len(body) + 1)
        return (head + body[:cut] + NASTY_BYTES + body[cut:])[: column_type.length]

    def page(self) -> bytes:
        """A wiki page as its store keeps it: HTML linking to the cloud hosts, people and the org."""
        body = self.linked_text("PAGE", _PAGE_TYPE, self.rng.choice(self.org.users))
        return f"<!DOCTYPE html><html><head><meta charset=\"utf-8\"></head><body>{body}</body></html>\n".encode()

    def linked_text(self, column: str, column_type: ColumnType, user: User) -> str:
        rng, host = self.rng, self.rng.choice(self.layout.cloud_hosts)
        someone = rng.choice(self.org.users)
        links = [
            f"https://{host}/profiles/html/profileView.do?userid={someone.cloud_id}",
            f"https://{host}/communities/service/html/communityview?communityUuid={uuid.UUID(int=rng.getrandbits(128))}",
            f"https://{host}/files/app#/file/{uuid.UUID(int=rng.getrandbits(128))}",
            f"https://{host}/wikis/home?lang=en-us#!/wiki/W{rng.getrandbits(32):08x}",
            f"https://{host}/communities/service/html/allcommunities?orgId={self.org.org_id}",
        ]
        if column.endswith("URL") or (column_type.length or 0) <= 256:
            return fit_text(rng.choice(links), column_type)
        mention = (f'<span class="vcard"><a class="fn url" href="https://{host}/profiles/html/profileView.do?userid={user.cloud_id}">'
                   f'@{user.name}</a><span class="x-lconn-userid" style="display: none;">{user.cloud_id}</span></span>')
        parts = [f'{" ".join(rng.choice(_WORDS) for _ in range(8))} <a href="{link}">{rng.choice(_WORDS)}</a>' for link in rng.sample(links, 2)]
        text = f"<p>{parts[0]}, {mention} said: &quot;see {parts[1]}&quot; and https://www.example.org/{rng.choice(_WORDS)}</p>"
        return fit_text(text, column_type)


def content_files(catalog: Catalog, layout: SampleLayout, spec: TableSpec, values: dict[str, object],
                   rng: random.Random | None = None) -> list[str]:
    """The paths, inside the row's store, of the row's binaries: the one its path columns spell or
    its id names, or the files in its folder (with `rng`: one to three new ones, named at random;
    without it: those there are)."""
    content = spec.content
    if content.id:
        return [binary_path(catalog.content_stores[content.store].layout, values[content.id])]
    path = "/".join(str(values[column]).rstrip(" ").strip("/") for column in content.columns)
    if content.path:
        return [path]
    if rng:
        return [f"{path}/{rng.choice(_WORDS)}-{number}.{rng.choice(('png', 'pdf', 'html'))}" for number in range(rng.randrange(1, 4))]
    folder = layout.content_stores[content.store] / path
    return sorted(p.relative_to(layout.content_stores[content.store]).as_posix() for p in folder.rglob("*") if p.is_file())
