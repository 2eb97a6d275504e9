"""A stack file for one org of a sample: the customer's settings pointing at the sample's data."""

from __future__ import annotations

from pathlib import Path

import yaml

from offboard.customer import STACK_NAME
from offboard.errors import OffboardError
from offboard.project import Project
from offboard.sample.layout import TARGETS, SampleLayout

MSP_HOST = "connections.msp.example.com"


def stack_config(layout: SampleLayout, org_id: str, region: str = "eu-central-1") -> dict:
    """The `config:` of a stack whose source is the sample's multi-tenant source and whose
    staging and production are the sample's empty targets (content stores under targets/)."""
    org = layout.org(org_id)

    def side(databases: dict[str, str], stores: dict[str, Path]) -> dict:
        return {"databases": databases, "contentStores": {store: str(path) for store, path in stores.items()}}

    config = {
        "aws:region": region,
        "offboard:orgId": org.org_id,
        "offboard:customerName": f"Sample customer {org.org_id}",
        "offboard:mspEmail": "migration@msp.example.com",
        "offboard:targetOrgId": org.target_org_id,
        "offboard:source": side(layout.sources, layout.content_stores),
        "offboard:fixup": {"cloudHosts": layout.cloud_hosts, "mspHost": MSP_HOST, "userMapping": str(layout.user_mapping(org_id))},
    }
    for target in TARGETS:
        config[f"offboard:{target}"] = side(layout.targets[target], target_stores(layout, target))
    return config


def target_stores(layout: SampleLayout, target: str) -> dict[str, Path]:
    """The empty content stores of a target, made on first use (an import refuses a missing root)."""
    stores = {store: layout.root / target / "content" / store for store in layout.stores}
    for folder in stores.values():
        folder.mkdir(parents=True, exist_ok=True)
    return stores


def check_new_stack(project: Project, stack: str) -> Path:
    """Where the stack file goes; refused before anything is made when the name is not a stack's
    or the file exists (an existing file is never overwritten)."""
    if not STACK_NAME.match(stack):
        raise OffboardError(f"{stack!r} is not a stack name: lower-case letters, digits and dashes, 2 to 40 characters")
    path = project.stack_file(stack)
    if path.exists():
        raise OffboardError(f"{project.shown(path)} exists already: choose another stack name")
    return path


def write_stack(project: Project, stack: str, layout: SampleLayout, org_id: str) -> Path:
    """Write stacks/Pulumi.<stack>.yaml for the org."""
    path = check_new_stack(project, stack)
    header = f"# Made by `offboard sample create` for org {org_id} of the sample in {layout.root}.\n"
    path.write_text(header + yaml.safe_dump({"config": stack_config(layout, org_id)}, sort_keys=False, allow_unicode=True),
                    encoding="utf-8")
    return path
