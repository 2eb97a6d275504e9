"""Engines from URLs: SQLite files must exist, DB2 URLs never show their password, a server keeps no idle connection."""

from __future__ import annotations

import importlib.util
import sqlite3

import psycopg
import pytest

from offboard.db.connect import database_errors, open_engine, opened_engines, shown, streaming_cursor
from offboard.errors import OffboardError
from offboard.masking import register_secret


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
        with opened_engines({}, ["BLOGS", "FORUM"], "source"):
            pass


@pytest.mark.parametrize(("url", "named"), [
    ("db2+ibm_db://db2inst1@db2.msp.example:50000/FILES?PWD=s3cret-pw", "db2+ibm_db://db2inst1@db2.msp.example:50000/FILES?PWD=***"),
    ("db2+ibm_db://db2inst1@db2.msp.example:50000/FILES;PWD=s3cret-pw;",
     "db2+ibm_db://db2inst1@db2.msp.example:50000/FILES%3BPWD%3D***%3B"),  # SQLAlchemy quotes the database name
])
def test_a_password_in_a_parameter_or_a_connection_string_part_is_not_shown_either(url, named):
    assert shown(open_engine(url)) == named


@pytest.mark.skipif(importlib.util.find_spec("psycopg2") is not None, reason="needs a driver that is not installed")
def test_a_driver_that_is_not_installed_is_one_line_without_the_password():
    with pytest.raises(OffboardError) as caught:
        open_engine("postgresql+psycopg2://admin:topsecret@db.example/FILES?password=topsecret")
    assert str(caught.value) == ("not a usable database URL postgresql+psycopg2://admin:***@db.example/FILES?password=***: "
                                 "No module named 'psycopg2'")


def test_a_drivers_message_is_scrubbed_of_the_password_it_was_given(tmp_path, registered):
    register_secret("s3cret-pw")
    sqlite3.connect(tmp_path / "FILES.db").close()
    engine = open_engine(f"sqlite:///{tmp_path / 'FILES.db'}")
    with pytest.raises(OffboardError) as caught, database_errors(engine, "reading"):
        raise sqlite3.OperationalError("cannot attach db2://u:other@h/FILES with key s3cret-pw\nsecond line")
    assert str(caught.value) == f"reading in sqlite:///{tmp_path / 'FILES.db'}: cannot attach db2://u:***@h/FILES with key ***"


def test_no_connection_stays_open_on_a_shared_server(postgres_server):
    engine = open_engine(postgres_server)
    with engine.connect() as connection:
        mine = connection.exec_driver_sql("SELECT pg_backend_pid()").scalar_one()
    with engine.connect() as connection:
        alive = connection.exec_driver_sql("SELECT COUNT(*) FROM pg_stat_activity WHERE pid = %s", (mine,)).scalar_one()
    assert alive == 0


def test_a_stage_reuses_one_connection_per_url_and_keeps_none_after_it(postgres_server):
    def backend(engine):
        with engine.connect() as connection:
            return connection.exec_driver_sql("SELECT pg_backend_pid()").scalar_one()

    with opened_engines({"FILES": postgres_server, "WIKIS": postgres_server}, ["FILES", "WIKIS"], "source") as engines:
        assert engines["FILES"] is engines["WIKIS"]
        used = {backend(engines["FILES"]) for _ in range(3)}
    assert len(used) == 1
    with open_engine(postgres_server).connect() as connection:
        alive = connection.exec_driver_sql("SELECT COUNT(*) FROM pg_stat_activity WHERE pid = %s", (used.pop(),)).scalar_one()
    assert alive == 0


def test_rows_come_from_the_server_as_they_are_fetched(postgres_server):
    """psycopg's plain cursor would fetch a whole table into memory at execute."""
    with open_engine(postgres_server).connect() as connection:
        cursor = streaming_cursor(connection)
        cursor.execute("SELECT generate_series(1, 100000)")
        assert isinstance(cursor, psycopg.ServerCursor) and len(cursor.fetchmany(10)) == 10 and cursor.rownumber == 10
