"""Rendered runbook modules: the code each machine step runs against one customer, readable first.

`render` writes one Python module per machine step of a workflow into
`.offboard/stacks/<stack>/modules/<workflow>/<step>.py`, from `runbooks/modules/<action>.py.j2`
with the customer's values spelled out (org id, bucket, deliveries, content stores, database
URLs with `${VARIABLE}` for passwords, fix-up values). The same inputs give the same bytes.
Each module's sha256 is journaled when it is first rendered or changes; `RenderedModules` runs
a machine step only through its module, and only while the file still has that sha256.
A workflow holding the catalog check (`catalog.check`, its first machine step) is rendered only
when the check finds nothing blocking in the databases it can reach from here (offboard.db.check).
A workflow holding the fix-up, on a stack whose fix-up takes the wsadmin route, also gets the
wsadmin script a person runs (offboard.fixup.wsadmin), listed with the modules for review.
An export step of a stack without `offboard:source` gets a module that only awaits IBM's delivery
in the bucket (offboard.runbook.arrival): IBM's side runs the export (offboard.runbook.handover).
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Literal, Mapping

from offboard import preflight
from offboard.customer import ENV_REFERENCE, Customer, load_customer, require_own_org
from offboard.errors import OffboardError
from offboard.files.hashing import sha256_file
from offboard.infra.outputs import StackOutputs
from offboard.infra.policies import bucket_name
from offboard.project import Project
from offboard.runbook.journal import Entry, Journal, utc_now
from offboard.runbook.leaks import Sensitive
from offboard.runbook.rendered import RenderedStep, check_inputs, execute
from offboard.runbook.workflow import Kind, Step, Workflow, load_runbook
from offboard.templates import render

MODULES_DIR = "modules"  # under runbooks/ the templates, under a stack's state the rendered modules
MIN_SECRET_LENGTH = 4  # shorter environment values would be found everywhere
FIXUP_ACTION = "db.fixup"  # the step that reads the user mapping
CHECK_ACTION = "catalog.check"  # the step that checks the catalog against the live databases (offboard.db.check)
EXPORT_ACTIONS = ("files.export", "db.export")  # IBM's steps: run here only with the stack's offboard:source
ARRIVAL_TEMPLATE = "delivery.arrival.py.j2"  # an export step's module without them: it awaits IBM's delivery
SCRIPT_ROW = "wsadmin script"  # how the wsadmin script is listed among the modules: a person runs it, no step

Change = Literal["new", "changed", "inputs only", "unchanged", "edit replaced"]
INPUT_LINE = re.compile(rb'^ +"[^"\n]+": "[0-9a-f]{64}",$', re.MULTILINE)  # a line of `rendered_from`


@dataclass(frozen=True)
class RenderedModule:
    step: str
    path: Path
    sha256: str
    change: Change


def modules_dir(project: Project, stack: str, workflow: str) -> Path:
    return project.stack_state_dir(stack) / MODULES_DIR / workflow


def module_path(project: Project, stack: str, workflow: str, step: str) -> Path:
    return modules_dir(project, stack, workflow) / f"{step}.py"


def render_modules(project: Project, stack: str, workflow: str, backend: str,
                   outputs: StackOutputs | None = None) -> list[RenderedModule]:
    """Write the workflow's modules and journal each new or changed one; nothing is written if
    any module fails to render or would carry the key or a password."""
    customer = load_customer(project, stack)
    require_own_org(project, customer)
    steps = [step for step in load_runbook(project, customer, None).workflow(workflow).steps if step.kind is Kind.automated]
    if any(step.action == FIXUP_ACTION for step in steps):
        check_user_mapping(project, customer)
    if any(step.action == "preflight.check" for step in steps):  # offboard.preflight: refused on what blocks, the rest warns
        preflight.before_render(project, customer, workflow)
    context = {"customer": customer, "bucket": bucket_name(customer), "backend": backend, "workflow": workflow,
               "rendered_from": {project.shown(path): sha256_file(path) for path in inputs(project, stack)}}
    secrets = secrets_of(customer, outputs)
    bodies: list[tuple[Step, Path, bytes]] = []
    for step in steps:
        path = module_path(project, stack, workflow, step.id)
        template = module_template(customer, step)
        body = render(project, template, {**context, "step": step, "template": template, "module": project.shown(path)})
        secrets.refuse(body, f"the module of {step.id} (runbooks/{template})")
        bodies.append((step, path, body.encode("utf-8")))
    script = sync_script(project, customer, workflow, steps, secrets)
    if any(step.action == CHECK_ACTION for step in steps):
        check_catalog(project, customer)
    journal = Journal.of_stack(project, stack)
    with journal.lock():
        accepted = journal.renderings()
        rendered = [write_module(journal, workflow, step, path, project, body, accepted.get(step.id)) for step, path, body in bodies]
        for gone in {step for step, entry in accepted.items() if entry.workflow == workflow} - {step.id for step, _, _ in bodies}:
            module_path(project, stack, workflow, gone).unlink(missing_ok=True)  # its step left the workflow
    if script is not None:
        rendered.append(write_sync_script(project, stack, script))
    return rendered


def module_template(customer: Customer, step: Step) -> str:
    """The template of a step's module: its action's, except for an export on a stack without
    source settings, whose delivery IBM's side exports and the step awaits (offboard.runbook.arrival)."""
    if step.action in EXPORT_ACTIONS and customer.source is None:
        return f"{MODULES_DIR}/{ARRIVAL_TEMPLATE}"
    return f"{MODULES_DIR}/{step.action}.py.j2"


def sync_script(project: Project, customer: Customer, workflow: str, steps: list[Step], secrets: Sensitive) -> str | None:
    """The wsadmin script, for a workflow with the fix-up on a stack that takes the wsadmin route;
    refused, like a module, if it would carry the key or a password."""
    from offboard.fixup import wsadmin  # the fix-up's code loads only when modules are rendered

    if not wsadmin.uses_wsadmin(customer) or not any(step.action == FIXUP_ACTION for step in steps):
        return None
    body = wsadmin.render_script(project, customer, workflow)
    secrets.refuse(body, f"the wsadmin script (runbooks/{wsadmin.TEMPLATE})")
    return body


def write_sync_script(project: Project, stack: str, body: str) -> RenderedModule:
    """Write the wsadmin script and list it like a module: not journaled, as no machine step runs it."""
    from offboard.fixup import wsadmin

    path = wsadmin.script_path(project, stack)
    data = body.encode("utf-8")
    on_disk = path.read_bytes() if path.is_file() else None
    change: Change = "new" if on_disk is None else "unchanged" if on_disk == data else "changed"
    wsadmin.write_script(project, stack, body)
    return RenderedModule(SCRIPT_ROW, path, hashlib.sha256(data).hexdigest(), change)


def check_catalog(project: Project, customer: Customer) -> None:
    """Compare the catalog with the stack's live databases as the workflow's first step will: a
    blocking finding refuses the rendering, nothing written; a side not configured or not
    reachable from here is one warning line, and the step checks it when it runs."""
    from offboard.db.check import check_before_render

    check_before_render(project, customer)


def check_user_mapping(project: Project, customer: Customer) -> None:
    """Read the fix-up's user mapping as `db fixup` will: a bad one is refused before the first step runs."""
    from offboard.fixup.mapping import read_user_mapping

    read_user_mapping(project.root / customer.fixup_settings().user_mapping)


def inputs(project: Project, stack: str) -> list[Path]:
    """What a module's values come from, and what its stage reads besides: a change to any of
    them after rendering and the module is refused until rendered and reviewed again."""
    from offboard.fixup.rules import RULES_TEMPLATE  # the databases' code loads only when modules are rendered
    from offboard.db.stages import CATALOG

    return [project.stack_file(stack), project.runbooks_dir / CATALOG, project.runbooks_dir / RULES_TEMPLATE]


def write_module(journal: Journal, workflow: str, step: Step, path: Path, project: Project, body: bytes,
                 accepted: Entry | None) -> RenderedModule:
    """Write the module unless the file already holds these bytes, keeping a hand edit it replaces
    as `<step>.py.edited-<time>`; journal it when new or changed."""
    sha256 = hashlib.sha256(body).hexdigest()
    on_disk = path.read_bytes() if path.is_file() else None
    edited = on_disk is not None and accepted is not None and hashlib.sha256(on_disk).hexdigest() != accepted.sha256
    change = module_change(accepted, sha256, on_disk, body, edited)
    if edited:  # kept, never overwritten: one copy per edit replaced
        path.with_name(f"{path.name}.edited-{utc_now():%Y%m%dT%H%M%S.%fZ}").write_bytes(on_disk)
    if on_disk != body:  # written aside and renamed: a module is never half there
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".partial")
        partial.write_bytes(body)
        partial.replace(path)
    if accepted is None or accepted.sha256 != sha256:
        now = utc_now()
        journal.append(Entry(step=step.id, workflow=workflow, actor=step.actor.value, kind=step.kind.value, action=step.action,
                             status="rendered", module=project.shown(path), sha256=sha256, start=now, end=now))
    return RenderedModule(step.id, path, sha256, change)


def module_change(accepted: Entry | None, sha256: str, on_disk: bytes | None, body: bytes, edited: bool) -> Change:
    """What rendering did to a module, for the operator reviewing it."""
    if accepted is None:
        return "new"
    if edited:
        return "edit replaced"
    if accepted.sha256 == sha256:
        return "unchanged"
    if on_disk is not None and INPUT_LINE.sub(b"", on_disk) == INPUT_LINE.sub(b"", body):
        return "inputs only"  # a file it was rendered from changed, none of this module's values did
    return "changed"


def secrets_of(customer: Customer, outputs: StackOutputs | None) -> Sensitive:
    """The key, and the values of the environment variables the customer's database URLs name."""
    names = {match for side in filter(None, (customer.source, customer.staging, customer.production))
             for url in side.databases.values() for match in ENV_REFERENCE.findall(url)}
    passwords = {f"value of ${{{name}}}": os.environ[name] for name in sorted(names)
                 if len(os.environ.get(name, "")) >= MIN_SECRET_LENGTH}
    return Sensitive({**Sensitive.of(outputs).values, **passwords})


@dataclass(frozen=True)
class ModuleInfo:
    """A step's rendered module as plan and status show it."""

    path: str
    sha256: str | None  # as accepted when rendered
    refused: str | None  # why run would refuse it now, if it would


@dataclass(frozen=True)
class Prepared:
    """A machine step ready to run: what runs it, and that code's sha256 for the journal."""

    module: str | None
    sha256: str | None
    run: Callable[[], Mapping[str, Any]]


class RenderedModules:
    """Machine steps run by their rendered modules, and by nothing else."""

    def __init__(self, project: Project, stack: str, backend: str, journal: Journal) -> None:
        self.project, self.stack, self.backend, self.journal = project, stack, backend, journal

    def module(self, workflow: Workflow, step: Step) -> ModuleInfo | None:
        path = module_path(self.project, self.stack, workflow.name, step.id)
        if not path.is_file():
            return None
        try:
            prepared = self.prepare(workflow, step)
        except OffboardError as error:
            accepted = self.journal.renderings().get(step.id)
            return ModuleInfo(self.project.shown(path), accepted.sha256 if accepted else None, str(error))
        return ModuleInfo(prepared.module, prepared.sha256, None)  # as accepted: prepare checked it

    def prepare(self, workflow: Workflow, step: Step) -> Prepared:
        """The step's module as it was rendered, or one OffboardError saying why it may not run."""
        path = module_path(self.project, self.stack, workflow.name, step.id)
        render_again = f"offboard runbook render {self.stack} {workflow.name}"
        accepted = self.journal.renderings().get(step.id)
        if accepted is None or not path.is_file():
            raise OffboardError(f"{step.id} has no rendered module: run `{render_again}`, review "
                                f"{self.project.shown(path.parent)}, then run again")
        source = path.read_bytes()
        sha256 = hashlib.sha256(source).hexdigest()
        if sha256 != accepted.sha256:
            raise OffboardError(f"{self.project.shown(path)} changed since it was rendered (sha256 {sha256[:12]}, "
                                f"rendered {accepted.sha256[:12]}): refused; `{render_again}` replaces it and journals the change")
        namespace: dict[str, Any] = {"__name__": f"offboard_rendered_{step.id.replace('-', '_')}", "__file__": str(path)}
        exec(compile(source, str(path), "exec"), namespace)  # the bytes just hashed, not the file read again
        header: RenderedStep = namespace["STEP"]
        if (header.stack, header.workflow, header.step, header.backend) != (self.stack, workflow.name, step.id, self.backend):
            raise OffboardError(f"{self.project.shown(path)} was rendered for {header.stack}/{header.step} on backend "
                                f"{header.backend}: run `{render_again} --backend {self.backend}`")
        check_inputs(header, self.project)
        return Prepared(self.project.shown(path), sha256, lambda: execute(header, namespace["run"], self.project))

