"""The validated settings of one customer, read from `stacks/Pulumi.<stack>.yaml`.

The stack file is Pulumi's own config file, so `pulumi up -s <stack>` reads the same values;
this module is the one place they are checked. Our keys live in the `offboard:` namespace
and are strict (an unknown key is an error, it is usually a typo); `aws:` keys go to the
provider untouched, except `aws:region`, which we need.
"""

from __future__ import annotations

import os
import re
from enum import Enum
from pathlib import Path
from typing import Any, Mapping
from urllib.parse import quote, unquote

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from offboard.errors import OffboardError
from offboard.project import Project
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
    def _no_password(cls, urls: dict[str, str]) -> dict[str, str]:
        for name, url in urls.items():
            try:
                password = make_url(url).password
            except ArgumentError:
                raise ValueError(f"the {name} URL is not a database URL") from None
            # the user part, or `PWD=`/`password=` anywhere: a parameter, a DB2 connection-string part
            given = [password, *(match[1] for match in PASSWORD_SETTING.finditer(unquote(url)))]
            if any(value and not ENV_REFERENCE.fullmatch(value) for value in given):
                raise ValueError(f"the {name} URL holds a password: write ${{VARIABLE}} and set that variable instead")
        return urls


class Fixup(BaseModel):
    """What the external-reference fix-up rewrites for this customer."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    cloud_hosts: list[str] = Field(alias="cloudHosts", min_length=1)
    msp_host: str = Field(alias="mspHost", min_length=1)
    user_mapping: Path = Field(alias="userMapping")  # CSV cloud_id,target_id,email from the directory sync


class Customer(BaseModel):
    """One customer organization and the settings of its transfer."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    stack: str
    region: str = Field(alias="aws:region", pattern=r"^[a-z]{2}(-[a-z]+)+-\d$")
    org_id: str = Field(alias="offboard:orgId", pattern=r"^\d{1,20}$")
    customer_name: str = Field(alias="offboard:customerName", min_length=1, max_length=200)
    msp_email: str = Field(alias="offboard:mspEmail", pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    encryption: Encryption = Field(Encryption.sse_kms, alias="offboard:encryption")
    noncurrent_version_days: int = Field(30, alias="offboard:noncurrentVersionDays", ge=1, le=3650)
    abort_multipart_days: int = Field(7, alias="offboard:abortMultipartDays", ge=1, le=365)
    kms_deletion_window_days: int = Field(30, alias="offboard:kmsDeletionWindowDays", ge=7, le=30)
    # The org's id in the MSP's Connections: imports write it into the tenant columns.
    target_org_id: str | None = Field(None, alias="offboard:targetOrgId", pattern=r"^\d{1,20}$")
    source: Side | None = Field(None, alias="offboard:source")
    staging: Side | None = Field(None, alias="offboard:staging")
    production: Side | None = Field(None, alias="offboard:production")
    fixup: Fixup | None = Field(None, alias="offboard:fixup")

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
    """A side's URLs, each `${VARIABLE}` replaced from the environment at the moment of use,
    a relative SQLite path made absolute from `root`."""
    def value(match: re.Match) -> str:
        name = match[1]
        if name not in os.environ:
            raise OffboardError(f"set the environment variable {name}: a database URL of this stack needs it")
        return quote(os.environ[name], safe="")

    def absolute(url: str) -> str:
        parsed = make_url(url)
        if parsed.get_backend_name() == "sqlite" and parsed.database and not Path(parsed.database).is_absolute():
            return parsed.set(database=str(root / parsed.database)).render_as_string(hide_password=False)
        return url

    return {database: ENV_REFERENCE.sub(value, absolute(url)) for database, url in urls.items()}


def content_roots(stores: Mapping[str, str | Path], root: Path) -> dict[str, Path]:
    """A side's content stores, relative folders taken from `root`."""
    return {store: root / folder for store, folder in stores.items()}


def load_customer(project: Project, stack: str) -> Customer:
    """Read and validate one stack file; every problem becomes one OffboardError line."""
    path = project.stack_file(stack)
    shown = project.shown(path)
    if not path.is_file():
        known = ", ".join(project.stack_names()) or "none"
        raise OffboardError(f"unknown stack {stack!r}: {shown} does not exist (stacks: {known})")
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        raise OffboardError(f"{shown}:{where} not valid YAML") from None
    return customer_from_document(document, stack, shown)


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
        try:
            config = (yaml.safe_load(project.stack_file(stack).read_text(encoding="utf-8")) or {}).get("config") or {}
        except (OSError, yaml.YAMLError, AttributeError):
            continue
        if isinstance(config, dict) and str(config.get(f"{NAMESPACE}:orgId")) == customer.org_id:
            raise OffboardError(f"stacks/Pulumi.{stack}.yaml is for org {customer.org_id} too: one stack per org, "
                                "or the org is moved twice")
