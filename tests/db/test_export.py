"""The export's own guarantees: only the org's rows, chunking, resuming, the order of deliveries."""

from __future__ import annotations

import csv
import gzip
import io

import pytest
import sqlalchemy as sa

from offboard.db import export as export_module
from offboard.db import scan, statements
from offboard.db.manifest import MANIFEST_FILE
from offboard.errors import OffboardError
from offboard.sample import mutate_org

from .support import export


def test_a_row_of_another_tenant_stops_the_export_and_leaves_no_file(sample, org, monkeypatch):
    def leaky_filter(table, tenant, key, columns=None):
        """As if the database matched more than asked (a view, a collation): every org's rows."""
        everyone = sa.or_(table.c[tenant] == sa.bindparam("org"), sa.literal_column("1") == sa.literal_column("1"))
        return sa.select(*table.c).where(everyone).order_by(*(table.c[k] for k in key))

    monkeypatch.setattr(scan, "select_org_rows", leaky_filter)

    with pytest.raises(OffboardError, match=r"EMPINST.TENANT: the source returned rows of tenant '\d+'.* when asked for org"):
        export(sample, org)

    folder = sample.root / "deliveries" / "initial"
    assert not (folder / MANIFEST_FILE).exists()
    assert not list(folder.rglob("*.del.gz*")) and not list(folder.rglob("*.lob*"))


def test_chunks_split_by_rows_and_hold_db2_del_records(sample, org):
    delivery = export(sample, org, chunk_rows=5)

    media = delivery.manifest.table("FILES.MEDIA")
    assert len(media.chunks) == -(-media.rows // 5) and all(c.rows <= 5 for c in media.chunks)
    text = gzip.decompress((delivery.folder / media.chunks[0].file).read_bytes()).decode("utf-8", "surrogateescape")
    [first] = list(csv.reader(io.StringIO(text, newline="")))[:1]
    assert text.startswith('"') and first[media.column_names.index("ORG_ID")] == org.org_id  # strings and bytes quoted
    assert len(first[0].encode("utf-8", "surrogateescape")) == 16  # a CHAR(16) FOR BIT DATA id: its own 16 bytes
    size = first[media.column_names.index("MEDIA_SIZE")]
    assert size.isdigit() and f",{size}," in text and f'"{size}"' not in text  # numbers bare


def test_an_interrupted_export_resumes_with_the_tables_it_finished(sample, org, monkeypatch):
    real, exported = export_module._export_table, []

    def export_table_until(limit):
        def export_table(*args, **kwargs):
            if len(exported) == limit:
                raise OffboardError("connection lost")
            exported.append(args[1].qualified)
            return real(*args, **kwargs)
        return export_table

    monkeypatch.setattr(export_module, "_export_table", export_table_until(4))
    with pytest.raises(OffboardError, match="connection lost"):
        export(sample, org)
    assert len(list((sample.root / "deliveries" / "initial").rglob("*.done.json"))) == 4

    exported.clear()
    monkeypatch.setattr(export_module, "_export_table", export_table_until(None))
    delivery = export(sample, org)

    assert len(exported) == len(delivery.manifest.tables) - 4  # the four finished ones were kept
    assert (delivery.folder / MANIFEST_FILE).is_file()


def test_an_unfinished_folder_of_another_org_is_not_resumed(sample, org, monkeypatch):
    other = sample.orgs[0]
    monkeypatch.setattr(export_module, "_export_table", lambda *a, **k: (_ for _ in ()).throw(OffboardError("stop")))
    with pytest.raises(OffboardError, match="stop"):
        export(sample, other)
    monkeypatch.undo()

    with pytest.raises(OffboardError, match="holds an unfinished export"):
        export(sample, org)


def test_a_delta_reads_the_orgs_rows_of_each_table_once(sample, org, monkeypatch):
    """What changed is found by comparing with the previous delivery's index, not by reading again."""
    export(sample, org)
    mutate_org(sample.root, org.org_id, seed=3)
    real, reads = scan.org_batches, []

    def counted(connection, shape, org_id, columns=None):
        reads.append((shape.qualified, columns))
        yield from real(connection, shape, org_id, columns)

    monkeypatch.setattr(export_module, "org_batches", counted)
    delta = export(sample, org, "delta")

    assert sorted(reads) == sorted((table.qualified, None) for table in delta.manifest.tables)
    assert any(table.rows for table in delta.manifest.tables)


def test_a_delta_needs_a_committed_initial_delivery(sample, org):
    with pytest.raises(OffboardError, match="no committed initial delivery"):
        export(sample, org, "delta")


def test_an_org_id_must_be_digits(sample):
    with pytest.raises(OffboardError, match="must be digits"):
        statements.tenant_literal("1' OR '1'='1")
