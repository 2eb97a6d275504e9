"""The fix-up rules of one customer (runbooks/fixup/rules.yaml.j2, rendered per customer): cloud
hosts to the MSP's host, the cloud org id to the target org id, and where user ids and the org id
stand in text."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from offboard.db.statements import ORG_ID
from offboard.errors import OffboardError
from offboard.project import Project
from offboard.templates import render
from offboard.validation import describe

RULES_TEMPLATE = "fixup/rules.yaml.j2"


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


