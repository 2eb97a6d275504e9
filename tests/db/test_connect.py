"""Engines from URLs: SQLite files must exist, DB2 URLs never show their password."""

from __future__ import annotations

import pytest

from offboard.db.connect import open_engine, open_engines, shown
from offboard.errors import OffboardError


def test_a_db2_url_is_shown_without_its_password():
    engine = open_engine("db2+ibm_db://db2inst1:s3cret-pw@db2.msp.example:50000/FILES")
    assert engine.dialect.name == "ibm_db_sa" or "db2" in engine.dialect.name
    assert "s3cret-pw" not in shown(engine) and "db2inst1:***@db2.msp.example:50000/FILES" in shown(engine)


def test_a_missing_sqlite_file_is_refused_not_created(tmp_path):
    with pytest.raises(OffboardError, match="no database file at .*FILES.db"):
        open_engine(f"sqlite:///{tmp_path / 'FILES.db'}")
    assert not (tmp_path / "FILES.db").exists()


def test_a_bad_url_is_one_line_without_the_password():
    with pytest.raises(OffboardError) as caught:
        open_engine("nosuchdb://admin:topsecret@host/FILES")
    assert "topsecret" not in str(caught.value) and "\n" not in str(caught.value)


def test_every_database_needs_a_url(tmp_path):
    with pytest.raises(OffboardError, match="no source database URL for BLOGS, FORUM"):
        open_engines({}, ["BLOGS", "FORUM"], "source")
