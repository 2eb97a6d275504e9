"""The journal mirror writes into a fake bucket: no test of the engine reaches S3."""

from __future__ import annotations

import pytest

from offboard.runbook import mirror
from tests.runbook.support import Driver, FakeActions, FakeS3, workflow_actions


@pytest.fixture(autouse=True)
def bucket(monkeypatch) -> FakeS3:
    s3 = FakeS3()
    monkeypatch.setattr(mirror, "customer_s3", lambda outputs: s3)
    return s3


@pytest.fixture
def fakes(project) -> FakeActions:
    return FakeActions(workflow_actions(project))


@pytest.fixture
def runbook(project, fakes) -> Driver:
    return Driver(project, fakes)
