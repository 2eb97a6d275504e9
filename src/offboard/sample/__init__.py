"""A synthetic multi-tenant Connections source for tests, the demo and the benchmarks."""

from offboard.sample.source import Changes, OrgSample, SampleLayout, User, create_sample, mutate_org

__all__ = ["Changes", "OrgSample", "SampleLayout", "User", "create_sample", "mutate_org"]
