"""Customers alpha and beta provisioned on the session's embedded endpoint, removed afterwards."""

from __future__ import annotations

import pytest

from offboard.infra.embedded import EmbeddedBackend
from tests.conftest import remove_stack


@pytest.fixture
def provisioned(local_project, customers, endpoint_session):
    backend = EmbeddedBackend(local_project)
    outputs = {stack: backend.up(customer) for stack, customer in customers.items()}
    yield backend, outputs
    for stack in customers:
        remove_stack(local_project, stack, endpoint_session[1])
