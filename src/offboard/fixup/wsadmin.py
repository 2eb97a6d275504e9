"""The supported route for user ids: the wsadmin script that has each application's own
`syncMemberByExtId` give the org's members their new ids, for MSPs that change ids only through
the product's tools (`offboard:fixup` `route: wsadmin`).

`runbook render` of the delivery with the fix-up writes it, 0600, to
`<stack state>/wsadmin/sync-members.py`, from `runbooks/fixup/wsadmin.py.j2` and the user mapping:
only mapped ids, sorted, each a literal of a data list, so the same mapping gives the same bytes
and no id can become code. A person runs it on each target's deployment manager and confirms.
"""

from __future__ import annotations

from pathlib import Path

from offboard.customer import Customer
from offboard.fixup.mapping import read_user_mapping
from offboard.fixup.rewrite import WSADMIN
from offboard.project import Project, write_private
from offboard.templates import render

TEMPLATE = "fixup/wsadmin.py.j2"
SCRIPT = Path("wsadmin") / "sync-members.py"  # under the stack's state


def uses_wsadmin(customer: Customer) -> bool:
    return customer.fixup is not None and customer.fixup.route == WSADMIN


def script_path(project: Project, stack: str) -> Path:
    return project.stack_state_dir(stack) / SCRIPT


def render_script(project: Project, customer: Customer, workflow: str) -> str:
    """The script for the customer's mapping; a bad mapping is refused as `db fixup` refuses it."""
    fixup = customer.fixup_settings()
    mapping = read_user_mapping(project.root / fixup.user_mapping)
    return render(project, TEMPLATE, {
        "customer": customer,
        "mapping": sorted(mapping.items()),
        "mapping_file": fixup.user_mapping,
        "script": project.shown(script_path(project, customer.stack)),
        "command": f"offboard runbook render {customer.stack} {workflow}",
    })


def write_script(project: Project, stack: str, body: str) -> Path:
    """Write it only its owner can read: it lists the org's people."""
    return write_private(script_path(project, stack), body)
