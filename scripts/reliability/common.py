"""Shared helpers for the reliability scripts: start and stop `ladder serve` processes
(by their own pid, never by name), fresh SQLite / PostgreSQL databases, logins, HTTP.

Everything talks to 127.0.0.1 only."""

import atexit
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid

import requests

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BIN = os.environ.get("LADDER_BIN", os.path.join(ROOT, "target", "release", "ladder"))
OUT = os.environ.get("RELIABILITY_OUT", os.path.join(ROOT, "scripts", "reliability", "out"))
PG_ADMIN = os.environ.get("RELIABILITY_PG", "postgres://postgres@127.0.0.1:5432/postgres")
SECRET = "reliability-harness-secret-0123456789abcdef-xyz"
ADMIN_PASSWORD = "reliability-admin-2025!"

DEMO = {
    "admin": ("admin", "demo-admin-2025!"),
    "reviewer": ("reviewer1", "demo-reviewer1-2025!"),
    "official": ("official1", "demo-official1-2025!"),
    "enterprise": ("enterprise01", "demo-enterprise01-2025!"),
}

os.makedirs(OUT, exist_ok=True)


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def env_for(url, extra=None):
    env = dict(os.environ)
    # PostgreSQL deployments must pass the audit key (it never lives in the database).
    env.update({"DATABASE_URL": url, "LADDER_JWT_SECRET": SECRET, "LADDER_AUDIT_KEY": SECRET + "-audit",
                "LADDER_LOG": env.get("RELIABILITY_LOG", "error"),
                # Every check connects from 127.0.0.1: the per-address sign-in limit would
                # refuse the harness's own logins (its test is tests/api/accounts.rs).
                "LADDER_AUTH_RATE_PER_MIN": "1000000"})
    if extra:
        env.update(extra)
    return env


def cli(url, *args, stdin=None, check=True):
    """Runs `ladder ARGS` on the database; returns the CompletedProcess."""
    p = subprocess.run([BIN, *args], env=env_for(url), input=stdin, capture_output=True, text=True, timeout=600)
    if check and p.returncode != 0:
        raise RuntimeError(f"ladder {' '.join(args)} failed ({p.returncode}): {p.stderr[-2000:]}")
    return p


_STARTED = []


@atexit.register
def _stop_leftovers():
    """A script that fails half-way still stops the servers it started (by their own pids)."""
    for server in _STARTED:
        try:
            server.stop()
        except Exception:
            pass


class Server:
    """A `ladder serve` child; `kill()` sends SIGKILL to this pid only."""

    def __init__(self, url, port=None, extra_env=None, log_name=None):
        self.url = url
        self.port = port or free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.extra_env = dict(extra_env or {})
        self.log_path = os.path.join(OUT, log_name or f"serve-{self.port}.log")
        self.proc = None

    def start(self, timeout=60):
        env = env_for(self.url, {"LADDER_BIND": f"127.0.0.1:{self.port}", **self.extra_env})
        logf = open(self.log_path, "ab")
        self.proc = subprocess.Popen([BIN, "serve"], env=env, stdout=logf, stderr=logf, stdin=subprocess.DEVNULL)
        logf.close()
        if self not in _STARTED:
            _STARTED.append(self)
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"ladder serve exited with {self.proc.returncode}; see {self.log_path}")
            try:
                if requests.get(self.base + "/readyz", timeout=2).status_code == 200:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"ladder serve on {self.base} not ready in {timeout}s")

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def kill(self):
        if self.proc and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()

    def pid(self):
        return self.proc.pid

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def sqlite_db(name):
    d = os.path.join(OUT, "db")
    os.makedirs(d, exist_ok=True)
    path = os.path.join(d, f"{name}.db")
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(path + suffix):
            os.remove(path + suffix)
    return path


def psql(sql, url=PG_ADMIN):
    p = subprocess.run(["psql", url, "-v", "ON_ERROR_STOP=1", "-At", "-c", sql], capture_output=True, text=True, timeout=120)
    if p.returncode != 0:
        raise RuntimeError(f"psql: {sql}: {p.stderr}")
    return p.stdout.strip()


def pg_available():
    try:
        psql("SELECT 1")
        return True
    except Exception:
        return False


def pg_db(prefix):
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    psql(f"CREATE DATABASE {name}")
    base = PG_ADMIN.rsplit("/", 1)[0]
    return name, f"{base}/{name}"


def pg_drop(name):
    try:
        psql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    except Exception as e:
        log(f"warning: dropping {name}: {e}")


def seeded(url):
    """Migrates, seeds the demo data set and creates an extra admin."""
    cli(url, "migrate")
    cli(url, "seed", "--demo")
    return url


def login(base, username, password):
    r = requests.post(base + "/api/v1/auth/login", json={"username": username, "password": password}, timeout=60)
    r.raise_for_status()
    return r.json()["access_token"]


def tokens(base):
    """A demo token for every signed-in role."""
    return {role: login(base, u, p) for role, (u, p) in DEMO.items()}


def session(token=None):
    s = requests.Session()
    if token:
        s.headers["Authorization"] = f"Bearer {token}"
    return s


def verdict(name, ok, figures):
    line = f"{name}: {'PASS' if ok else 'FAIL'} {figures}"
    print(line, flush=True)
    with open(os.path.join(OUT, "verdicts.txt"), "a") as f:
        f.write(time.strftime("%Y-%m-%dT%H:%M:%S ") + line + "\n")
    return 0 if ok else 1
