from tests.db.conftest import org, pristine_sample, sample  # noqa: F401  (the database tests' sample, shared)
