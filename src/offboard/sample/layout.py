"""What a sample is and where it lies: its sides and engines, its orgs and their people, and
the place of every database, content store and user mapping (sample.json keeps it)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from offboard.customer import database_urls
from offboard.errors import OffboardError

LAYOUT_FILE = "sample.json"
CLOUD_HOSTS = ["apps.na.collabserv.com", "apps.ce.collabserv.com"]
TARGETS = ("staging", "production")
SIDES = ("source", *TARGETS)
ENGINES = ("sqlite", "postgresql")
SAMPLE_RELEASE = "8.0.0.0"  # every database's schema release, the same on every side
CLUSTER_FOLDER = "postgres"  # a sample's own PostgreSQL cluster, when no server was given


@dataclass(frozen=True)
class User:
    cloud_id: str
    target_id: str
    name: str
    email: str
    home_org: str | None = None  # a guest's own org (another sample org's id, or a made-up one)


@dataclass(frozen=True)
class OrgSample:
    org_id: str
    target_org_id: str  # the id the MSP gives the org
    users: list[User]
    guests: list[str] = field(default_factory=list)  # cloud ids of the users who are guests from another org


@dataclass(frozen=True)
class SampleLayout:
    """Where everything of a sample lies. Saved as sample.json with paths relative to `root`,
    so a sample folder can be copied or moved.

    `server`: the PostgreSQL server's URL as given (a password as `${VARIABLE}`), None on
    SQLite; the sample's databases there are named `<prefix>_<side>`."""

    root: Path
    cloud_hosts: list[str]
    orgs: list[OrgSample]
    databases: list[str]
    stores: list[str]
    server: str | None = None
    prefix: str | None = None

    @property
    def engine(self) -> str:
        return ENGINES[1] if self.server else ENGINES[0]

    @property
    def catalog(self) -> Path:
        """The catalog the sample was made from (a copy, so the sample stands on its own)."""
        return self.root / "catalog.yaml"

    @property
    def sources(self) -> dict[str, str]:
        """Connections database -> URL of the multi-tenant source."""
        return self.urls("source")

    @property
    def targets(self) -> dict[str, dict[str, str]]:
        """staging|production -> Connections database -> URL (created empty)."""
        return {target: self.urls(target) for target in TARGETS}

    def urls(self, side: str) -> dict[str, str]:
        """Connections database -> URL of one side, as a stack file holds them."""
        if self.server:
            return dict.fromkeys(self.databases, self.server_database(f"{self.prefix}_{side}"))
        return {name: f"sqlite:///{self.root / side / f'{name}.db'}" for name in self.databases}

    def server_database(self, name: str) -> str:
        """The server's URL with another database: its text kept as written, `${VARIABLE}` too."""
        parts = urlsplit(self.server)
        return urlunsplit(parts._replace(path=f"/{name}"))

    def filled(self, url: str) -> str:
        """A URL of the sample with its `${VARIABLE}` filled in, to open."""
        return database_urls({"": url}, self.root)[""]

    @property
    def content_stores(self) -> dict[str, Path]:
        """Content store -> its folder, where all orgs' binaries lie side by side."""
        return {store: self.root / "content" / store for store in self.stores}

    @property
    def org_ids(self) -> list[str]:
        return [org.org_id for org in self.orgs]

    def user_mapping(self, org_id: str) -> Path:
        """The org's cloud_id,target_id,email CSV; its last user is missing on purpose."""
        return self.root / "mappings" / f"users-{self.org(org_id).org_id}.csv"

    def org(self, org_id: str) -> OrgSample:
        for org in self.orgs:
            if org.org_id == org_id:
                return org
        raise OffboardError(f"the sample in {self.root} has no org {org_id} (orgs: {', '.join(self.org_ids)})")

    def save(self) -> None:
        document = {key: value for key, value in asdict(self).items() if key != "root"}
        (self.root / LAYOUT_FILE).write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, directory: Path) -> SampleLayout:
        root = Path(directory).resolve()
        if not (root / LAYOUT_FILE).is_file():
            raise OffboardError(f"{root} holds no sample ({LAYOUT_FILE} missing): run `offboard sample create` first")
        raw = json.loads((root / LAYOUT_FILE).read_text(encoding="utf-8"))
        orgs = [OrgSample(o["org_id"], o["target_org_id"], [User(**u) for u in o["users"]], o.get("guests", [])) for o in raw["orgs"]]
        return cls(root, raw["cloud_hosts"], orgs, raw["databases"], raw["stores"], raw.get("server"), raw.get("prefix"))
