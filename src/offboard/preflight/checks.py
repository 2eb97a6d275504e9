"""Each check of the preflight: it looks at one kind of thing the stack file names, counts what it
looked at and adds one finding per problem, with the severity its caller gives. Only reads: a
connection is opened and closed, a folder's permissions asked, the bucket listed (one key at most).
The databases', the backends' and S3's code load inside the checks that need them."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

from offboard.customer import (
    ENV_REFERENCE,
    SIDES,
    Customer,
    content_roots,
    database_urls,
)
from offboard.errors import NotProvisioned, OffboardError, first_line
from offboard.preflight.model import BLOCKS, WARNS, Report, Severity
from offboard.project import Project

SOURCE, TARGETS = "source", ("staging", "production")
CONNECT_TIMEOUT = 10  # seconds, where the driver takes it from the URL
TIMEOUT_PARAMETER = {"postgresql": "connect_timeout"}  # ibm_db_sa passes no such option: DB2 keeps its driver's own
SHOWN = 3  # names a line lists before it counts the rest


def listed(names: Iterable[str]) -> str:
    names = list(names)
    more = f" and {len(names) - SHOWN} more" if len(names) > SHOWN else ""
    return ", ".join(names[:SHOWN]) + more


def configured(customer: Customer) -> dict[str, object]:
    """The sides the stack file gives, source first."""
    return {name: getattr(customer, name) for name in SIDES if getattr(customer, name) is not None}


def unset_variables(report: Report, customer: Customer, severity: Severity) -> set[str]:
    """Every `${VARIABLE}` of every database URL must be set here; its value is never shown. The unset ones."""
    places: dict[str, list[str]] = {}
    for name, side in configured(customer).items():
        for database, url in side.databases.items():
            for variable in dict.fromkeys(ENV_REFERENCE.findall(url)):
                places.setdefault(variable, []).append(f"{name} {database}")
    report.passed(len(places))
    unset = {variable for variable in places if variable not in os.environ}
    for variable in sorted(unset):
        report.add(severity, "variable", f"${{{variable}}}", f"not set, and the URLs of {listed(places[variable])} need it: "
                                                            "set it in the environment offboard runs in")
    return unset


def missing_targets(report: Report, customer: Customer, severity: Severity) -> None:
    """Staging and production must be given; the source may be absent: IBM's side then runs the exports."""
    for name in TARGETS:
        report.passed()
        side = getattr(customer, name)
        if side is None or not side.databases:
            report.add(severity, "side", f"offboard:{name}", "no databases given: add its databases and contentStores, "
                                                            "the imports need them")


def store_roots(report: Report, project: Project, customer: Customer, severity: Callable[[str], Severity]) -> None:
    """Every content store root is a folder this user can read; a target's can be written too (imports write there)."""
    for name, side in configured(customer).items():
        for store, root in content_roots(side.content_stores, project.root).items():
            report.passed()
            problem = root_problem(root, writable=name != SOURCE)
            if problem:
                report.add(severity(name), "store", f"offboard:{name}.contentStores.{store}", f"{project.shown(root)} {problem}")


def root_problem(root: Path, writable: bool) -> str | None:
    if not root.exists():
        return "does not exist: create it, or correct the folder in the stack file"
    if not root.is_dir():
        return "is not a folder: give the store's folder in the stack file"
    if not os.access(root, os.R_OK | os.X_OK):
        return "cannot be read by this user: give it read access"
    if writable and not can_write(root):
        return "cannot be written by this user: the imports write there, give it write access"
    return None


def can_write(folder: Path) -> bool:
    return os.access(folder, os.W_OK | os.X_OK)


def user_mapping(report: Report, project: Project, customer: Customer, *, absent: Severity, bad: Severity) -> dict[str, str] | None:
    """The fix-up's user mapping, read as `db fixup` reads it; None when it is not given or not sane."""
    from offboard.fixup.mapping import read_user_mapping

    report.passed()
    if customer.fixup is None:
        report.add(absent, "mapping", "offboard:fixup", "not given: the delta's fix-up needs cloudHosts, mspHost and userMapping")
        return None
    try:
        return read_user_mapping(project.root / customer.fixup.user_mapping)
    except OffboardError as error:
        report.add(bad, "mapping", "offboard:fixup.userMapping", f"{error}: correct the file the directory sync wrote")
        return None


def reachable_sides(report: Report, project: Project, customer: Customer, unset: set[str], severity: Severity) -> dict[str, dict[str, str]]:
    """Connect to every database of every side (once per URL); the filled-in URLs of each side
    whose every database answered. A side that fails is one line, not one per database."""
    reached = {}
    for name, side in configured(customer).items():
        usable = {database: url for database, url in side.databases.items() if not set(ENV_REFERENCE.findall(url)) & unset}
        filled = database_urls(usable, project.root)
        failed: dict[str, str] = {}
        for url in dict.fromkeys(filled.values()):
            report.passed()
            problem = connect_problem(url)
            if problem:
                failed.update({database: problem for database, other in filled.items() if other == url})
        if failed:
            first = next(iter(failed.values()))
            count = f"{len(failed)} databases cannot connect, the first: " if len(failed) > 1 else ""
            report.add(severity, "database", f"offboard:{name}.databases {listed(failed)}",
                       f"{count}{first}: check the URL, the server and the network")
        elif side.databases and len(usable) == len(side.databases):
            reached[name] = filled
    return reached


def connect_problem(url: str) -> str | None:
    """Why a database cannot be connected to, through the stages' own engines (messages masked); None if it answers."""
    from offboard.db.connect import database_errors, open_engine

    try:
        engine = open_engine(with_timeout(url))
        try:
            with database_errors(engine, "connecting"), engine.connect():
                pass
        finally:
            engine.dispose()
    except OffboardError as error:
        return str(error)
    return None


def with_timeout(url: str) -> str:
    """The URL with a short connect timeout, where its driver takes one and the URL sets none."""
    import sqlalchemy as sa

    parsed = sa.make_url(url)
    parameter = TIMEOUT_PARAMETER.get(parsed.get_backend_name())
    if parameter is None or parameter in parsed.query:
        return url
    return parsed.update_query_dict({parameter: str(CONNECT_TIMEOUT)}).render_as_string(hide_password=False)


def coverage(report: Report, project: Project, customer: Customer, source: Mapping[str, str], mapping: Mapping[str, str]) -> None:
    """How many of the org's people (the source's person tables, guests left out) the mapping lacks:
    a warning, as the fix-up lists them and a person accepts them (`offboard db accept-unmapped`)."""
    report.passed()
    where = "offboard:fixup.userMapping"
    try:
        people = org_people(project, source, customer.org_id)
    except OffboardError as error:
        report.add(WARNS, "coverage", where, f"coverage not counted: {error}")
        return
    unmapped = sorted(people - set(mapping))
    if unmapped:
        report.add(WARNS, "coverage", where, f"{len(unmapped)} of the org's {len(people)} people {'has' if len(unmapped) == 1 else 'have'} no mapping ({listed(unmapped)}): "
                                             "add them, or accept them after the fix-up with `offboard db accept-unmapped`")


def org_people(project: Project, urls: Mapping[str, str], org_id: str) -> set[str]:
    """The user ids of the org's people in the source, as the fix-up tells them: the catalog's
    person tables' rows that describe a person, less the guests (a home org other than this one)."""
    from offboard.db.check.run import project_catalog
    from offboard.db.connect import database_errors, open_engine
    from offboard.db.scan import org_batches

    people: set[str] = set()
    guests: set[str] = set()  # a guest in any person table is one in all: never mapped into this org
    for spec in project_catalog(project).tables():
        person = spec.person
        if person is None or spec.database not in urls:
            continue
        columns = list(dict.fromkeys([person.id, *filter(None, [person.home_org]), *person.where]))
        engine = open_engine(urls[spec.database])
        try:
            with database_errors(engine, f"reading {spec.qualified}"), engine.connect() as connection:
                for batch in org_batches(connection, spec, org_id, columns):
                    for row in (dict(zip(columns, values)) for values in batch):
                        home = str(row[person.home_org] or "").strip() if person.home_org else ""
                        if row[person.id] and person.describes(row.__getitem__):
                            (people if home in ("", org_id) else guests).add(str(row[person.id]).strip())
        finally:
            engine.dispose()
    return people - guests


def backend_and_key(report: Report, project: Project, customer: Customer, backend: str, *, unreachable: Severity,
                    not_provisioned: Severity) -> None:
    """The backend answers (the embedded endpoint runs, the Pulumi CLI is installed), the stack is
    provisioned on it, and the customer's key lists its bucket."""
    from offboard.infra import stacks

    report.passed()
    try:
        outputs = stacks.outputs(project, customer, backend)
    except NotProvisioned as error:
        report.add(not_provisioned, "backend", f"backend {backend}", str(error))
        return
    except OffboardError as error:
        report.add(unreachable, "backend", f"backend {backend}", str(error))
        return
    report.passed()
    problem = key_problem(outputs)
    if problem:
        report.add(BLOCKS, "key", f"bucket {outputs.bucket}", f"the customer's key does not open it ({problem}): the key or the bucket changed "
                                                              f"outside offboard; `offboard stack preview {customer.stack}` shows what `stack up` restores")


def key_problem(outputs) -> str | None:
    """Why the customer's key cannot list its bucket (one short try); None if it can."""
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError, ClientError

    from offboard.transfer.session import customer_session

    probe = Config(retries={"max_attempts": 2, "mode": "standard"}, connect_timeout=CONNECT_TIMEOUT, read_timeout=CONNECT_TIMEOUT)
    s3 = customer_session(outputs).client("s3", endpoint_url=outputs.endpoint_url, config=probe)
    try:
        s3.list_objects_v2(Bucket=outputs.bucket, MaxKeys=1)
    except (ClientError, BotoCoreError) as error:
        return first_line(error)
    return None


def catalog_blocks(report: Report, project: Project, customer: Customer) -> None:
    """The catalog check's blocking findings, each one line; its notes, and what it could not reach
    (the checks above say why), are left to `offboard catalog check`."""
    from offboard.db.check import check_customer

    report.passed()
    try:
        result = check_customer(project, customer, unreachable_is_note=True)
    except OffboardError as error:
        report.add(BLOCKS, "catalog", "runbooks/catalog", str(error))
        return
    for finding in result.blocks:
        where = " ".join(filter(None, ["catalog", finding.side, finding.database, ".".join(filter(None, [finding.table, finding.column]))]))
        report.add(BLOCKS, "catalog", where, f"{finding.message} (`offboard catalog check {customer.stack}` says more)")
