"""The whole job on the embedded default, for a new user: no cloud account, no DB2.

At this stage it provisions the example customer and a neighbour on the embedded endpoint
and proves, by trying, what the example's key can and cannot do.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from offboard.customer import load_customer
from offboard.infra import endpoint as local_endpoint
from offboard.infra.embedded import EmbeddedBackend
from offboard.infra.outputs import StackOutputs
from offboard.infra.probe import Check, key_checks
from offboard.infra.stacks import write_access_info
from offboard.project import Project

DEMO_STACK = "example"
NEIGHBOUR = {"stack": "neighbour", "org_id": "20099999", "customer_name": "A neighbouring customer"}


@dataclass(frozen=True)
class DemoResult:
    outputs: StackOutputs
    neighbour_bucket: str
    checks: list[Check]
    access_info: Path

    @property
    def ok(self) -> bool:
        return all(check.ok for check in self.checks)


def run_demo(project: Project, workdir: Path) -> DemoResult:
    """Everything happens on an endpoint inside this process, with state under `workdir`."""
    demo = Project(root=project.root, state_dir=workdir.resolve())
    customer = load_customer(demo, DEMO_STACK)
    neighbour = customer.model_copy(update=NEIGHBOUR)
    with local_endpoint.embedded(demo.state_dir / "local"):
        backend = EmbeddedBackend(demo)
        outputs = backend.up(customer)
        neighbour_bucket = backend.up(neighbour).bucket
        checks = key_checks(outputs, neighbour_bucket)
        access_info = write_access_info(demo, customer, outputs)
    return DemoResult(outputs, neighbour_bucket, checks, access_info)
