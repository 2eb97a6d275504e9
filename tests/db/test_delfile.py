"""DEL files: DB2's conventions, exact round trips, and refusal of damaged files."""

from __future__ import annotations

import gzip

import pytest

from offboard.db.delfile import ChunkWriter, FileInfo, check_file, read_batches
from offboard.errors import OffboardError

ROWS = [
    ("a", "plain", 1, "2024-01-02 03:04:05.000006"),
    ("b", "", 0, None),  # an empty string is not NULL
    ("c", None, None, "2024-01-02 03:04:05.000000"),
    ("d", 'say "hi", then\nleave\r\n', -7, None),
    ("e", '""', 12345678901234, None),  # a value that is just two quotes
    ("f", "Grüße, 東京 ✓", 3, None),
]


def write(folder, rows, max_rows=1000, max_bytes=1 << 30, batch=100) -> list[FileInfo]:
    writer = ChunkWriter(folder, "S/T", max_rows, max_bytes)
    for start in range(0, len(rows), batch):
        writer.write(rows[start:start + batch])
    return writer.close()


def read(tmp_path, chunks):
    return [row for chunk in chunks for batch in read_batches(tmp_path / chunk.file, 4, chunk.empty_strings > 0, size=7) for row in batch]


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


def test_a_record_with_the_wrong_number_of_fields(tmp_path):
    path = tmp_path / "bad.del.gz"
    path.write_bytes(gzip.compress(b'"a","b",1\n'))
    with pytest.raises(OffboardError, match="bad.del.gz: record 1 has 3 fields, expected 4"):
        list(read_batches(path, 4))
