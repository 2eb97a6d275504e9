from __future__ import annotations

import json

from tests.conftest import run_cli


def test_the_fleet_shows_each_stack_where_it_stands_and_who_it_waits_for(project, runbook):
    runbook.run("initial")
    runbook.confirm("select-msp")
    runbook.run("initial")  # provisions, then waits for the MSP
    project.stack_file("broken").write_text("config:\n  offboard:orgId: x\n", encoding="utf-8")
    result = run_cli(project, "fleet", "--json")
    assert result.returncode == 0, result.stderr
    rows = {row["stack"]: row for row in json.loads(result.stdout)}
    assert set(rows) == {"alpha", "beta", "broken"}
    alpha = rows["alpha"]
    assert (alpha["delivery"], alpha["step"], alpha["status"], alpha["waiting_on"]) == (
        "initial", "create-servicenow-user", "waiting", "ch-msp")
    assert alpha["customer"] == "Alpha Holding AG" and alpha["since"]
    assert (rows["beta"]["step"], rows["beta"]["status"], rows["beta"]["waiting_on"]) == ("select-msp", "pending", "customer")
    assert rows["broken"]["problem"].startswith("stacks/Pulumi.broken.yaml: ")
    table = run_cli(project, "fleet")
    assert "create-servicenow-user" in table.stdout and "Alpha Holding AG" in table.stdout
