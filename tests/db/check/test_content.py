"""The content count: the org's binaries a store lacks are counted, listed and block."""

from __future__ import annotations

import json

from offboard.db.content import org_content
from tests.conftest import run_cli
from tests.db.check.support import STACK, catalog_of, check, found


def test_binaries_the_store_lacks_are_listed(project, sample, org, stack):
    catalog = catalog_of(project)
    sources = {name: sample.filled(url) for name, url in sample.sources.items()}
    # a store of rows naming each file (a folder's files are whatever the folder holds)
    folders = {table.content.store for table in catalog.tables() if table.content and table.content.folder}
    store = next(table.content.store for table in catalog.tables() if table.content and table.content.store not in folders)
    paths = sorted({path for s, path in org_content(catalog, sources, org.org_id, sample.content_stores) if s == store})
    gone = paths[:-1]  # all but one
    for path in gone:
        (sample.content_stores[store] / path).unlink()
    result = check(project)
    [count] = [count for count in result.content if count.store == store]
    assert (count.binaries, count.found, count.missing_count) == (len(paths), 1, len(gone))
    assert count.missing == gone[:20] and count.root == str(sample.content_stores[store])
    [finding] = found(result, "blocks", "source", "content")
    more = f" and {len(gone) - 20} more" if len(gone) > 20 else ""
    assert finding.line().endswith(f"{', '.join(gone[:20])}{more}")
    assert f"{len(gone)} of the org's {len(paths)} binaries missing" in finding.message
    shown = run_cli(project, "catalog", "check", STACK, "--target", "source", "--json")
    assert shown.returncode == 1
    document = json.loads(shown.stdout)
    assert not document["ok"] and sum(count["missing_count"] for count in document["content"]) == len(gone)
