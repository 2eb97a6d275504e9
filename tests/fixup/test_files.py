"""The fix-up of the org's binaries: wiki pages rewritten in the target's store, binaries never
touched, nothing written outside a store, and files verify against each page's new digest."""

from __future__ import annotations

import hashlib
import os
import stat

import pytest

from offboard.db.stages import catalog as project_catalog
from offboard.errors import OffboardError
from offboard.files import owners
from offboard.files.deliveries import committed_manifests
from offboard.files.index import FileIndex
from offboard.files.manifest import FileEntry
from offboard.files.owners import Ownership, OwnerRecord, TargetOrg
from offboard.files.selection import StoreFolders, split_name
from offboard.files.verify import verify_files
from offboard.fixup import files as fixup_files
from offboard.fixup.files import linked_files, rewrite_linked_files
from offboard.fixup.mapping import read_user_mapping
from offboard.fixup.report import RewrittenFile, read_rewritten, save_rewritten
from offboard.fixup.rewrite import Rewriter
from offboard.fixup.rules import render_rules
from tests.conftest import CUSTOMERS
from tests.files.conftest import MTIME_NS, alpha, no_rows, roots, snapshot, targets, write  # noqa: F401  (fixtures)

CLOUD_ORG = CUSTOMERS["alpha"]["orgId"]
TARGET_ORG = "30011111"
MSP_HOST = "connections.msp.example.com"
LATER_NS = MTIME_NS + 10**9

PAGE = "wikis/3f/61/page"
PAGE_TEXT = (
    '<html><body><h1>Grüße</h1><p><a href="https://apps.na.collabserv.com/wikis/home?orgId=20011111#!/wiki/Wabc">home</a>, '
    '<a href="https://apps.ce.collabserv.com/profiles/html/profileView.do?userid=cloud-ann">Ann</a>, '
    '<a href="https://apps.ce.collabserv.com/profiles/html/profileView.do?userid=cloud-bob">Bob</a></p></body></html>\n'
)
LINKS = 5  # three host names, the org id, Ann (Bob is not in the mapping)
# Binaries holding the bytes of a host name: never touched, not counted.
BINARIES = {
    "wikis/3f/62/image": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR https://apps.na.collabserv.com/wikis/home\x00\x00",
    "wikis/3f/63/latin-1": "Grüße von https://apps.na.collabserv.com/wikis/home?orgId=20011111".encode("latin-1"),
    "wikis/3f/64/document": b"%PDF-1.4\n1 0 obj << /URI (https://apps.na.collabserv.com/wikis/home) >> endobj\n",
}
# Text with the same links that is no page: an attachment of a wiki, a file of Files.
NOT_LINKED = {"wikis/3f/66/attachment": PAGE_TEXT.encode(), "files/0a/0b/notes": PAGE_TEXT.encode()}
DELIVERY = {PAGE: PAGE_TEXT.encode(), **BINARIES, **NOT_LINKED}
# What the org's page rows point at (offboard.db.content): the page, binaries too (rows say nothing of a file's bytes).
PAGES = {split_name(name) for name in [PAGE, *BINARIES, "wikis/3f/65/other", "wikis/3f/66/gone"]}


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def by_name(files) -> dict[str, RewrittenFile]:
    return {f"{file.store}/{file.path}": file for file in files}


@pytest.fixture
def catalog(project):
    return project_catalog(project)


@pytest.fixture
def index():
    with FileIndex() as index:
        yield index


@pytest.fixture
def rewriter(project, tmp_path) -> Rewriter:
    """The repository's rules for alpha's org, moving to TARGET_ORG, with a mapping that lacks Bob."""
    mapping = tmp_path / "mapping.csv"
    mapping.write_text("cloud_id,target_id,email\ncloud-ann,msp-ann,ann@example.com\n", encoding="utf-8")
    rules = render_rules(project, cloud_hosts=["apps.na.collabserv.com", "apps.ce.collabserv.com"], msp_host=MSP_HOST,
                         cloud_org_id=CLOUD_ORG, target_org_id=TARGET_ORG, user_mapping=mapping)
    return Rewriter(rules, read_user_mapping(mapping))


def target_org() -> TargetOrg:
    return TargetOrg(TARGET_ORG, no_rows)


def imported(targets, files: dict[str, bytes]) -> None:
    """The files as the org's import leaves them in the target: in place, and claimed for the org
    in the stores' owner records."""
    for name, data in files.items():
        store, relative = split_name(name)
        write(targets[store], relative, data)
    entries = {name: FileEntry(size=len(data), mtime_ns=MTIME_NS, sha256=sha256(data), archive="00001.tar") for name, data in files.items()}
    Ownership(StoreFolders(targets).roots, target_org()).claim(entries.items(), "initial")


def fix(targets, catalog, rewriter, earlier=(), dry_run=False):
    return rewrite_linked_files(linked_files(targets, TARGET_ORG, PAGES), rewriter, by_name(earlier), dry_run=dry_run)


def path_of(targets, name: str):
    store, relative = split_name(name)
    return targets[store] / relative


def test_a_wiki_page_is_rewritten_binaries_are_not_and_verify_checks_the_new_digest(alpha, roots, targets, catalog, rewriter, tmp_path,
                                                                                     index):
    for name, data in DELIVERY.items():
        write(roots[split_name(name)[0]], split_name(name)[1], data)
    alpha.export(roots, [split_name(name) for name in DELIVERY])
    alpha.import_("initial", targets, target=target_org())
    manifests = committed_manifests(alpha.s3, alpha.bucket, alpha.org_id, index)
    page = path_of(targets, PAGE)
    page.chmod(0o640)
    others = {name: path_of(targets, name) for name in DELIVERY if name != PAGE}
    before = {name: (path.read_bytes(), path.stat().st_mtime_ns) for name, path in others.items()}

    result = fix(targets, catalog, rewriter)

    text = page.read_text(encoding="utf-8")
    assert "collabserv.com" not in text and "Grüße" in text
    assert f'href="https://{MSP_HOST}/wikis/home?orgId={TARGET_ORG}#!/wiki/Wabc"' in text and "userid=msp-ann" in text
    assert "userid=cloud-bob" in text and ("wikis", "3f/61/page") in rewriter.unmapped["cloud-bob"]
    assert stat.S_IMODE(page.stat().st_mode) == 0o640
    assert sorted(os.listdir(page.parent)) == ["page"]  # nothing left beside it
    assert result.files == [RewrittenFile(store="wikis", path="3f/61/page", size=page.stat().st_size, sha256=sha256(page.read_bytes()),
                                          delivered=sha256(DELIVERY[PAGE]), links=LINKS)]
    assert not result.left
    assert {name: (path.read_bytes(), path.stat().st_mtime_ns) for name, path in others.items()} == before

    save_rewritten(tmp_path, "staging", result.files)
    rewritten = read_rewritten(tmp_path, "staging")
    report = verify_files(targets, manifests, rewritten=rewritten)
    assert report.ok and report.rewritten == 1
    assert verify_files(targets, manifests).different == {PAGE: ["size", "mtime"]}  # without the report
    page.write_bytes(page.read_bytes().replace(b"Ann", b"Amy"))  # changed again after the fix-up, same size
    assert verify_files(targets, manifests, rewritten=rewritten, checksum=False).different == {PAGE: ["sha256"]}


def test_the_fixup_of_files_run_twice_changes_nothing_the_second_time(targets, catalog, rewriter):
    imported(targets, DELIVERY)
    pristine = snapshot(targets["wikis"])

    dry = fix(targets, catalog, rewriter, dry_run=True)
    assert snapshot(targets["wikis"]) == pristine
    first = fix(targets, catalog, rewriter)
    assert first.files == dry.files and len(first.files) == 1
    after = snapshot(targets["wikis"])
    assert after != pristine

    second = fix(targets, catalog, rewriter, earlier=first.files)
    assert second.files == first.files and not second.left
    assert snapshot(targets["wikis"]) == after


def test_a_page_changed_since_its_import_is_left_for_verify_to_report(targets, catalog, rewriter):
    imported(targets, {PAGE: PAGE_TEXT.encode(), "wikis/3f/65/other": PAGE_TEXT.encode()})
    first = fix(targets, catalog, rewriter)
    edited = PAGE_TEXT.replace("home", "start").encode()
    write(targets["wikis"], "3f/61/page", edited)  # by hand, or by someone else after the import
    (targets["wikis"] / "3f/65/other").write_bytes(b"after the fix-up " + (targets["wikis"] / "3f/65/other").read_bytes())

    again = fix(targets, catalog, rewriter, earlier=first.files)
    assert again.files == [] and again.left == {"changed": [PAGE, "wikis/3f/65/other"]}
    assert (targets["wikis"] / "3f/61/page").read_bytes() == edited
    assert fix(targets, catalog, rewriter).left == {"changed": [PAGE, "wikis/3f/65/other"]}  # no report: neither is delivered


def test_a_large_text_is_counted_not_loaded_and_a_missing_file_counted(targets, catalog, rewriter, monkeypatch):
    monkeypatch.setattr(fixup_files, "LIMIT", 256)
    monkeypatch.setattr(fixup_files, "PEEK", 64)
    large = (PAGE_TEXT * 3).encode()
    imported(targets, {PAGE: large, "wikis/3f/62/image": BINARIES["wikis/3f/62/image"] * 20, "wikis/3f/66/gone": b"gone"})
    (targets["wikis"] / "3f/66/gone").unlink()

    result = fix(targets, catalog, rewriter)
    assert result.files == [] and result.left == {"too_large": [PAGE], "missing": ["wikis/3f/66/gone"]}
    assert (targets["wikis"] / "3f/61/page").read_bytes() == large


def test_a_symbolic_link_inside_the_store_is_not_followed(targets, catalog, rewriter):
    theirs = write(targets["wikis"], "7a/00/another-orgs-page", PAGE_TEXT.encode())
    imported(targets, {PAGE: PAGE_TEXT.encode()})
    page = targets["wikis"] / "3f/61/page"
    page.unlink()
    page.symlink_to(theirs)

    result = fix(targets, catalog, rewriter)
    assert result.files == [] and result.left == {"not_regular": [PAGE]}
    assert theirs.read_bytes() == PAGE_TEXT.encode() and page.is_symlink()


@pytest.mark.parametrize("escape", ["dot-dot", "absolute", "linked folder", "linked file"])
def test_a_name_leading_out_of_the_store_is_refused_and_nothing_written(targets, catalog, rewriter, tmp_path, escape):
    outside = write(tmp_path / "elsewhere", "3f/61/page", PAGE_TEXT.encode())
    imported(targets, {"wikis/00/00/first": PAGE_TEXT.encode(), PAGE: PAGE_TEXT.encode()})
    record = OwnerRecord(os.path.realpath(targets["wikis"]))
    entry = FileEntry(size=1, mtime_ns=MTIME_NS, sha256=sha256(PAGE_TEXT.encode()), archive="00001.tar")
    if escape == "dot-dot":  # the record tampered with: the import never writes such a name (Manifest refuses it)
        with record.claiming(TARGET_ORG, "initial") as claim:
            claim([("../../elsewhere/3f/61/page", entry.sha256)])
    elif escape == "absolute":
        with record.claiming(TARGET_ORG, "initial") as claim:
            claim([(str(outside), entry.sha256)])
    elif escape == "linked folder":
        (targets["wikis"] / "3f/61/page").unlink()
        (targets["wikis"] / "3f/61").rmdir()
        (targets["wikis"] / "3f/61").symlink_to(outside.parent)
    else:
        (targets["wikis"] / "3f/61/page").unlink()
        (targets["wikis"] / "3f/61/page").symlink_to(outside)
    before = snapshot(targets["wikis"])

    with pytest.raises(OffboardError, match="fix-up of the files refused, nothing rewritten") as refused:
        fix(targets, catalog, rewriter)
    assert len(str(refused.value).splitlines()) == 1
    assert outside.read_bytes() == PAGE_TEXT.encode() and snapshot(targets["wikis"]) == before


def test_importing_again_keeps_a_rewritten_page_and_a_delta_that_changes_it_replaces_it(alpha, roots, targets, catalog, rewriter,
                                                                                         index):
    pages = {PAGE: PAGE_TEXT.encode(), "wikis/3f/65/other": PAGE_TEXT.replace("Wabc", "Wdef").encode()}
    for name, data in pages.items():
        write(roots["wikis"], split_name(name)[1], data)
    selection = [split_name(name) for name in pages]
    alpha.export(roots, selection)
    alpha.import_("initial", targets, target=target_org())
    first = fix(targets, catalog, rewriter)
    fixed = {name: path_of(targets, name).read_bytes() for name in pages}

    retried = alpha.import_("initial", targets, target=target_org(), rewritten=by_name(first.files))
    assert retried.kept == 2 and {name: path_of(targets, name).read_bytes() for name in pages} == fixed

    changed = PAGE_TEXT.replace("home", "start").encode()
    write(roots["wikis"], "3f/61/page", changed, LATER_NS)
    alpha.export(roots, selection, "delta")
    delta = alpha.import_("delta-1", targets, target=target_org(), rewritten=by_name(first.files))
    assert delta.files == 1 and delta.kept == 0
    assert path_of(targets, PAGE).read_bytes() == changed  # the delivered version; the other page is left as fixed
    assert path_of(targets, "wikis/3f/65/other").read_bytes() == fixed["wikis/3f/65/other"]
    manifests = committed_manifests(alpha.s3, alpha.bucket, alpha.org_id, index)
    assert verify_files(targets, manifests, rewritten=by_name(first.files)).ok  # the old rewrite is of an older delivery

    second = fix(targets, catalog, rewriter, earlier=first.files)
    assert {file.path: file.delivered for file in second.files} == {"3f/61/page": sha256(changed), "3f/65/other": sha256(pages["wikis/3f/65/other"])}
    assert "collabserv" not in path_of(targets, PAGE).read_text(encoding="utf-8")
    assert verify_files(targets, manifests, rewritten=by_name(second.files)).ok


def test_no_owner_record_no_linked_files(targets, catalog):
    assert linked_files(targets, TARGET_ORG, PAGES) == []
    assert not (targets["wikis"] / owners.RECORD).exists()  # looking left no record behind
