"""The validated settings of one customer, read from `stacks/Pulumi.<stack>.yaml`.

The stack file is Pulumi's own config file, so `pulumi up -s <stack>` reads the same values;
this module is the one place they are checked. Our keys live in the `offboard:` namespace
and are strict (an unknown key is an error, it is usually a typo); `aws:` keys go to the
provider untouched, except `aws:region`, which we need.
"""

from __future__ import annotations

import os
import re
import shlex
from enum import Enum
from pathlib import Path
from typing import Any, Literal, Mapping
from urllib.parse import quote, unquote

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from offboard.db.catalog import IDENTIFIER
from offboard.errors import OffboardError
from offboard.files.selection import check_store
from offboard.masking import register_secret
from offboard.project import Project, read_utf8
from offboard.validation import describe

NAMESPACE = "offboard"
STACK_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,38}[a-z0-9]$")
# Top-level keys Pulumi itself may write into a stack file.
PULUMI_STACK_KEYS = {"config", "secretsprovider", "encryptedkey", "encryptionsalt", "environment"}


class Encryption(str, Enum):
    sse_kms = "sse-kms"
    sse_s3 = "sse-s3"


ENV_REFERENCE = re.compile(r"\$\{([A-Z_][A-Z0-9_]*)\}")
PASSWORD_SETTING = re.compile(r"(?:pwd|passwd|password)\s*=\s*([^;&]*)", re.IGNORECASE)
# No content store is one of these or inside one: an export reads, an import writes, whatever a row names under it.
SYSTEM_TREES = ("/bin", "/boot", "/dev", "/etc", "/lib", "/lib32", "/lib64", "/libx32", "/proc", "/run", "/sbin", "/sys", "/usr",
                "/var/cache", "/var/lib", "/var/log", "/var/mail", "/var/spool")
# Nor one of these itself; a folder inside them can be a store.
SHARED_FOLDERS = ("/", "/home", "/media", "/mnt", "/opt", "/root", "/srv", "/tmp", "/var", "/var/tmp")


class Side(BaseModel):
    """Where one side's data lives: the cloud source, or the MSP's staging or production.

    A database URL holds no password: write `${VARIABLE}` in its place and set that
    environment variable where the command runs. Relative paths are from the project folder.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    databases: dict[str, str] = {}  # Connections database (FILES, WIKIS, ...) -> SQLAlchemy URL
    content_stores: dict[str, Path] = Field({}, alias="contentStores")  # store -> its root folder

    @field_validator("databases")
    @classmethod
    def _database_names(cls, urls: dict[str, str]) -> dict[str, str]:
        for name in urls:
            if not IDENTIFIER.match(name):
                raise ValueError(f"{name!r} is not a Connections database name (upper-case, as in the catalog: FILES, WIKIS, ...)")
        return urls

    @field_validator("databases")
    @classmethod
    def _no_password(cls, urls: dict[str, str]) -> dict[str, str]:
        for name, url in urls.items():
            try:
                if holds_password(url):
                    raise ValueError(f"the {name} URL holds a password: write ${{VARIABLE}} and set that variable instead")
            except ArgumentError:
                raise ValueError(f"the {name} URL is not a database URL") from None
        return urls

    @field_validator("content_stores")
    @classmethod
    def _store_names(cls, stores: dict[str, Path]) -> dict[str, Path]:
        for store in stores:
            try:
                check_store(store)
            except OffboardError as error:
                raise ValueError(str(error)) from None
        return stores


def holds_password(url: str) -> bool:
    """Whether a database URL holds a password other than a `${VARIABLE}`: in the user part, or
    `PWD=`/`password=` anywhere (a parameter, a DB2 connection-string part), encoded or not."""
    given = [make_url(url).password, *(match[1] for text in _decoded(url) for match in PASSWORD_SETTING.finditer(text))]
    return any(value and not ENV_REFERENCE.fullmatch(value) for value in given)


def _decoded(url: str) -> list[str]:
    """The URL percent-decoded once, and again until nothing changes: a setting may be encoded
    inside another (`odbc_connect=...%253D...`)."""
    decoded = [unquote(url)]
    while len(decoded) < 8 and (again := unquote(decoded[-1])) != decoded[-1]:
        decoded.append(again)
    return decoded


class Fixup(BaseModel):
    """What the external-reference fix-up rewrites for this customer."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    cloud_hosts: list[str] = Field(alias="cloudHosts", min_length=1)
    msp_host: str = Field(alias="mspHost", min_length=1)
    user_mapping: Path = Field(alias="userMapping")  # CSV cloud_id,target_id,email from the directory sync
    # direct: the fix-up rewrites the user ids itself; wsadmin: the product's own sync commands do, through
    # the script `runbook render` writes (offboard.fixup.wsadmin), and the workflow waits for the administrator
    route: Literal["direct", "wsadmin"] = "direct"


class Hooks(BaseModel):
    """A command run on each step event with the step's facts as JSON on its input
    (offboard.runbook.hooks): an argv list, or a string split as a shell would, run without one."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    command: list[str] = Field(min_length=1)

    @field_validator("command", mode="before")
    @classmethod
    def _argv(cls, value: Any) -> Any:
        try:
            return shlex.split(value) if isinstance(value, str) else value
        except ValueError as error:
            raise ValueError(f"not a command line: {error}") from None


class Customer(BaseModel):
    """One customer organization and the settings of its transfer."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    stack: str
    # [0-9], not \d: that takes the digits of every script, here and in pydantic's regex alike
    region: str = Field(alias="aws:region", pattern=r"^[a-z]{2}(-[a-z]+)+-[0-9]$")
    org_id: str = Field(alias="offboard:orgId", pattern=r"^[0-9]{1,20}$")
    customer_name: str = Field(alias="offboard:customerName", min_length=1, max_length=200)
    msp_email: str = Field(alias="offboard:mspEmail", pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    encryption: Encryption = Field(Encryption.sse_kms, alias="offboard:encryption")
    noncurrent_version_days: int = Field(30, alias="offboard:noncurrentVersionDays", ge=1, le=3650)
    abort_multipart_days: int = Field(7, alias="offboard:abortMultipartDays", ge=1, le=365)
    kms_deletion_window_days: int = Field(30, alias="offboard:kmsDeletionWindowDays", ge=7, le=30)
    # The org's id in the MSP's Connections: imports write it into the tenant columns.
    target_org_id: str | None = Field(None, alias="offboard:targetOrgId", pattern=r"^[0-9]{1,20}$")
    source: Side | None = Field(None, alias="offboard:source")  # none: IBM's side exports (offboard.runbook.handover)
    staging: Side | None = Field(None, alias="offboard:staging")
    production: Side | None = Field(None, alias="offboard:production")
    fixup: Fixup | None = Field(None, alias="offboard:fixup")
    hooks: Hooks | None = Field(None, alias="offboard:hooks")

    @field_validator("org_id", "target_org_id", mode="before")
    @classmethod
    def _quoted(cls, value: Any) -> Any:
        if isinstance(value, int) and not isinstance(value, bool):
            raise ValueError(f'write it in quotes ("{value}"): an org id is text, and YAML reads a bare number as a number')
        return value

    @field_validator("stack")
    @classmethod
    def _stack_name(cls, value: str) -> str:
        if not STACK_NAME.match(value):
            raise ValueError("lower-case letters, digits and dashes, 2 to 40 characters")
        return value

    @field_validator("customer_name")
    @classmethod
    def _printable(cls, value: str) -> str:
        if not value.strip() or not value.isprintable():
            raise ValueError("must be printable text")
        return value


    def side(self, name: str) -> Side:
        """source, staging or production, as the stack file gives it."""
        side = getattr(self, name) if name in SIDES else None
        if side is None and name == "source":  # the MSP's usual case: its machine does not reach the cloud
            raise OffboardError(f"stack {self.stack} has no offboard:source setting: IBM's side exports its deliveries "
                                f"(`offboard runbook handover {self.stack} initial|delta DIR`), or add the source's "
                                "databases and content stores")
        if side is None:
            raise OffboardError(f"stack {self.stack} has no offboard:{name} setting: add its databases and content stores")
        return side

    def fixup_settings(self) -> Fixup:
        if self.fixup is None:
            raise OffboardError(f"stack {self.stack} has no offboard:fixup setting (cloudHosts, mspHost, userMapping)")
        return self.fixup

    def target_org(self) -> str:
        if self.target_org_id is None:
            raise OffboardError(f"stack {self.stack} has no offboard:targetOrgId: the org's id in the MSP's Connections")
        return self.target_org_id


SIDES = ("source", "staging", "production")


def database_urls(urls: Mapping[str, str], root: Path) -> dict[str, str]:
    """A side's URLs, each `${VARIABLE}` replaced from the environment at the moment of use (and
    the value registered, so that `masking.scrub` takes it out of every message), a relative
    SQLite path made absolute from `root`."""
    def value(match: re.Match) -> str:
        name = match[1]
        if name not in os.environ:
            raise OffboardError(f"set the environment variable {name}: a database URL of this stack needs it")
        register_secret(os.environ[name])
        return quote(os.environ[name], safe="")

    def absolute(url: str) -> str:
        parsed = make_url(url)
        if parsed.get_backend_name() == "sqlite" and parsed.database and not Path(parsed.database).is_absolute():
            return parsed.set(database=str(root / parsed.database)).render_as_string(hide_password=False)
        return url

    # filled in first: rendering a SQLite URL again quotes a `${VARIABLE}` in its query beyond recognition
    return {database: absolute(ENV_REFERENCE.sub(value, url)) for database, url in urls.items()}


def content_roots(stores: Mapping[str, str | Path], root: Path) -> dict[str, Path]:
    """A side's content stores, relative folders taken from `root`; a system folder, or a store
    inside another's folder, is refused."""
    roots = {store: root / folder for store, folder in stores.items()}
    for store, folder in roots.items():
        system = system_folder(folder)
        if system is not None:
            raise OffboardError(f"{store}: {stores[store]} is a system folder ({system}): give the store a folder of its own")
    real = {store: os.path.realpath(folder) for store, folder in roots.items()}
    for store, folder in real.items():
        outer = next((other for other, around in real.items() if other != store and
                      (folder == around or folder.startswith(around.rstrip(os.sep) + os.sep))), None)
        if outer is not None:  # one store's files would be another's, and its record and staging too
            raise OffboardError(f"{store}: {stores[store]} lies in the folder of store {outer} ({stores[outer]}): "
                                "give each store a folder of its own")
    return roots


def system_folder(folder: Path) -> str | None:
    """The system folder `folder` is or lies in, as written or with `..` and links resolved; None if none."""
    home = os.path.realpath(os.path.expanduser("~"))  # not Path.home(): it raises for a user without a home
    for path in dict.fromkeys((os.path.normpath(folder), os.path.realpath(folder))):
        if path in SYSTEM_TREES or path in SHARED_FOLDERS or path == home:
            return path
        tree = next((tree for tree in SYSTEM_TREES if path.startswith(tree + os.sep)), None)
        if tree is not None:
            return tree
    return None


def load_customer(project: Project, stack: str) -> Customer:
    """Read and validate one stack file; every problem becomes one OffboardError line."""
    path = project.stack_file(stack)
    shown = project.shown(path)
    if not path.exists():
        known = ", ".join(project.stack_names()) or "none"
        raise OffboardError(f"unknown stack {stack!r}: {shown} does not exist (stacks: {known})")
    customer = customer_from_document(read_stack_file(path, shown), stack, shown)
    check_content_stores(customer, project.root, shown)
    return customer


def check_content_stores(customer: Customer, root: Path, shown: str) -> None:
    """Refuse a content store at a system folder now, not when a stage runs: a relative folder is
    known only with the project folder, which the settings alone do not hold."""
    for name in SIDES:
        side = getattr(customer, name)
        try:
            content_roots(side.content_stores if side else {}, root)
        except OffboardError as error:
            raise OffboardError(f"{shown}: offboard:{name}.contentStores: {error}") from None


def read_stack_file(path: Path, shown: str) -> Any:
    """The YAML document of a stack file; unreadable, not UTF-8 or not YAML, it is one OffboardError line."""
    try:
        return yaml.safe_load(read_utf8(path, shown)) or {}
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        raise OffboardError(f"{shown}:{where} not valid YAML") from None


def customer_from_document(document: Any, stack: str, shown: str) -> Customer:
    if not isinstance(document, dict) or not isinstance(document.get("config", {}), dict):
        raise OffboardError(f"{shown}: expected a mapping with a 'config:' section")
    unknown_top = set(document) - PULUMI_STACK_KEYS
    if unknown_top:
        raise OffboardError(f"{shown}: unknown top-level key(s) {', '.join(sorted(unknown_top))}")
    config = document.get("config") or {}
    ours = {key: value for key, value in config.items() if key.startswith(f"{NAMESPACE}:") or key == "aws:region"}
    return customer_from_config(ours, stack, shown)


def customer_from_config(config: dict[str, Any], stack: str, shown: str) -> Customer:
    """Validate `offboard:*` and `aws:region` values, from a stack file or from Pulumi's config."""
    for key, value in config.items():
        if isinstance(value, dict) and "secure" in value:
            raise OffboardError(f"{shown}: {key} is a Pulumi secret; it must be plain text")
    try:
        return Customer.model_validate({"stack": stack, **config})
    except ValidationError as error:
        raise OffboardError(f"{shown}: {describe(error)}") from None


def require_own_org(project: Project, customer: Customer) -> None:
    """Refuse a second stack for the same org: it would be provisioned, exported and imported
    twice. Stack files that cannot be read are passed over here (`offboard fleet` shows them)."""
    for stack in project.stack_names():
        if stack == customer.stack:
            continue
        path = project.stack_file(stack)
        try:
            document = read_stack_file(path, project.shown(path))
        except OffboardError:
            continue
        config = document.get("config") if isinstance(document, dict) else None
        if isinstance(config, dict) and str(config.get(f"{NAMESPACE}:orgId")) == customer.org_id:
            raise OffboardError(f"stacks/Pulumi.{stack}.yaml is for org {customer.org_id} too: one stack per org, "
                                "or the org is moved twice")
