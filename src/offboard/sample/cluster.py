"""A throwaway PostgreSQL cluster in a folder of its own: for `sample create --engine postgresql`,
`demo --engine postgresql`, the tests and the benchmarks.

initdb and pg_ctl come from the distribution's packages (`/usr/lib/postgresql/<version>/bin`, or
the folder `OFFBOARD_PG_BIN` names). The server listens on a Unix socket only, inside the
cluster's folder (mode 0700), and trusts whoever reaches that socket: the folder's owner alone.
Durability is off (fsync): a sample is made again in seconds. The settings are written into the
cluster's postgresql.conf, since pg_ctl hands its `-o` options to a shell unquoted; it quotes the
data folder and the log in double quotes there, so a folder a shell would expand is refused.

PostgreSQL refuses to run as root. As root the server runs as the user `postgres`, with one
capability kept, reading and searching folders, so that it reaches its folder wherever that lies
(a home folder or pytest's temporary folders are 0700 and root's).
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from offboard.errors import OffboardError

USER = "offboard"  # the cluster's superuser, as the URLs name it
SERVER_USER = "postgres"  # who runs the server when we are root
_SOCKET_FILE = ".s.PGSQL.5432"
_SOCKET_PATH_MAX = 107  # bytes of sun_path, less its terminating zero
_EXPANDED_IN_DOUBLE_QUOTES = set('"$`\\\n')
_SETTINGS = {"listen_addresses": "", "fsync": "off", "synchronous_commit": "off", "full_page_writes": "off",
             "max_connections": "200"}


@dataclass(frozen=True)
class Cluster:
    folder: Path

    @property
    def data(self) -> Path:
        return self.folder / "data"

    @property
    def log(self) -> Path:
        return self.folder / "server.log"

    @property
    def url(self) -> str:
        """The server's URL, on its maintenance database `postgres`."""
        return f"postgresql+psycopg://{USER}@/postgres?host={quote(str(self.folder), safe='/')}"  # a folder may hold & or +

    @property
    def running(self) -> bool:
        return self.data.is_dir() and _pg_ctl(self, "status", check=False).returncode == 0


def start_cluster(folder: Path) -> Cluster:
    """Start the cluster in `folder`, made first if absent; a running one is left as it is."""
    cluster = Cluster(Path(folder).resolve())
    if _EXPANDED_IN_DOUBLE_QUOTES & set(str(cluster.folder)):
        raise OffboardError(f"'{cluster.folder}' holds a character a shell expands (\" $ ` \\ or a line break), "
                            "and pg_ctl hands the folder to a shell: choose another folder, or pass --server")
    if len(os.fsencode(cluster.folder / _SOCKET_FILE)) > _SOCKET_PATH_MAX:
        raise OffboardError(f"{cluster.folder} is too deep for a PostgreSQL socket ({_SOCKET_PATH_MAX} bytes at most): "
                            "choose a shorter folder, or pass --server")
    if cluster.running:
        return cluster
    if not cluster.data.is_dir():
        cluster.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        _own(cluster.folder)
        _run(cluster, [str(_binary("initdb")), "-D", str(cluster.data), "-U", USER, "--auth=trust",
                       "--encoding=UTF8", "--locale=C.UTF-8"])
        settings = {**_SETTINGS, "unix_socket_directories": str(cluster.folder)}
        with open(cluster.data / "postgresql.conf", "a", encoding="utf-8") as conf:
            conf.writelines(f"{name} = '{_conf_quoted(value)}'\n" for name, value in settings.items())
    _pg_ctl(cluster, "start", "-w", "-t", "60", "-l", str(cluster.log))
    return cluster


def _conf_quoted(value: str) -> str:
    return value.replace("\\", "\\\\").replace("'", "''")


def stop_cluster(folder: Path) -> bool:
    """Stop the cluster in `folder`; False when none was running there."""
    cluster = Cluster(Path(folder).resolve())
    if not cluster.running:
        return False
    _pg_ctl(cluster, "stop", "-w", "-m", "fast")
    return True


def remove_cluster(folder: Path) -> None:
    """Stop the cluster in `folder`, if one runs, and remove the folder."""
    stop_cluster(folder)
    shutil.rmtree(folder, ignore_errors=True)


def _pg_ctl(cluster: Cluster, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    return _run(cluster, [str(_binary("pg_ctl")), "-D", str(cluster.data), *args], check=check)


def _run(cluster: Cluster, command: list[str], check: bool = True) -> subprocess.CompletedProcess:
    done = subprocess.run(_as_server_user(command), capture_output=True, text=True, stdin=subprocess.DEVNULL)
    if check and done.returncode != 0:
        said = (done.stderr.strip() or done.stdout.strip()).splitlines()
        if Path(command[0]).name == "pg_ctl" and cluster.log.is_file():  # it says only "examine the log output"
            said = cluster.log.read_text(encoding="utf-8", errors="replace").strip().splitlines() or said
        raise OffboardError(f"{Path(command[0]).name} failed for the cluster in {cluster.folder}: "
                            f"{said[-1] if said else f'exit {done.returncode}'}")
    return done


def _binary(name: str) -> Path:
    """`name` from OFFBOARD_PG_BIN, else from the newest /usr/lib/postgresql/<version>/bin, else PATH."""
    folders = [Path(os.environ["OFFBOARD_PG_BIN"])] if os.environ.get("OFFBOARD_PG_BIN") else sorted(
        Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0, reverse=True)
    for folder in folders:
        if (folder / name).is_file():
            return folder / name
    found = shutil.which(name)
    if found:
        return Path(found)
    raise OffboardError(f"PostgreSQL's {name} is not installed: install the distribution's package "
                        "(Debian: apt-get install postgresql), set OFFBOARD_PG_BIN, or pass --server")


def _server_user() -> pwd.struct_passwd:
    try:
        return pwd.getpwnam(SERVER_USER)
    except KeyError:
        raise OffboardError(f"as root, the PostgreSQL server runs as the user {SERVER_USER}, which does not exist: "
                            "run as another user, or pass --server") from None


def _own(folder: Path) -> None:
    if os.geteuid() == 0:
        user = _server_user()
        os.chown(folder, user.pw_uid, user.pw_gid)


def _as_server_user(command: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return command
    _server_user()
    return ["setpriv", f"--reuid={SERVER_USER}", f"--regid={SERVER_USER}", "--init-groups",
            "--inh-caps=+dac_read_search", "--ambient-caps=+dac_read_search", *command]
