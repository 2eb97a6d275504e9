"""A synthetic multi-tenant Connections source for tests, the demo and the benchmarks."""

from offboard.sample.layout import OrgSample, SampleLayout, User
from offboard.sample.mutate import Changes, mutate_org
from offboard.sample.source import create_sample

__all__ = ["Changes", "OrgSample", "SampleLayout", "User", "create_sample", "mutate_org"]
