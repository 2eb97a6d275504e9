from __future__ import annotations

import shutil

import pytest

from offboard.sample import SampleLayout, create_sample


@pytest.fixture(scope="session")
def pristine_sample(tmp_path_factory):
    """Made once; tests work on copies of it."""
    folder = tmp_path_factory.mktemp("pristine") / "sample"
    create_sample(folder, orgs=3, seed=7)
    return folder


@pytest.fixture
def sample(pristine_sample, tmp_path) -> SampleLayout:
    shutil.copytree(pristine_sample, tmp_path / "sample")
    return SampleLayout.load(tmp_path / "sample")


@pytest.fixture
def org(sample):
    """The middle one of three orgs."""
    return sample.orgs[1]
