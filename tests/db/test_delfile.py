"""DEL files: DB2's conventions, exact round trips, and refusal of damaged files."""

from __future__ import annotations

import csv
import gzip
from datetime import date, datetime, time
from decimal import Decimal

import pytest

from offboard.db.delfile import (
    ChunkWriter,
    FileInfo,
    check_file,
    del_lines,
    read_batches,
)
from offboard.errors import OffboardError

CLOB_CHARS = 1 << 20  # a long field: the reader holds no record whole that is longer than its fields allow

ROWS = [
    ("a", "plain", 1, "2024-01-02 03:04:05.000006"),
    ("b", "", 0, None),  # an empty string is not NULL
    ("c", None, None, "2024-01-02 03:04:05.000000"),
    ("d", 'say "hi", then\nleave\r\n', -7, None),
    ("e", '""', 12345678901234, None),  # a value that is just two quotes
    ("f", "Grüße, 東京 ✓", 3, None),
]


FIELD_CHARS = [36, CLOB_CHARS, 20, 32]  # CHAR(36), CLOB, BIGINT, TIMESTAMP


def write(folder, rows, max_rows=1000, max_bytes=1 << 30, batch=100) -> list[FileInfo]:
    writer = ChunkWriter(folder, "S/T", max_rows, max_bytes)
    for start in range(0, len(rows), batch):
        writer.write(rows[start:start + batch])
    return writer.close()


def read(tmp_path, chunks):
    return [row for chunk in chunks for batch in read_batches(tmp_path / chunk.file, FIELD_CHARS, chunk.empty_strings > 0, size=7) for row in batch]


def test_records_follow_db2_del_conventions(tmp_path):
    [chunk] = write(tmp_path, ROWS)
    lines = gzip.decompress((tmp_path / chunk.file).read_bytes()).decode()
    assert lines.startswith('"a","plain",1,"2024-01-02 03:04:05.000006"\n"b","",0,\n"c",,,"2024')
    assert '"d","say ""hi"", then\nleave\r\n",-7,\n' in lines
    assert chunk.file == "S/T.00001.del.gz" and chunk.rows == len(ROWS) and chunk.empty_strings == 1


def test_round_trip_keeps_empty_strings_apart_from_null(tmp_path):
    expected = [[a, b, None if c is None else str(c), d] for a, b, c, d in ROWS]
    assert read(tmp_path, write(tmp_path, ROWS)) == expected


def test_without_empty_strings_every_empty_field_is_null(tmp_path):
    rows = [row for row in ROWS if "" not in row]
    chunks = write(tmp_path, rows)
    assert chunks[0].empty_strings == 0
    assert read(tmp_path, chunks) == [[a, b, None if c is None else str(c), d] for a, b, c, d in rows]


def test_lines_are_formatted_a_column_at_a_time_as_csv_would():
    rows = [
        ("a", 'say "hi", then\nleave\r\n', 1, None, 2.5, datetime(2024, 1, 2, 3, 4, 5, 6)),
        ("", None, None, '""', -0.0, date(2024, 1, 2)),
        ("None", "Grüße \udcff", 12345678901234, "x", float("nan"), time(3, 4, 5)),
    ]
    assert del_lines(rows) == (
        '"a","say ""hi"", then\nleave\r\n",1,,2.5,"2024-01-02 03:04:05.000006"\n'
        '"",,,"""""",-0.0,"2024-01-02"\n'
        '"None","Grüße \udcff",12345678901234,"x",nan,"03:04:05"\n'
    )


@pytest.mark.parametrize("rows", [
    [("a", "unit\x1fseparator"), ("b", None)],
    [("a", "record\x1eseparator"), ("b", None)],
    [("a", Decimal("1.5"))],
    [("a", True)],
    [("a",)],
], ids=["unit separator", "record separator", "decimal", "boolean", "one column"])
def test_values_that_need_csv_itself_are_left_to_it(tmp_path, rows):
    assert del_lines(rows) is None
    writer = ChunkWriter(tmp_path, "S/T", 10, 1 << 30)
    writer.write(rows)
    [chunk] = writer.close()
    expected = [[None if value is None else str(value) for value in row] for row in rows]
    width = [20] * len(rows[0])
    assert [row for batch in read_batches(tmp_path / chunk.file, width) for row in batch] == expected


def test_chunks_split_by_rows_and_by_bytes(tmp_path):
    rows = [(str(i), "x" * 50, i, None) for i in range(2500)]
    assert [c.rows for c in write(tmp_path / "r", rows, max_rows=1000, batch=300)] == [1000, 1000, 500]
    random_text = [(str(i), f"{i * 7919:x}" * 300, i, None) for i in range(2500)]
    by_bytes = write(tmp_path / "b", random_text, max_bytes=100_000, batch=500)
    assert len(by_bytes) > 1 and sum(c.rows for c in by_bytes) == 2500
    assert read(tmp_path / "b", by_bytes) == [[a, b, str(c), d] for a, b, c, d in random_text]


def test_damaged_files_are_refused(tmp_path):
    [chunk] = write(tmp_path, ROWS)
    path = tmp_path / chunk.file
    data = path.read_bytes()
    check_file(tmp_path, chunk)
    path.write_bytes(data[:-5])
    with pytest.raises(OffboardError, match=r"S/T.00001.del.gz is truncated: \d+ bytes, the manifest says"):
        check_file(tmp_path, chunk)
    path.write_bytes(data[:20] + bytes([data[20] ^ 1]) + data[21:])
    with pytest.raises(OffboardError, match="sha256 .* differs"):
        check_file(tmp_path, chunk)
    path.unlink()
    with pytest.raises(OffboardError, match="is missing"):
        check_file(tmp_path, chunk)


def del_file(tmp_path, text):
    path = tmp_path / "T.00001.del.gz"
    path.write_bytes(gzip.compress(text.encode()))
    return path


@pytest.mark.parametrize(("text", "problem"), [
    ('"a","b",1\n', "record 1 has 3 fields, expected 4"),
    ('"a","b",1,\n\n"c","d",2,\n', "record 2 has 0 fields, expected 4"),
])
def test_a_record_with_the_wrong_number_of_fields(tmp_path, text, problem):
    with pytest.raises(OffboardError, match=f"T.00001.del.gz: {problem}"):
        list(read_batches(del_file(tmp_path, text), FIELD_CHARS))


def test_values_as_long_as_their_columns_allow_are_read_back(tmp_path):
    """A CHAR(36) of 36 quotes (72 characters in the file), a CLOB of 1 MiB with line breaks."""
    clob = ('a "quoted" line,\r\nand another\n' * (CLOB_CHARS // 16))[:CLOB_CHARS]
    rows = [('"' * 36, clob, -(2**63), "2024-01-02-03.04.05.000000000006")]
    assert read(tmp_path, write(tmp_path, rows)) == [[a, b, str(c), d] for a, b, c, d in rows]


def test_a_field_longer_than_its_columns_allow_is_refused(tmp_path):
    path = del_file(tmp_path, '"a","b"\n"a","' + "x\n" * 4 + '"\n')
    limit = csv.field_size_limit()
    with pytest.raises(OffboardError, match=r"^T.00001.del.gz: record 2 has a field longer than the columns of its table allow \(6 characters\)$"):
        list(read_batches(path, [6, 6]))
    assert csv.field_size_limit() == limit  # every other reader of CSV files gets its limit back


@pytest.mark.parametrize("record", ['"a",' * 20_000 + '"b"\n', '"a","' + 'x","\n' * 20_000 + '"\n'], ids=["one line", "many lines"])
def test_a_record_longer_than_its_columns_allow_is_refused(tmp_path, record):
    """Refused once it runs past what a record can hold, not when it has been read whole."""
    path = del_file(tmp_path, '"a","b"\n' * 3 + record + '"a","b"\n')
    with pytest.raises(OffboardError, match=r"^T.00001.del.gz: record 4 is longer than the columns of its table allow \(31 characters\)$"):
        list(read_batches(path, [6, 6], max_chars=1000))


@pytest.mark.parametrize("empty_strings", [True, False])
def test_batches_end_by_characters_as_well_as_rows(tmp_path, empty_strings):
    """Between records, including those whose values hold line breaks."""
    rows = [(str(i), "line\n" * (1 + i % 50), None if i % 3 or not empty_strings else "", None) for i in range(2000)]
    [chunk] = write(tmp_path, rows, max_rows=len(rows))
    batches = list(read_batches(tmp_path / chunk.file, FIELD_CHARS, chunk.empty_strings > 0, max_chars=2000))
    assert 1 < max(map(len, batches)) < 100
    assert max(sum(len(value or "") for row in batch for value in row) for batch in batches) < 3 * 2000
    assert [row for batch in batches for row in batch] == [list(row) for row in rows]
