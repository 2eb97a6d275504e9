from __future__ import annotations

import pytest

from offboard.sample.stack import write_stack
from tests.db.check.support import STACK


@pytest.fixture
def stack(project, sample, org):
    """The stack STACK, its sides the sample's databases and content stores."""
    write_stack(project, STACK, sample, org.org_id)
    return STACK
