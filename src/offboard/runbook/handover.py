"""`offboard runbook handover`: what IBM needs to run a delivery's export on its side.

A stack without `offboard:source` leaves the export steps to IBM (its modules await the delivery,
offboard.runbook.arrival). The handover folder gives IBM the same exports as modules of its own,
`<step>.py` from `runbooks/handover/export.py.j2`, run there through offboard.runbook.handed_over;
the customer's stack file with only what they read and `offboard:source` for IBM to fill in; the
catalog as it is; `INSTRUCTIONS.md`; and `handover.json`, the values and every file's sha256.
No secret of the MSP goes in: the bucket's key travels through the Box folder. The same inputs
give the same bytes.
"""

from __future__ import annotations

import hashlib
import json
from importlib.metadata import version
from pathlib import Path

from offboard.customer import Customer, load_customer, require_own_org
from offboard.db.catalog import load_catalog
from offboard.db.stages import CATALOG
from offboard.errors import OffboardError
from offboard.infra.outputs import StackOutputs
from offboard.infra.policies import bucket_name
from offboard.project import Project
from offboard.runbook.handed_over import ACCESS_INFO_VARIABLE
from offboard.runbook.modules import EXPORT_ACTIONS, secrets_of
from offboard.runbook.workflow import Step, load_runbook
from offboard.templates import render

TEMPLATES = "handover"  # under runbooks/
INSTRUCTIONS = "INSTRUCTIONS.md"
VALUES = "handover.json"
PASSWORD_VARIABLE = "CLOUD_DB2_PASSWORD"  # the variable the stack file's example URLs name


def handover(project: Project, stack: str, workflow: str, folder: Path, *, backend: str) -> list[Path]:
    """Write the handover of `workflow` into `folder`, new or empty; the files written, in order.
    Once the stack is provisioned, a file holding its key is refused, as rendering a module is."""
    from offboard.runbook.commands import stack_outputs

    customer = load_customer(project, stack)
    try:
        outputs = stack_outputs(project, customer, backend)
    except OffboardError:  # not provisioned yet, or a backend that cannot be reached
        outputs = None
    return write_handover(project, customer, workflow, folder, outputs)


def write_handover(project: Project, customer: Customer, workflow: str, folder: Path,
                   outputs: StackOutputs | None) -> list[Path]:
    require_own_org(project, customer)
    if customer.source is not None:
        raise OffboardError(f"stack {customer.stack} has offboard:source settings, so its runbook runs the export itself: "
                            "remove them to hand the export over to IBM")
    steps = [step for step in load_runbook(project, customer, None).workflow(workflow).steps if step.action in EXPORT_ACTIONS]
    if not steps:
        raise OffboardError(f"the {workflow} workflow has no export step: there is nothing to hand over")
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise OffboardError(f"{folder} is not an empty folder: give a new or empty one for the handover")
    files = handover_files(project, customer, workflow, steps)
    secrets = secrets_of(customer, outputs)
    for name, body in files.items():
        secrets.refuse(body.decode("utf-8", "replace"), f"{name} of the handover")
    for name, body in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(body)
    return [folder / name for name in files]


def handover_files(project: Project, customer: Customer, workflow: str, steps: list[Step]) -> dict[str, bytes]:
    """Each file of the folder (its path there -> bytes), `handover.json` last."""
    catalog_path = project.runbooks_dir / CATALOG
    catalog = catalog_path.read_bytes()
    catalog_sha256 = hashlib.sha256(catalog).hexdigest()
    bucket = bucket_name(customer)
    context = {"customer": customer, "workflow": workflow, "bucket": bucket, "catalog_sha256": catalog_sha256}
    files = {f"{step.id}.py": render(project, f"{TEMPLATES}/export.py.j2", {**context, "step": step}) for step in steps}
    shape = load_catalog(catalog_path)
    files[f"stacks/Pulumi.{customer.stack}.yaml"] = render(project, f"{TEMPLATES}/stack.yaml.j2", {
        **context, "databases": sorted(shape.databases), "password_variable": PASSWORD_VARIABLE,
        "stores": {store: spec.folder for store, spec in sorted(shape.content_stores.items())}})
    modules = [{"file": f"{step.id}.py", "title": step.title, "delivery": step.args["delivery"],
                "part": "files" if step.action == "files.export" else "database"} for step in steps]
    files[INSTRUCTIONS] = render(project, f"{TEMPLATES}/{INSTRUCTIONS}.j2", {
        **context, "modules": modules, "delivery": modules[0]["delivery"], "version": version("connections-offboard"),
        "catalog": f"runbooks/{CATALOG}", "password_variable": PASSWORD_VARIABLE, "access_info_variable": ACCESS_INFO_VARIABLE})
    written = {name: text.encode("utf-8") for name, text in files.items()}
    written[f"runbooks/{CATALOG}"] = catalog
    values = {"stack": customer.stack, "workflow": workflow, "org_id": customer.org_id, "bucket": bucket,
              "region": customer.region, "catalog_sha256": catalog_sha256,
              "steps": [{"step": step.id, "action": step.action, **module} for step, module in zip(steps, modules)],
              "sha256": {name: hashlib.sha256(body).hexdigest() for name, body in sorted(written.items())}}
    written[VALUES] = (json.dumps(values, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")
    return written
