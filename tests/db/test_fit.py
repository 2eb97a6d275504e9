"""Values against their columns' catalog types: what DB2 and PostgreSQL refuse and SQLite takes."""

from __future__ import annotations

import pytest

from offboard.db.fit import Fit

COLUMNS = [("NAME", "VARCHAR(4)"), ("CODE", "CHAR(2)"), ("COUNT", "SMALLINT"), ("AT", "TIMESTAMP"), ("BODY", "CLOB(1M)"),
           ("ID", "CHAR(4) FOR BIT DATA"), ("PRICE", "DECIMAL(5,2)"), ("RATIO", "DOUBLE"), ("DAY", "DATE"), ("TIME", "TIME"),
           ("PHOTO", "BLOB(10)")]
GOOD = ["abcd", "xy", "-32768", "2024-01-02 03:04:05.000006", "CHUNK.00001.lob.0.4/", "\udcff\0\n,", "-123.45", "-1.5e-300",
        "2024-02-29", "23:59:59", "CHUNK.00001.lob.4.10/"]


def test_values_that_fit_pass_with_nulls_and_empty_strings():
    rows = [GOOD, ["äö", None, "32767", "2024-01-02T03:04:05.123456789012", "X.lob.0.0/", "éé", "0", "7", None, "00:00:00.5", None],
            [None, "", None, "2024-01-02 03:04:05", None, "\0\0\0\0", "12.3", ".5", "0001-01-01", None, "Y.lob.9.0/"]]
    assert Fit(COLUMNS).first_misfit(rows) is None


@pytest.mark.parametrize("column, value, problem", [
    ("NAME", "abcde", "holds 5 bytes, more than its VARCHAR(4) can"),
    ("NAME", "äöü", "holds 6 bytes, more than its VARCHAR(4) can"),
    ("CODE", "xyz", "holds 3 bytes, more than its CHAR(2) can"),
    ("COUNT", "32768", "holds '32768', not a SMALLINT"),
    ("COUNT", "1.5", "holds '1.5', not a SMALLINT"),
    ("COUNT", "٣", "holds '٣', not a SMALLINT"),  # int() would read it as 3
    ("COUNT", " 7", "holds ' 7', not a SMALLINT"),
    ("AT", "2024-01-02", "holds '2024-01-02', not a TIMESTAMP"),
    ("AT", "2024-13-02 03:04:05", "holds '2024-13-02 03:04:05', not a TIMESTAMP"),
    ("AT", "2024-02-30 03:04:05", "holds '2024-02-30 03:04:05', not a TIMESTAMP"),
    ("AT", "2024-01-02 03:04:05+02:00", "holds '2024-01-02 03:04:05+02:00', not a TIMESTAMP"),
    ("AT", "2024-01-02-03.04.05.000006", "holds '2024-01-02-03.04.05.000006', not a TIMESTAMP"),
    ("COUNT", "-32769", "holds '-32769', not a SMALLINT"),
    ("COUNT", "", "holds '', not a SMALLINT"),
    ("AT", "", "holds '', not a TIMESTAMP"),
    ("AT", "2024-W05-6 00:00:00", "holds '2024-W05-6 00:00:00', not a TIMESTAMP"),
    ("AT", "2024-02-03 00:00:00,5", "holds '2024-02-03 00:00:00,5', not a TIMESTAMP"),
    ("AT", "2024-01-02 03:04:05-05:00", "holds '2024-01-02 03:04:05-05:00', not a TIMESTAMP"),
    ("AT", "2024-01-02.03:04:05", "holds '2024-01-02.03:04:05', not a TIMESTAMP"),
    ("NAME", "a\0b", "holds a NUL character, which PostgreSQL cannot store in text"),
    ("AT", "2024-01-02 24:00:00", "holds '2024-01-02 24:00:00', not a TIMESTAMP"),
    ("AT", "2024-01-02 03:04:05\n2024-01-02 03:04:05", "holds '2024-01-02 03:04:05\\n2024-01-02 03:04:05', not a TIMESTAMP"),
    ("NAME", "a\udcff", "holds bytes that are not UTF-8"),
    ("ID", "\udcff\udcfe\udcfd\udcfc\udcfb", "holds 5 bytes, its CHAR(4) FOR BIT DATA holds exactly 4"),
    ("ID", "éé\0", "holds 5 bytes, its CHAR(4) FOR BIT DATA holds exactly 4"),
    ("ID", "abc", "holds 3 bytes, its CHAR(4) FOR BIT DATA holds exactly 4"),  # DB2 would pad it: another key
    ("COUNT", "0042", "holds '0042', not a SMALLINT"),  # the export writes 42: compared as text, it would pass for another
    ("RATIO", "1e-400", "holds '1e-400', not a DOUBLE"),  # SQLite would store 0
    ("AT", "2024-01-02 03:04:05." + "9" * 13, "holds '2024-01-02 03:04:05.9999999999999', not a TIMESTAMP"),
    ("PRICE", "1234.5", "holds '1234.5', not a DECIMAL(5,2)"),
    ("PRICE", "1.234", "holds '1.234', not a DECIMAL(5,2)"),
    ("PRICE", "1e2", "holds '1e2', not a DECIMAL(5,2)"),
    ("RATIO", "inf", "holds 'inf', not a DOUBLE"),
    ("RATIO", "1e999", "holds '1e999', not a DOUBLE"),
    ("RATIO", "0x10", "holds '0x10', not a DOUBLE"),
    ("DAY", "2023-02-29", "holds '2023-02-29', not a DATE"),
    ("DAY", "20240229", "holds '20240229', not a DATE"),
    ("TIME", "24:00:00", "holds '24:00:00', not a TIME"),
    ("TIME", "23.59.59", "holds '23.59.59', not a TIME"),
    ("PHOTO", "CHUNK.00001.lob.4.11/", "holds 11 bytes, more than its BLOB(10) can"),
    ("PHOTO", "a photo", "holds 'a photo', not the location of a BLOB value in the chunk's LOB file"),
    ("BODY", "X.lob.-1.4/", "holds 'X.lob.-1.4/', not the location of a CLOB value in the chunk's LOB file"),
])
def test_the_first_value_that_does_not_fit_is_named(column, value, problem):
    position = [name for name, _ in COLUMNS].index(column)
    bad = GOOD[:position] + [value] + GOOD[position + 1:]
    misfit = Fit(COLUMNS).first_misfit([GOOD, GOOD, bad, bad])
    assert (misfit.row, misfit.column, misfit.problem) == (2, column, problem)


def test_a_lob_is_held_to_its_declared_size():
    fit = Fit([("BODY", "CLOB(1M)")])
    assert fit.first_misfit([[f"X.lob.0.{1 << 20}/"]]) is None
    assert fit.first_misfit([[f"X.lob.0.{(1 << 20) + 1}/"]]).problem == "holds 1048577 bytes, more than its CLOB(1M) can"


def test_a_key_column_is_never_null():
    fit = Fit(COLUMNS, keys=["NAME", "CODE"])
    assert fit.first_misfit([GOOD, [*GOOD[:1], "", *GOOD[2:]]]) is None
    misfit = fit.first_misfit([GOOD, [*GOOD[:1], None, *GOOD[2:]]])
    assert (misfit.row, misfit.column, misfit.problem) == (1, "CODE", "is NULL, and it is part of the key")


def test_rows_may_hold_more_values_after_the_checked_ones():
    assert Fit(COLUMNS[:1]).first_misfit([["abcd", "key-1"], ["abc", "key-2"]]) is None


def test_a_clob_of_the_fixup_holds_its_text_up_to_its_declared_size():
    fit = Fit([("BODY", "CLOB(64K)")], lobs_inline=True)
    assert fit.first_misfit([["é" * (32 << 10)]]) is None
    assert fit.first_misfit([["é" * (32 << 10) + "y"]]).problem == "holds 65537 bytes, more than its CLOB(64K) can"
