"""The fix-up rewrites hosts, the org id and user ids in the org's rows, and only there."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from offboard.db.export import export_org
from offboard.fixup.mapping import read_user_mapping
from offboard.fixup.rewrite import Rewriter
from offboard.fixup.rules import parse_rules, render_rules
from offboard.errors import OffboardError
from offboard.sample.stack import write_stack
from tests.conftest import run_cli

from tests.db.support import MSP_HOST, catalog_of, execute, fixup, load, query, rules_text, snapshot


def imported(sample, *orgs):
    for org in orgs:
        root = sample.root / "deliveries" / org.org_id
        export_org(catalog_of(sample), sample.sources, org.org_id, root, "initial")
        load(sample, org, root / "initial")


def reference_values(sample, org, kind):
    """(table.column, value) of every non-NULL value of the org's reference columns of one kind."""
    found = []
    for spec in catalog_of(sample).tables():
        for column in getattr(spec.references, kind):
            rows = query(sample, "staging", spec.database, f'SELECT "{column}" FROM "{spec.name}" WHERE "{spec.tenant}" = :org AND "{column}" IS NOT NULL',
                         org=org.target_org_id)
            found += [(f"{spec.qualified}.{column}", value) for (value,) in rows]
    return found


def test_fixup_rewrites_hosts_org_and_users(sample, org):
    imported(sample, org)
    missing_user = org.users[-1]  # the sample's mapping lacks the last user, and the guests (another org's)
    guests = {user.cloud_id: user for user in org.users if user.home_org}
    assert {host for _, value in reference_values(sample, org, "links") for host in sample.cloud_hosts if host in value} == set(sample.cloud_hosts)

    report = fixup(sample, org)

    links = reference_values(sample, org, "links")
    assert links and not any("collabserv.com" in value for _, value in links)
    assert any(MSP_HOST in value for _, value in links)
    assert not any(f"orgId={org.org_id}" in value for _, value in links)
    assert any(f"orgId={org.target_org_id}" in value for _, value in links)
    mapped = {u.cloud_id: u.target_id for u in org.users[:-1] if not u.home_org}
    assert not any(f"userid={cloud}" in value for cloud in mapped for _, value in links)
    users = reference_values(sample, org, "users")
    assert {place for place, _ in users} == {f"{spec.qualified}.{column}" for spec in catalog_of(sample).tables()
                                            for column in spec.references.users}  # every identity column is there
    assert all(value in mapped.values() or value in (missing_user.cloud_id, *guests) for _, value in users)
    homes = {user.home_org for user in guests.values()}
    assert homes and {value for _, value in reference_values(sample, org, "orgs")} == {org.target_org_id} | homes  # guests keep theirs
    assert report.unmapped_ids == [missing_user.cloud_id]
    places = {(p.table, p.column): p.rows for p in report.unmapped[0].places}
    assert places[("EMPINST.EMPLOYEE", "PROF_GUID")] == 1 and places[("SNCOMM.MEMBERPROFILE", "DIRECTORY_UUID")] == 1
    assert sorted(report.guests) == sorted(guests)
    counts = {(t.table, c.column): c for t in report.tables for c in t.columns}
    assert counts[("BLOGS.WEBLOGENTRY", "TEXT")].hosts > 0 and counts[("BLOGS.WEBLOGENTRY", "TEXT")].users > 0
    assert counts[("EMPINST.EMPLOYEE", "H_TENANT_KEY")].orgs == counts[("EMPINST.EMPLOYEE", "H_TENANT_KEY")].rows > 0
    kept = query(sample, "staging", "PEOPLEDB", 'SELECT "PROF_MAIL", "H_TENANT_KEY", "PROF_GUID" FROM "EMPLOYEE" WHERE "TENANT_KEY" = :org '
                 'AND "H_TENANT_KEY" != :org', org=org.target_org_id)
    assert sorted(kept) == sorted((user.email, user.home_org, user.cloud_id) for user in guests.values())


@pytest.mark.one_engine
def test_lower_case_twins_are_computed_again_from_the_mapped_ids(sample, org):
    imported(sample, org)

    report = fixup(sample, org)

    rows = query(sample, "staging", "PEOPLEDB", 'SELECT "PROF_UID", "PROF_UID_LOWER", "PROF_SOURCE_UID", "PROF_SRC_UID_LOWER", '
                 '"PROF_LOGIN", "PROF_LOGIN_LOWER", "PROF_MANAGER_UID", "PROF_MANAGER_UID_LOWER" FROM "EMPLOYEE" WHERE "TENANT_KEY" = :org',
                 org=org.target_org_id)
    targets = {u.target_id for u in org.users}
    assert rows and all(lower == (value.lower() if value is not None else None) for row in rows for value, lower in zip(row[::2], row[1::2]))
    assert any(row[1] in {t.lower() for t in targets} for row in rows)
    counts = {(t.table, c.column): c for t in report.tables for c in t.columns}
    assert counts[("EMPINST.EMPLOYEE", "PROF_UID_LOWER")].rows == counts[("EMPINST.EMPLOYEE", "PROF_UID")].rows > 0


def test_fixup_twice_gives_the_same_result(sample, org):
    imported(sample, org)
    first = fixup(sample, org)
    after_first = snapshot(sample, "staging")

    second = fixup(sample, org)

    assert first.changed_rows > 0 and second.changed_rows == 0
    assert snapshot(sample, "staging") == after_first
    assert [t.checksum for t in second.tables] == [t.checksum for t in first.tables]
    assert second.unmapped == first.unmapped and second.guests == first.guests


@pytest.mark.one_engine
def test_dry_run_counts_what_would_change_and_changes_nothing(sample, org):
    imported(sample, org)
    before = snapshot(sample, "staging")

    dry = fixup(sample, org, dry_run=True)

    assert snapshot(sample, "staging") == before
    real = fixup(sample, org)
    assert dry.dry_run and [t.columns for t in dry.tables] == [t.columns for t in real.tables]


def test_fixup_leaves_other_orgs_alone(sample, org):
    other = sample.orgs[0]
    imported(sample, org, other)
    theirs = {table: [row for row in rows if other.target_org_id in row] for table, rows in snapshot(sample, "staging").items()}

    fixup(sample, org)

    after = {table: [row for row in rows if other.target_org_id in row] for table, rows in snapshot(sample, "staging").items()}
    assert after == theirs


def rewriter(sample, org):
    rules = parse_rules(rules_text(sample, org), "rules.yaml")
    return Rewriter(rules, read_user_mapping(rules.users.mapping))


@pytest.mark.one_engine
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("https://apps.na.collabserv.com/files", f"https://{MSP_HOST}/files"),
        ("see APPS.NA.collabserv.com.", f"see {MSP_HOST}."),
        ("https://apps.na.collabserv.com.evil.example/x", "https://apps.na.collabserv.com.evil.example/x"),
        ("https://myapps.na.collabserv.com/x", "https://myapps.na.collabserv.com/x"),
    ],
)
def test_host_names_are_rewritten_only_as_whole_names(sample, org, text, expected):
    assert rewriter(sample, org).text(text, Counter(), ("T", "C")) == expected


@pytest.mark.one_engine
def test_ids_in_text_follow_the_patterns_only(sample, org):
    user = org.users[0]
    text = f"call {user.cloud_id} or see https://x/profiles?userid={user.cloud_id}&orgId={org.org_id} in {org.org_id}"
    assert rewriter(sample, org).text(text, Counter(), ("T", "C")) == (
        f"call {user.cloud_id} or see https://x/profiles?userid={user.target_id}&orgId={org.target_org_id} in {org.org_id}"
    )


@pytest.mark.one_engine
def test_rules_refuse_what_would_not_be_idempotent(sample, org, tmp_path):
    mapping = tmp_path / "users.csv"
    mapping.write_text("cloud_id,target_id,email\n111,222,a@x\n222,333,b@x\n")
    with pytest.raises(OffboardError, match="222 is a cloud id and a target id"):
        read_user_mapping(mapping)
    looping = rules_text(sample, org).replace(f'"{MSP_HOST}"', '"apps.ce.collabserv.com"')
    with pytest.raises(OffboardError, match="apps.ce.collabserv.com is mapped from and to"):
        parse_rules(looping, "rules.yaml")
    no_group = rules_text(sample, org).replace("(?P<id>\\d+)", "\\d+")
    with pytest.raises(OffboardError, match=re.escape("has no group (?P<id>...)")):
        parse_rules(no_group, "rules.yaml")


def test_a_mapping_without_its_header_is_refused(tmp_path):
    mapping = tmp_path / "users.csv"
    mapping.write_text("111,222,a@x\n")
    with pytest.raises(OffboardError, match="expected the header cloud_id,target_id,email"):
        read_user_mapping(mapping)


@pytest.mark.one_engine
def test_the_project_template_renders_into_rules(project, sample, org):
    rules = render_rules(project, cloud_hosts=sample.cloud_hosts, msp_host=MSP_HOST, cloud_org_id=org.org_id,
                         target_org_id=org.target_org_id, user_mapping=sample.user_mapping(org.org_id))
    assert rules.hosts == {host: MSP_HOST for host in sample.cloud_hosts}
    assert (rules.org.cloud, rules.org.target) == (org.org_id, org.target_org_id)


BAD_MAPPINGS = {
    "binary": (bytes(range(256)) * 4, r" line 2: not UTF-8 text at byte offset 128$"),
    "latin-1": ("cloud_id,target_id,email\n111,222,müller@x\n".encode("latin-1"), r" line 2: not UTF-8 text at byte offset 34$"),
    "over the csv limit": (b"cloud_id,target_id,email\n111,222," + b"x" * 200_000 + b"\n",
                           r" line 2: not a CSV file \(field larger than field limit \(131072\)\)$"),
    "long id": (b"cloud_id,target_id,email\n" + b"1" * 1025 + b",222,a@x\n", r" line 2: a field longer than 1024 characters$"),
    "nul in an id": (b"cloud_id,target_id,email\n111,222,a@x\n\x00333,444,b@x\n", r" line 3: a control character in an id or address$"),
    "newline in an id": (b'cloud_id,target_id,email\n"1\n11",222,a@x\n', r" line 3: a control character in an id or address$"),
    "a fourth field": (b"cloud_id,target_id,email\n111,222,a@x,oops\n", r" line 2: expected 3 fields \(cloud_id,target_id,email\), found 4$"),
    "other columns": (b"email,cloud_id,target_id\na@x,111,222\n", r": expected the header cloud_id,target_id,email$"),
}


@pytest.mark.parametrize("kind", sorted(BAD_MAPPINGS))
def test_a_mapping_that_is_not_a_sane_csv_is_refused_naming_file_and_line(tmp_path, kind):
    data, refusal = BAD_MAPPINGS[kind]
    mapping = tmp_path / "users.csv"
    mapping.write_bytes(data)
    with pytest.raises(OffboardError, match=f"^the user mapping {re.escape(str(mapping))}{refusal}"):
        read_user_mapping(mapping)


def test_a_header_alone_is_an_empty_mapping_and_garbage_never_is(tmp_path):
    mapping = tmp_path / "users.csv"
    mapping.write_bytes("\ufeffcloud_id,target_id,email\r\n".encode())
    assert read_user_mapping(mapping) == {}
    for garbage in (b"", b"\0" * 64, b"cloud_id,target_id,email" + b"\0" * 64):
        mapping.write_bytes(garbage)
        with pytest.raises(OffboardError, match="expected the header cloud_id,target_id,email"):
            read_user_mapping(mapping)


@pytest.mark.one_engine
def test_db_fixup_refuses_a_bad_mapping_in_one_line_and_changes_nothing(project, sample, org):
    imported(sample, org)
    write_stack(project, "acme", sample, org.org_id)
    mapping = sample.user_mapping(org.org_id)
    mapping.write_bytes(bytes(range(256)) * 4)
    before = snapshot(sample, "staging")
    result = run_cli(project, "db", "fixup", "acme", "--target", "staging")
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    assert result.stderr.splitlines() == [f"offboard: the user mapping {mapping} line 2: not UTF-8 text at byte offset 128"]
    assert snapshot(sample, "staging") == before


def test_a_value_the_fixup_would_make_too_long_for_its_column_is_refused_before_anything_changes(sample, org):
    """The MSP's host is longer than the cloud's: a URL already near its VARCHAR(2048) would overflow,
    which SQLite would store and DB2 refuse. No table changes, on every engine: not the ones
    before it in the load order either (a fix-up stopped halfway would leave ids no longer the mapping's)."""
    imported(sample, org)
    near_full = f"https://{sample.cloud_hosts[0]}/" + "x" * (2048 - len(f"https://{sample.cloud_hosts[0]}/"))
    execute(sample, "staging", "DOGEAR", 'UPDATE "LINK" SET "URL" = :url WHERE "LINK_ID" = (SELECT MIN("LINK_ID") FROM "LINK")', url=near_full)
    [(key,)] = query(sample, "staging", "DOGEAR", 'SELECT "LINK_ID" FROM "LINK" WHERE "URL" = :url', url=near_full)
    before = snapshot(sample, "staging")
    grown = 2048 + len(MSP_HOST) - len(sample.cloud_hosts[0])

    with pytest.raises(OffboardError) as caught:
        fixup(sample, org)

    assert str(caught.value) == (f"DOGEAR.LINK: after the fix-up, URL of the row with key {key} holds {grown} bytes, more than its "
                                 "VARCHAR(2048) can; nothing was changed: shorten the MSP host name or the mapped ids the rules "
                                 "write, or widen the column")
    assert snapshot(sample, "staging") == before


@pytest.mark.one_engine
def test_the_wsadmin_route_leaves_user_id_columns_to_the_product_and_lists_them(sample, org):
    imported(sample, org)

    report = fixup(sample, org, route="wsadmin")

    assert {value for _, value in reference_values(sample, org, "users")} <= {user.cloud_id for user in org.users}
    mapped = {user.cloud_id for user in org.users[:-1] if not user.home_org}
    assert set(report.unmapped_ids) == mapped | {org.users[-1].cloud_id}  # still in place until the product's sync has run
    links = reference_values(sample, org, "links")
    assert not any("collabserv.com" in value for _, value in links)
    assert not any(f"userid={cloud}" in value for cloud in mapped for _, value in links)  # ids in text are the fix-up's
