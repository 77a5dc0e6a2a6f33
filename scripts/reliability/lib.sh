# Shared setup for scripts/reliability/*: sourced, not run. Installs what a fresh machine
# lacks (wrk, psql, the Python virtual environment with schemathesis), builds the release
# binary (unless LADDER_BIN names one) and starts PostgreSQL when a script needs it.
set -euo pipefail
RELIABILITY_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$RELIABILITY_DIR/../.." && pwd)"
VENV="$RELIABILITY_DIR/.venv"
PY="$VENV/bin/python"
export RELIABILITY_OUT="${RELIABILITY_OUT:-$RELIABILITY_DIR/out}"
mkdir -p "$RELIABILITY_OUT"

_apt_updated=""
need_apt() { # need_apt COMMAND PACKAGE
  command -v "$1" >/dev/null 2>&1 && return 0
  echo "reliability: installing $2 with apt-get" >&2
  if [ -z "$_apt_updated" ]; then apt-get update -qq >&2; _apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >&2
}

ensure_venv() {
  if [ -x "$VENV/bin/schemathesis" ] && "$PY" -c "import requests, psycopg" 2>/dev/null; then return 0; fi
  need_apt python3 python3
  if ! python3 -m venv "$VENV" >/dev/null 2>&1; then
    need_apt ensurepip-missing python3-venv
    python3 -m venv "$VENV"
  fi
  echo "reliability: installing schemathesis into $VENV (PyPI)" >&2
  "$VENV/bin/pip" install -q --disable-pip-version-check "schemathesis==4.32.5" "requests>=2.31" "psycopg[binary]>=3.2,<4" >&2
}

ensure_release() {
  if [ -n "${LADDER_BIN:-}" ]; then return 0; fi
  echo "reliability: cargo build --release" >&2
  (cd "$ROOT" && nice -n 10 cargo build --release --quiet >&2)
  export LADDER_BIN="$ROOT/target/release/ladder"
}

ensure_postgres() {
  need_apt psql postgresql-client
  if pg_isready -h 127.0.0.1 -p 5432 >/dev/null 2>&1; then return 0; fi
  if [ -d /etc/postgresql ]; then
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start >&2 || true
    for _ in $(seq 1 30); do pg_isready -h 127.0.0.1 -p 5432 >/dev/null 2>&1 && return 0; sleep 1; done
  fi
  echo "reliability: PostgreSQL is not running at 127.0.0.1:5432 (RELIABILITY_PG names another)" >&2
}

ensure_wrk() {
  need_apt wrk wrk
}
