from __future__ import annotations

import pytest

from offboard.sample import SampleLayout, create_sample
from tests.db.support import copy_sample


@pytest.fixture(scope="session")
def pristine_sample(tmp_path_factory, server):
    """Made once per engine; tests work on copies of it."""
    folder = tmp_path_factory.mktemp("pristine") / "sample"
    create_sample(folder, orgs=3, seed=7, server=server, engine="postgresql" if server else "sqlite")
    return folder


@pytest.fixture
def sample(pristine_sample, tmp_path) -> SampleLayout:
    return copy_sample(pristine_sample, tmp_path / "sample")


@pytest.fixture
def org(sample):
    """The middle one of three orgs."""
    return sample.orgs[1]
