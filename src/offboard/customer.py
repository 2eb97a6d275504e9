"""The validated settings of one customer, read from `stacks/Pulumi.<stack>.yaml`.

The stack file is Pulumi's own config file, so `pulumi up -s <stack>` reads the same values;
this module is the one place they are checked. Our keys live in the `offboard:` namespace
and are strict (an unknown key is an error, it is usually a typo); `aws:` keys go to the
provider untouched, except `aws:region`, which we need.
"""

from __future__ import annotations

import re
from enum import Enum
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from offboard.errors import OffboardError
from offboard.project import Project

NAMESPACE = "offboard"
STACK_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,38}[a-z0-9]$")
# Top-level keys Pulumi itself may write into a stack file.
PULUMI_STACK_KEYS = {"config", "secretsprovider", "encryptedkey", "encryptionsalt", "environment"}


class Encryption(str, Enum):
    sse_kms = "sse-kms"
    sse_s3 = "sse-s3"


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


def load_customer(project: Project, stack: str) -> Customer:
    """Read and validate one stack file; every problem becomes one OffboardError line."""
    path = project.stack_file(stack)
    shown = path.relative_to(project.root) if path.is_relative_to(project.root) else path
    if not path.is_file():
        known = ", ".join(project.stack_names()) or "none"
        raise OffboardError(f"unknown stack {stack!r}: {shown} does not exist (stacks: {known})")
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        raise OffboardError(f"{shown}:{where} not valid YAML") from None
    return customer_from_document(document, stack, str(shown))


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


def describe(error: ValidationError) -> str:
    """Pydantic's errors as one line: `key: problem` joined by semicolons."""
    parts = []
    for item in error.errors():
        key = ".".join(str(part) for part in item["loc"]) or "config"
        if item["type"] == "extra_forbidden":
            parts.append(f"{key}: unknown setting")
        elif item["type"] == "missing":
            parts.append(f"{key}: required")
        else:
            parts.append(f"{key}: {item['msg'].removeprefix('Value error, ')} (got {item.get('input')!r})")
    return "; ".join(parts)

