"""Values between the driver and the DEL text: bytes stay bytes, LOBs are read in bounded batches."""

from __future__ import annotations

import secrets
from decimal import Decimal

import pytest

from offboard.db import values
from offboard.db.lobs import LobWriter
from offboard.db.types import parse_type
from offboard.db.values import Decoder, binary_text, fetch_rows, field_text, text_bytes


def test_every_byte_comes_back_as_itself():
    for data in [bytes(range(256)), secrets.token_bytes(4096), "é€😀".encode(), b"\xed\xa0\x80\xc3"]:
        assert text_bytes(binary_text(data)) == data


def test_decimals_are_written_in_fixed_point_whatever_the_driver_gives():
    decimal = field_text(parse_type("DECIMAL(12,5)"))
    assert [decimal(v) for v in (Decimal("1E+3"), 1e-05, Decimal("-12.50"))] == ["1000", "0.00001", "-12.50"]
    assert field_text(parse_type("VARCHAR(5)")) is None


def test_fewer_rows_are_fetched_the_larger_the_declared_lobs():
    types = [parse_type(t) for t in ("CHAR(16) FOR BIT DATA", "BLOB(10M)", "CLOB(1M)")]
    assert fetch_rows(types, 5000) == values.LOB_BATCH_BYTES // (11 << 20)
    assert fetch_rows([parse_type("BLOB(1G)")], 5000) == 1
    assert fetch_rows([parse_type("VARCHAR(5)")], 5000) == 5000


def test_lobs_are_decoded_in_batches_of_bounded_bytes(tmp_path, monkeypatch):
    monkeypatch.setattr(values, "LOB_BATCH_BYTES", 2500)
    writer = LobWriter(tmp_path / "T.00001.lob")
    rows = [[binary_text(b"\x00\x01"), writer.specifier(b"\xff" * 1000), writer.specifier("é".encode() * 10)] for _ in range(5)]
    rows.append([None, None, None])
    decoder = Decoder([parse_type(t) for t in ("CHAR(2) FOR BIT DATA", "BLOB(1K)", "CLOB(1K)")], tmp_path,
                      writer.close(tmp_path), "T.00001.del.gz")
    batches = list(decoder.batches(rows))
    decoder.finish()
    assert list(map(len, batches)) == [3, 3]  # 3 x 1,020 bytes reach 2,500
    assert batches[0][0] == [b"\x00\x01", b"\xff" * 1000, "é" * 10]
    assert batches[1][-1] == [None, None, None]


def test_a_clob_that_is_not_utf8_is_refused(tmp_path):
    writer = LobWriter(tmp_path / "T.00001.lob")
    rows = [[writer.specifier(b"\xff\xfe")]]
    decoder = Decoder([parse_type("CLOB(1K)")], tmp_path, writer.close(tmp_path), "T.00001.del.gz")
    with pytest.raises(Exception, match="T.00001.del.gz: a CLOB value is not UTF-8"):
        list(decoder.batches(rows))


def test_the_rows_given_keep_their_text_so_a_written_batch_s_lobs_can_go(tmp_path, monkeypatch):
    monkeypatch.setattr(values, "LOB_BATCH_BYTES", 1000)
    writer = LobWriter(tmp_path / "T.00001.lob")
    rows = [[writer.specifier(b"\xff" * 1000)] for _ in range(3)]
    given = [list(row) for row in rows]
    decoder = Decoder([parse_type("BLOB(1K)")], tmp_path, writer.close(tmp_path), "T.00001.del.gz")
    assert [len(batch) for batch in decoder.batches(given)] == [1, 1, 1]
    assert given == rows
