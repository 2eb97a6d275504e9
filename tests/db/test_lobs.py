"""LOB files beside their chunks: written in order, read in order, and nothing else accepted."""

from __future__ import annotations

import pytest

from offboard.db.lobs import LobReader, LobWriter, lob_file_name, specifier_length
from offboard.errors import OffboardError

VALUES = [b"\x00\xff photo", b"", b'"quoted",\r\n' * 1000]


@pytest.fixture
def written(tmp_path):
    writer = LobWriter(tmp_path / "EMPLOYEE.00001.lob")
    specifiers = [writer.specifier(value) for value in VALUES]
    return tmp_path, writer.close(tmp_path), specifiers


def test_values_come_back_in_the_order_they_were_written(written):
    folder, info, specifiers = written
    assert specifiers[:2] == ["EMPLOYEE.00001.lob.0.8/", "EMPLOYEE.00001.lob.8.0/"]
    assert (info.file, info.bytes) == ("EMPLOYEE.00001.lob", sum(map(len, VALUES)))
    reader = LobReader(folder, info, "EMPLOYEE.00001.del.gz")
    assert [reader.read(text) for text in specifiers] == VALUES
    reader.finish()


def test_the_lob_file_is_named_after_its_chunk_and_a_writer_without_values_leaves_none(tmp_path):
    assert lob_file_name("EMPLOYEE.00001.del.gz", ".del.gz") == "EMPLOYEE.00001.lob"
    assert LobWriter(tmp_path / "X.lob").close(tmp_path) is None
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("specifier, problem", [
    ("OTHER.00001.lob.0.8/", "names 'OTHER.00001.lob', not the chunk's LOB file"),
    ("EMPLOYEE.00001.lob.8.0/", r"\(8, 0 bytes\) is not the next value"),
    ("EMPLOYEE.00001.lob.0.99999/", "is not the next value"),
    ("EMPLOYEE.00001.lob.0.8", "is not a LOB location specifier"),
    ("../EMPLOYEE.00001.lob.0.8/", "is not a LOB location specifier"),
])
def test_a_location_that_is_not_the_next_value_of_the_own_file_is_refused(written, specifier, problem):
    folder, info, _ = written
    with pytest.raises(OffboardError, match=problem):
        LobReader(folder, info, "EMPLOYEE.00001.del.gz").read(specifier)


def test_bytes_no_record_points_at_are_refused(written):
    folder, info, specifiers = written
    reader = LobReader(folder, info, "EMPLOYEE.00001.del.gz")
    reader.read(specifiers[0])
    with pytest.raises(OffboardError, match="holds 11000 bytes no record points at"):
        reader.finish()


def test_the_stated_length_is_read_from_a_specifier_only():
    assert specifier_length("T.1.lob.5.10485760/") == 10485760
    assert specifier_length("T.1.lob.05.1/") is None
    assert specifier_length("a photo") is None


def test_locations_without_a_lob_file_in_the_manifest_are_refused(tmp_path):
    with pytest.raises(OffboardError, match="^T.00001.del.gz: its records point into a LOB file the manifest does not record$"):
        LobReader(tmp_path, None, "T.00001.del.gz").read("T.00001.lob.0.1/")
