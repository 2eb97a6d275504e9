"""`offboard init DIR`: an MSP's project folder, apart from the tool's checkout.

The folder holds what is the MSP's: `Pulumi.yaml` (the tool's Pulumi program, found where the tool
is installed), `stacks/` (one file per customer, with the example that is no customer), a
`.gitignore` that keeps the local state (`.offboard/`: journals, keys, work files) out of git,
and a README. The runbooks (workflows, texts, modules, catalog) stay the tool's unless the
folder gets a `runbooks/` of its own.
"""

from __future__ import annotations

import sys
from pathlib import Path

import yaml

import offboard.infra
from offboard.errors import OffboardError
from offboard.project import EXAMPLE_STACK, PROJECT_FILE, TOOL_ROOT, Project

GITIGNORE = """\
# local state: journals, the embedded endpoint, the customers' keys and work files
.offboard/
"""

README = """\
# Offboarding project

The customers this MSP moves out of IBM Connections Cloud with `offboard`
(connections-offboard). One file per customer in `stacks/`: copy
`stacks/Pulumi.example.yaml` (an example, never a customer) to
`stacks/Pulumi.<customer>.yaml` and fill it in. Run every `offboard` command in this
folder, or anywhere with `OFFBOARD_PROJECT` set to it:

```sh
offboard stack up <customer> [--backend local]   # the customer's bucket and key
offboard runbook render <customer> initial       # the code each machine step runs: review it
offboard runbook run <customer> initial
offboard fleet                                   # every customer at a glance
```

`Pulumi.yaml` points at the Pulumi program of the installed tool ({program}); run
`offboard init` again elsewhere after moving the tool. The runbooks (workflows, texts,
catalog) are the tool's; a `runbooks/` folder here, copied from the tool, replaces them.
`.offboard/` holds the local state (journals, keys, work files; `OFFBOARD_STATE_DIR` moves
it): keep it out of git, and back it up.
"""


def create_project(folder: Path) -> Project:
    """Write the project files into `folder`, which must be new or empty."""
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise OffboardError(f"{folder} is not an empty folder: give a new one (offboard init writes a whole project)")
    program = Path(offboard.infra.__file__).resolve().parent
    (folder / "stacks").mkdir(parents=True, exist_ok=True)
    (folder / PROJECT_FILE).write_text(pulumi_project(program), encoding="utf-8")
    example = TOOL_ROOT / "stacks" / f"Pulumi.{EXAMPLE_STACK}.yaml"
    (folder / "stacks" / example.name).write_text(example.read_text(encoding="utf-8"), encoding="utf-8")
    (folder / ".gitignore").write_text(GITIGNORE, encoding="utf-8")
    (folder / "README.md").write_text(README.format(program=program), encoding="utf-8")
    return Project(root=folder.resolve(), state_dir=folder.resolve() / ".offboard")


def pulumi_project(program: Path) -> str:
    """The tool's own Pulumi.yaml, with its program and virtualenv as absolute paths: the
    project folder lies elsewhere (Pulumi takes an absolute `main`)."""
    document = yaml.safe_load((TOOL_ROOT / PROJECT_FILE).read_text(encoding="utf-8"))
    document["main"] = str(program)
    options = document["runtime"].setdefault("options", {})
    if sys.prefix != sys.base_prefix:  # the virtualenv the tool runs in
        options["virtualenv"] = sys.prefix
    else:
        options.pop("virtualenv", None)
    return yaml.safe_dump(document, sort_keys=False, width=1000)
