"""N app instances behind nginx, all serving one frontend build: `make cluster`, tests, benches.

    cluster = Cluster(tmp / "cluster", instances=2, database_url=PG_URL, redis_url=REDIS_URL)
    with cluster:                       # build once, start the instances, then nginx
        httpx.get(f"{cluster.url}/health")
        page.goto(cluster.launch_url("alice"))
        cluster.kill(1)                 # SIGKILL instance 1 (0-based), as a crash would
        cluster.start_instance(1)       # and start it again on its port
    # stopped: nginx first, then the instances

Every instance is an `AppServer` (a process group, its own log and Reflex states folder)
whose process is the project's instance script (this app's scripts/run_instance.py:
`reflex run --env prod --backend-only` that serves
the build made once beforehand by `reflex export --frontend-only --no-zip` (into the
cluster's own web folder, so a test never rebuilds the checkout's .web under a running app)).
The build bakes in the address the browser's socket goes to (PUBLIC_URL): nginx's. nginx's
config is the project's template (this app's deploy/nginx.conf.template), see `Project`.

`python -m miniapp_testing.cluster` is what `make cluster` runs (scripts/cluster.sh).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from urllib.parse import urlencode

import httpx

from miniapp_testing.ports import free_port, port_busy
from miniapp_testing.project import Project
from miniapp_testing.server import BUILD_TIMEOUT_S, TEST_BOT_TOKEN, AppDidNotStart, AppServer

DEBUG_HEADER = "add_header X-Upstream $upstream_addr always;"


class NginxUnavailable(RuntimeError):
    pass


def ensure_nginx(project: Project | None = None) -> str:
    """nginx's path: the project's script's answer (this app's installs Debian's package
    first when nginx is missing and it can), or NGINX_PATH, PATH and /usr/sbin without one."""
    project = project or Project()
    script = project.path(project.ensure_nginx)
    if not script.exists():
        found = os.environ.get("NGINX_PATH") or shutil.which("nginx") or "/usr/sbin/nginx"
        if not os.access(found, os.X_OK):
            raise NginxUnavailable(f"nginx is not installed (no {found}; set NGINX_PATH)")
        return found
    done = subprocess.run(
        ["bash", str(script)], capture_output=True, text=True, check=False, timeout=900
    )
    path = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""
    if done.returncode != 0 or not path:
        raise NginxUnavailable(done.stderr.strip() or "nginx is not installed")
    return path


def default_workers(instances: int) -> int:
    """Granian workers per instance: the cores shared out (Reflex's own default with Redis
    is 2 x cores + 1 per instance, which N instances on one machine multiply)."""
    return max(1, (os.cpu_count() or 1) // max(1, instances))


def render_nginx_conf(
    *,
    prefix: Path,
    listen: str,
    upstream_ports: list[int],
    workers: str = "auto",
    debug: bool = False,
    fail_timeout_s: int = 5,
    template: Path,
) -> str:
    """The project's nginx template with its @NAME@ placeholders filled in."""
    upstreams = "\n        ".join(
        f"server 127.0.0.1:{port} max_fails=1 fail_timeout={fail_timeout_s}s;"
        for port in upstream_ports
    )
    values = {
        "PREFIX": str(prefix),
        "LISTEN": listen,
        "WORKERS": workers,
        "UPSTREAMS": upstreams,
        "DEBUG": DEBUG_HEADER if debug else "",
    }
    lines = []
    for line in template.read_text().splitlines():
        # Comments keep their placeholders: they document them.
        if not line.lstrip().startswith("#"):
            for name, value in values.items():
                line = line.replace(f"@{name}@", value)
            left = re.findall(r"@[A-Z]+@", line)
            if left:
                raise ValueError(f"{template}: no value for {left} in {line.strip()!r}")
        lines.append(line)
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class AccessRecord:
    """One line of nginx's access log (format `upstream` in the template)."""

    status: int
    method: str
    uri: str
    # Every instance tried, in order: the last one answered.
    upstreams: tuple[str, ...]
    token: str

    @property
    def upstream(self) -> str:
        return self.upstreams[-1] if self.upstreams else ""


_ACCESS = re.compile(
    r"^\S+ (?P<status>\d+) (?P<method>\S+) (?P<uri>\S+) upstream=(?P<upstreams>.*?) "
    r"upstream_status=.* token=(?P<token>\S*)$"
)


def parse_access_log(text: str) -> list[AccessRecord]:
    records = []
    for line in text.splitlines():
        match = _ACCESS.match(line)
        if match is None:
            continue
        upstreams = tuple(
            part.strip()
            for part in re.split(r"[,:]\s", match["upstreams"])
            if part.strip() and part.strip() != "-"
        )
        records.append(
            AccessRecord(
                status=int(match["status"]),
                method=match["method"],
                uri=match["uri"],
                upstreams=upstreams,
                token="" if match["token"] == "-" else match["token"],
            )
        )
    return records


@dataclass
class Nginx:
    """nginx in the foreground (`daemon off`), every file under `prefix`: a child process
    like the app's, not the system service, so nothing blocks a second run."""

    prefix: Path
    port: int
    upstream_ports: list[int]
    host: str = "127.0.0.1"
    workers: str = "1"
    debug: bool = False
    binary: str = ""
    project: Project = field(default_factory=Project)
    _proc: subprocess.Popen[bytes] | None = None

    @property
    def conf(self) -> Path:
        return self.prefix / "nginx.conf"

    @property
    def access_log(self) -> Path:
        return self.prefix / "access.log"

    @property
    def error_log(self) -> Path:
        return self.prefix / "error.log"

    def write_conf(self) -> Path:
        for sub in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
            (self.prefix / "tmp" / sub).mkdir(parents=True, exist_ok=True)
        listen = f"{self.host}:{self.port}" if self.host not in ("", "0.0.0.0") else str(self.port)
        self.conf.write_text(
            render_nginx_conf(
                prefix=self.prefix,
                listen=listen,
                upstream_ports=self.upstream_ports,
                workers=self.workers,
                debug=self.debug,
                template=self.project.path(self.project.nginx_template),
            )
        )
        return self.conf

    def _args(self) -> list[str]:
        binary = self.binary or ensure_nginx(self.project)
        return [binary, "-p", str(self.prefix), "-c", str(self.conf), "-e", str(self.error_log)]

    def start(self, timeout_s: float = 30) -> Nginx:
        self.write_conf()
        check = subprocess.run(
            [*self._args(), "-t", "-q"], capture_output=True, text=True, check=False
        )
        if check.returncode != 0:
            raise AppDidNotStart(f"nginx -t refused {self.conf}:\n{check.stderr}")
        if port_busy(self.port):
            raise AppDidNotStart(
                f"port {self.port} is already in use; nginx cannot listen on it (a cluster "
                f"left running? its nginx's pid would be in {self.prefix / 'nginx.pid'})"
            )
        with (self.prefix / "nginx.out").open("ab") as out:
            self._proc = subprocess.Popen(
                self._args(), stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        deadline = time.monotonic() + timeout_s
        while not port_busy(self.port):
            if self._proc.poll() is not None:
                raise AppDidNotStart(f"nginx exited with {self._proc.returncode}:\n{self.tail()}")
            if time.monotonic() > deadline:
                raise AppDidNotStart(f"nginx did not listen on {self.port} in {timeout_s} s")
            time.sleep(0.05)
        return self

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        try:
            os.killpg(proc.pid, signal.SIGTERM)  # fast shutdown: closes every connection
            proc.wait(timeout=10)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def tail(self, chars: int = 3000) -> str:
        if not self.error_log.exists():
            return ""
        return self.error_log.read_text(errors="replace")[-chars:]

    def access_records(self) -> list[AccessRecord]:
        if not self.access_log.exists():
            return []
        return parse_access_log(self.access_log.read_text(errors="replace"))


@dataclass
class ClusterInstance(AppServer):
    """One instance: an AppServer whose process serves the cluster's build (no build)."""

    web_dir: Path | None = None
    public_url: str = ""
    workers: int = 1
    # True (tests): the kit's bot token, as AppServer passes it (Project.identity_env).
    # False (make cluster): those variables as the caller has them (this app: APP_ENV,
    # BOT_TOKEN and DEV_TOKEN_FILE), so every instance shares data/dev-bot-token with
    # `make run`, or a real BOT_TOKEN.
    kit_identity: bool = True

    def command(self) -> list[str]:
        script = self.project.path(self.project.instance_script)
        return [sys.executable, str(script), str(self.port)]

    def env(self) -> dict[str, str]:
        env = super().env()
        if not self.kit_identity:
            for name in self.project.identity_names():
                if name in self.extra_env:
                    continue
                if name in os.environ:
                    env[name] = os.environ[name]
                else:
                    env.pop(name, None)
        if self.web_dir is not None:
            env["REFLEX_WEB_WORKDIR"] = str(self.web_dir)
        if self.public_url:
            env[self.project.public_url_env] = self.public_url
        if "GRANIAN_WORKERS" not in self.extra_env:
            env["GRANIAN_WORKERS"] = str(self.workers)
        return env


@dataclass
class Cluster:
    """`instances` app processes on one database and one Redis, behind nginx on `port`."""

    workdir: Path
    instances: int = 2
    port: int = field(default_factory=free_port)
    # Defaults: free ports (tests); make cluster passes PORT+1 ... PORT+N.
    instance_ports: list[int] = field(default_factory=list)
    database_url: str = ""
    redis_url: str = ""
    # Granian workers per instance; 0: the cores shared out (default_workers).
    workers: int = 0
    host: str = "127.0.0.1"
    # Where the one build goes; default: a folder of the cluster's own.
    web_dir: Path | None = None
    # What the browser reaches (baked into the build); default http://localhost:PORT.
    public_url: str = ""
    bot_token: str = TEST_BOT_TOKEN
    kit_identity: bool = True
    # X-Upstream (the instance that answered) on every response, for tests.
    debug_upstream: bool = True
    nginx_workers: str = "1"
    extra_env: dict[str, str] = field(default_factory=dict)
    project: Project = field(default_factory=Project)
    servers: list[ClusterInstance] = field(init=False)
    nginx: Nginx = field(init=False)

    def __post_init__(self) -> None:
        if not self.redis_url:
            raise ValueError(
                "a cluster needs REDIS_URL: tab state, the cache and the updates that cross "
                "instances live in Redis (one instance alone can do without)"
            )
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.database_url = self.database_url or f"sqlite:///{self.workdir / 'app.db'}"
        self.web_dir = self.web_dir or self.workdir / "web"
        self.public_url = self.public_url or f"http://localhost:{self.port}"
        self.workers = self.workers or default_workers(self.instances)
        ports = self.instance_ports or [free_port() for _ in range(self.instances)]
        if len(ports) != self.instances or len(set(ports)) != self.instances:
            raise ValueError(f"{self.instances} instances need as many ports, got {ports}")
        self.instance_ports = ports
        self.servers = [
            ClusterInstance(
                self.workdir / f"instance-{i + 1}",
                port=port,
                database_url=self.database_url,
                redis_url=self.redis_url,
                bot_token=self.bot_token,
                extra_env=dict(self.extra_env),
                project=self.project,
                web_dir=self.web_dir,
                public_url=self.public_url,
                workers=self.workers,
                kit_identity=self.kit_identity,
            )
            for i, port in enumerate(ports)
        ]
        self.nginx = Nginx(
            self.workdir / "nginx",
            port=self.port,
            upstream_ports=ports,
            host=self.host,
            workers=self.nginx_workers,
            debug=self.debug_upstream,
            project=self.project,
        )

    # -- addresses ---------------------------------------------------------------------

    @property
    def url(self) -> str:
        """nginx, as the browser reaches it."""
        return f"http://localhost:{self.port}"

    def launch_url(self, user: str = "", **params: str) -> str:
        query = urlencode({"user": user or self.project.demo_user, **params})
        return f"{self.url}{self.project.dev_launch_path}?{query}"

    def upstream(self, index: int) -> str:
        """Instance `index` as nginx names it in $upstream_addr and X-Upstream."""
        return f"127.0.0.1:{self.servers[index].port}"

    def index_of(self, upstream: str) -> int:
        return [self.upstream(i) for i in range(self.instances)].index(upstream)

    @property
    def build_log(self) -> Path:
        return self.workdir / "build.log"

    # -- life cycle --------------------------------------------------------------------

    def build(self, timeout_s: float = BUILD_TIMEOUT_S) -> None:
        """The one frontend build every instance serves."""
        reflex = Path(sys.executable).parent / "reflex"
        args = [str(reflex), "export", "--frontend-only", "--no-zip", "--env", "prod"]
        with self.build_log.open("ab") as out:
            out.write(f"\n--- build: {' '.join(args)}\n".encode())
            out.flush()
            done = subprocess.run(
                args,
                cwd=self.project.root,
                env=self.servers[0].env(),
                stdout=out,
                stderr=subprocess.STDOUT,
                timeout=timeout_s,
                check=False,
            )
        if done.returncode != 0:
            tail = self.build_log.read_text(errors="replace")[-4000:]
            raise AppDidNotStart(f"the frontend build failed ({done.returncode}):\n{tail}")

    def start(self, *, build: bool = True, timeout_s: float = 180) -> Cluster:
        """Build (unless told not to), start every instance, then nginx in front."""
        self.nginx.binary = self.nginx.binary or ensure_nginx(self.project)
        try:
            if build:
                self.build()
            for server in self.servers:
                server.start(timeout_s=timeout_s)
            self.nginx.start()
            self.wait_ready(timeout_s=30)
        except BaseException:
            self.stop()
            raise
        return self

    def wait_ready(self, timeout_s: float = 30) -> None:
        """The project's health path through nginx answers 200."""
        health = f"{self.url}{self.project.health_path}"
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                if httpx.get(health, timeout=5).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise AppDidNotStart(f"{health} did not answer 200 in {timeout_s} s")
            time.sleep(0.1)

    def kill(self, index: int) -> None:
        """SIGKILL instance `index` (0-based): its sockets drop, nothing shuts down."""
        self.servers[index].kill()

    def start_instance(self, index: int, timeout_s: float = 180) -> None:
        self.servers[index].start(timeout_s=timeout_s)

    def stop(self) -> None:
        self.nginx.stop()
        for server in self.servers:
            server.stop()

    def __enter__(self) -> Cluster:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


# -- make cluster ----------------------------------------------------------------------


def _redis_problem(url: str) -> str | None:
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2).ping()
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


def main(argv: list[str] | None = None, project: Project | None = None) -> int:
    project = project or Project()
    parser = argparse.ArgumentParser(
        prog="python -m miniapp_testing.cluster",
        description="N app instances behind nginx (what `make cluster` runs). Reads "
        "DATABASE_URL, REDIS_URL and PUBLIC_URL like the app; Ctrl-C stops everything.",
    )
    parser.add_argument("--instances", type=int, default=int(os.environ.get("INSTANCES", 2)))
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", 3000)))
    parser.add_argument(
        "--workers",
        type=int,
        default=int(os.environ.get("GRANIAN_WORKERS") or os.environ.get("WORKERS") or 0),
        help="worker processes per instance (default: the cores shared out among them)",
    )
    parser.add_argument("--host", default="0.0.0.0", help="nginx listens here")
    parser.add_argument("--workdir", type=Path, default=project.path("data/cluster"))
    args = parser.parse_args(argv)
    if args.instances < 1:
        parser.error("--instances must be at least 1")

    redis_url = os.environ.get(project.redis_env) or "redis://127.0.0.1:6379/0"
    problem = _redis_problem(redis_url)
    if problem is not None:
        print(
            f"cluster: Redis is not reachable at {redis_url} ({problem}).\n"
            "  Several instances need one Redis: it holds each tab's Reflex state, the cache\n"
            "  and the updates that cross instances. Start it with `make services` (or\n"
            "  `redis-server --daemonize yes --port 6379 --save ''`), or set REDIS_URL.",
            file=sys.stderr,
        )
        return 1
    database_url = os.environ.get(project.database_env) or ""
    if not database_url:
        database_url = f"sqlite:///{project.path(project.database_file)}"
    cluster = Cluster(
        args.workdir,
        instances=args.instances,
        port=args.port,
        instance_ports=[args.port + i for i in range(1, args.instances + 1)],
        database_url=database_url,
        redis_url=redis_url,
        workers=args.workers,
        host=args.host,
        web_dir=Path(os.environ.get("REFLEX_WEB_WORKDIR", project.path(".web"))),
        public_url=os.environ.get(project.public_url_env, ""),
        bot_token="",
        kit_identity=False,
        debug_upstream=True,
        nginx_workers="auto",
        project=project,
    )

    def stop_on_term(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    # SIGTERM, and SIGHUP (the terminal closed): stop everything, as Ctrl-C does. The
    # instances and nginx run in sessions of their own and would outlive us otherwise.
    signal.signal(signal.SIGTERM, stop_on_term)
    signal.signal(signal.SIGHUP, stop_on_term)
    # Ctrl-C stops everything even when started from a script that ignores SIGINT.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    print(f"cluster: building the frontend once into {cluster.web_dir} ...", flush=True)
    try:
        cluster.start()
    except (AppDidNotStart, NginxUnavailable) as exc:
        print(f"cluster: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    print()
    for i, server in enumerate(cluster.servers):
        print(f"  instance {i + 1}: {server.url}  (workers: {cluster.workers}, log {server.log})")
    print(f"  nginx:      {cluster.url}  (logs in {cluster.nginx.prefix})")
    print(f"  database:   {database_url.split('@')[-1]}   redis: {redis_url}")
    print()
    print(f"  Open the app as demo member @{project.demo_user}:  {cluster.launch_url()}")
    print("  Ctrl-C stops nginx and every instance.")
    print(flush=True)
    reported: set[int] = set()
    try:
        while cluster.nginx.running:
            for i, server in enumerate(cluster.servers):
                if not server.running and i not in reported:
                    reported.add(i)
                    print(
                        f"cluster: instance {i + 1} ({server.url}) is gone; nginx sends its "
                        "members to the others. Its log: " + str(server.log),
                        flush=True,
                    )
            time.sleep(1)
        print(f"cluster: nginx exited:\n{cluster.nginx.tail()}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\ncluster: stopping ...", flush=True)
        return 0
    finally:
        cluster.stop()


if __name__ == "__main__":
    sys.exit(main())
