#!/usr/bin/env python3
"""The dashboard's browser test: ladder (or the mock) + headless Chromium over W3C WebDriver.

Run through `scripts/browser-test` from the repository root, which installs Chromium and finds
the ladder binary. Python 3.11 standard library only: chromedriver is driven with the W3C
WebDriver HTTP protocol via urllib.

Steps: start ladder on a fresh SQLite database seeded with `seed --demo` (or the mock server),
start chromedriver, open /dashboard in headless Chromium, sign in as official1 through the form,
choose year 2025 and report date 2025-12-31, reload, wait for the quota bars; then ask the API
directly for the same rollup and compare achieved, target and percent of every quota with
the page's [data-quota-id] elements; save a full-page screenshot.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from decimal import Decimal, InvalidOperation
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
USERNAME = "official1"
PASSWORD = "demo-official1-2025!"
YEAR = "2025"
AS_OF = "2025-12-31"
CHROMIUM = os.environ.get("CHROMIUM_BIN", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("CHROMEDRIVER_BIN", "/usr/bin/chromedriver")
ELEMENT_KEY = "element-6066-11e4-a52e-4f735466cecf"
SHOT = ROOT / "target" / "browser-test" / "dashboard.png"


class Fail(Exception):
    """A test failure with a message for the FAIL line."""


def log(msg: str) -> None:
    print(f"browser-test: {msg}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http(method: str, url: str, body=None, headers=None, timeout: float = 30.0):
    """(status, headers, bytes) of one HTTP request; never raises on an HTTP error status."""
    data = None
    hdrs = dict(headers or {})
    if body is not None:
        data = json.dumps(body).encode()
        hdrs.setdefault("Content-Type", "application/json")
    req = urllib.request.Request(url, data=data, method=method, headers=hdrs)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def wait_http(url: str, timeout: float, proc: subprocess.Popen | None = None, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise Fail(f"{what or url} exited with status {proc.returncode} before it was ready")
        try:
            status, _, _ = http("GET", url, timeout=2)
            if status == 200:
                return
            last = f"HTTP {status}"
        except (OSError, urllib.error.URLError) as e:
            last = str(e)
        time.sleep(0.2)
    raise Fail(f"{what or url} not ready after {timeout:.0f}s ({last})")


# ---------------------------------------------------------------- WebDriver

class WebDriverError(Exception):
    pass


class WebDriver:
    def __init__(self, base: str):
        self.base = base.rstrip("/")
        self.sid: str | None = None

    def call(self, method: str, path: str, body=None, timeout: float = 60.0):
        url = self.base + path
        status, _, raw = http(method, url, body if body is not None else ({} if method == "POST" else None), timeout=timeout)
        try:
            doc = json.loads(raw or b"{}")
        except ValueError:
            raise WebDriverError(f"{method} {path}: HTTP {status}, not JSON: {raw[:200]!r}")
        value = doc.get("value") if isinstance(doc, dict) else None
        if status >= 400 or (isinstance(value, dict) and "error" in value and status != 200):
            err = value if isinstance(value, dict) else {}
            raise WebDriverError(f"{method} {path}: {err.get('error', status)}: {str(err.get('message', raw[:300]))[:600]}")
        return value

    def s(self, method: str, path: str, body=None, timeout: float = 60.0):
        return self.call(method, f"/session/{self.sid}{path}", body, timeout)

    def start(self, args: list[str]) -> None:
        caps = {"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "pageLoadStrategy": "normal",
            "goog:chromeOptions": {"binary": CHROMIUM, "args": args},
            "goog:loggingPrefs": {"browser": "ALL"},
        }}}
        value = self.call("POST", "/session", caps, timeout=90)
        self.sid = value["sessionId"]

    def quit(self) -> None:
        if self.sid:
            try:
                self.call("DELETE", f"/session/{self.sid}", timeout=15)
            except Exception:
                pass
            self.sid = None

    def get(self, url: str) -> None:
        self.s("POST", "/url", {"url": url})

    def find(self, css: str) -> str:
        return self.s("POST", "/element", {"using": "css selector", "value": css})[ELEMENT_KEY]

    def click(self, css: str) -> None:
        self.s("POST", f"/element/{self.find(css)}/click")

    def clear(self, css: str) -> None:
        self.s("POST", f"/element/{self.find(css)}/clear")

    def type(self, css: str, text: str) -> None:
        self.s("POST", f"/element/{self.find(css)}/value", {"text": text})

    def js(self, script: str, *args):
        return self.s("POST", "/execute/sync", {"script": script, "args": list(args)})

    def wait(self, script: str, timeout: float, what: str, *args):
        """Polls a script until it returns something truthy; a dict with `fail` aborts."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            v = self.js(script, *args)
            if isinstance(v, dict) and v.get("fail"):
                raise Fail(f"{what}: {v['fail']}")
            if v:
                return v
            time.sleep(0.2)
        raise Fail(f"timed out after {timeout:.0f}s waiting for {what}")

    def browser_log(self) -> list[dict]:
        try:
            return self.s("POST", "/se/log", {"type": "browser"}) or []
        except WebDriverError:
            return []

    def screenshot(self, path: Path) -> None:
        png = base64.b64decode(self.s("GET", "/screenshot"))
        if not png.startswith(b"\x89PNG"):
            raise Fail("the screenshot is not a PNG")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(png)


# ---------------------------------------------------------------- the page

# What the dashboard exposes while it works: #dashboard[data-state] = loading | ready | error,
# #dashboard[data-loaded] = "YEAR|AS_OF" once that report is on screen.
JS_ERRORS = """
const vis = id => { const e = document.getElementById(id); return e && !e.hidden && e.textContent.trim() ? e.textContent.trim() : null; };
return vis('dash-error') || vis('signin-error');
"""

JS_SIGNIN_READY = """
const f = document.getElementById('signin');
return !!(f && !f.hidden && document.getElementById('login-username'));
"""

JS_DASH_READY = """
const d = document.getElementById('dashboard');
if (!d || d.hidden) {
  const e = document.getElementById('signin-error');
  return e && !e.hidden && e.textContent.trim() ? {fail: 'sign-in failed: ' + e.textContent.trim()} : false;
}
if (d.dataset.state === 'error') {
  const e = document.getElementById('dash-error');
  return {fail: 'the dashboard shows an error: ' + (e ? e.textContent.trim() : '?')};
}
return d.dataset.state === 'ready' ? (d.dataset.loaded || true) : false;
"""

JS_LOADED = """
const want = arguments[0];
const d = document.getElementById('dashboard');
if (d.dataset.state === 'error') {
  const e = document.getElementById('dash-error');
  return {fail: 'the dashboard shows an error: ' + (e ? e.textContent.trim() : '?')};
}
return d.dataset.state === 'ready' && d.dataset.loaded === want && document.querySelectorAll('[data-quota-id]').length > 0;
"""

JS_SET_DATE = """
const y = document.getElementById('ctl-year'), d = document.getElementById('ctl-asof');
y.dispatchEvent(new Event('change', {bubbles: true}));
d.value = arguments[0];
d.dispatchEvent(new Event('input', {bubbles: true}));
d.dispatchEvent(new Event('change', {bubbles: true}));
return [y.value, d.value];
"""

JS_READ_QUOTAS = """
return Array.from(document.querySelectorAll('[data-quota-id]')).map(e => {
  const f = n => { const x = e.querySelector('[data-field="' + n + '"]'); return x ? x.textContent : null; };
  return {id: e.getAttribute('data-quota-id'), achieved: f('achieved'), target: f('target'), percent: f('percent')};
});
"""


def int_text(v) -> str:
    try:
        d = Decimal(str(v).strip())
    except InvalidOperation:
        return str(v)
    return str(int(d)) if d == d.to_integral_value() else str(v)


def percent_matches(page: str | None, api) -> tuple[bool, str]:
    """The page shows the API's percent with one decimal; exact when the API gives ≤ 1 decimal."""
    try:
        p = Decimal(str(api).strip())
    except InvalidOperation:
        return (page == str(api), str(api))
    want = f"{p:.1f}"
    if page is None:
        return (False, want)
    page = page.strip()
    if p.as_tuple().exponent >= -1:
        return (page == want, want)
    try:
        return (abs(Decimal(page) - p) <= Decimal("0.05") and len(page.split(".")[-1]) == 1, want)
    except InvalidOperation:
        return (False, want)


def compare(api_quotas: list[dict], page: list[dict]) -> list[str]:
    problems: list[str] = []
    by_id: dict[str, list[dict]] = {}
    for row in page:
        by_id.setdefault(str(row["id"]), []).append(row)
    for q in api_quotas:
        qid = str(q["id"])
        rows = by_id.pop(qid, [])
        if not rows:
            problems.append(f"quota {qid} ({'+'.join(q.get('tiers', []))}): no [data-quota-id=\"{qid}\"] element on the page")
            continue
        if len(rows) > 1:
            problems.append(f"quota {qid}: {len(rows)} elements carry data-quota-id=\"{qid}\"")
        row = rows[0]
        for field in ("achieved", "target"):
            want = int_text(q[field])
            got = (row.get(field) or "").strip() if row.get(field) is not None else None
            if got != want:
                problems.append(f"quota {qid} {field}: API {want!r}, page {got!r}")
        ok, want = percent_matches(row.get("percent"), q["percent"])
        if not ok:
            problems.append(f"quota {qid} percent: API {q['percent']} (shown as {want!r}), page {row.get('percent')!r}")
    for qid in by_id:
        problems.append(f"page shows quota {qid}, which the API did not return")
    return problems


# ---------------------------------------------------------------- processes

class Procs:
    def __init__(self):
        self.items: list[tuple[str, subprocess.Popen]] = []

    def start(self, name: str, argv: list[str], env=None, log_path: Path | None = None) -> subprocess.Popen:
        out = open(log_path, "wb") if log_path else subprocess.DEVNULL
        p = subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                             start_new_session=True)
        self.items.append((name, p))
        return p

    def stop_all(self) -> None:
        for name, p in reversed(self.items):
            if p.poll() is None:
                try:
                    os.killpg(p.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        for name, p in reversed(self.items):
            try:
                p.wait(timeout=25)
            except subprocess.TimeoutExpired:
                log(f"{name} (pid {p.pid}) did not stop; killing it")
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                p.wait(timeout=5)
        self.items.clear()


def tail(path: Path, n: int = 30) -> str:
    try:
        lines = path.read_text(errors="replace").splitlines()[-n:]
    except OSError:
        return ""
    return "\n".join("    " + x for x in lines)


def on_signal(signum, _frame):
    raise SystemExit(128 + signum)


# ---------------------------------------------------------------- main

def run(args, tmp: Path, procs: Procs, wd_holder: list) -> int:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server_log = tmp / ("mock.log" if args.mock else "ladder.log")
    try:
        if args.mock:
            log(f"starting the mock server on {base}")
            server = procs.start("mock", [sys.executable, str(ROOT / "scripts/browser/mock_server.py"), "--port", str(port)],
                                 log_path=server_log)
        else:
            ladder = args.ladder_bin or os.environ.get("LADDER_BIN")
            if not ladder or not os.access(ladder, os.X_OK):
                raise Fail(f"no ladder binary (LADDER_BIN={ladder!r})")
            env = dict(os.environ, DATABASE_URL=str(tmp / "ladder.db"), LADDER_BIND=f"127.0.0.1:{port}")
            env.setdefault("LADDER_LOG", "warn")
            log(f"seeding the demo data into {tmp / 'ladder.db'}")
            seed = subprocess.run([ladder, "seed", "--demo"], env=env, cwd=ROOT, capture_output=True, text=True, timeout=600)
            if seed.returncode != 0:
                raise Fail(f"`ladder seed --demo` failed ({seed.returncode}):\n{seed.stdout}{seed.stderr}")
            log(f"starting ladder serve on {base}")
            server = procs.start("ladder", [ladder, "serve"], env=env, log_path=server_log)
        wait_http(base + "/readyz", 60, server, "the server")
    except Fail as e:
        raise Fail(f"{e}\n  server log:\n{tail(server_log)}")

    # The page and its assets must be served before a browser is worth starting.
    for path, kind in (("/dashboard", "text/html"), ("/dashboard/dashboard.css", "text/css"),
                       ("/dashboard/dashboard.js", "javascript")):
        status, headers, _ = http("GET", base + path)
        ctype = headers.get("Content-Type", "") if headers else ""
        if status != 200 or kind not in ctype:
            raise Fail(f"GET {path} answered {status} {ctype!r}, wanted 200 {kind} (is the dashboard served by ladder?)")

    # chromedriver
    cd_port = free_port()
    cd_log = tmp / "chromedriver.log"
    driver = procs.start("chromedriver", [CHROMEDRIVER, f"--port={cd_port}", "--allowed-ips=127.0.0.1", f"--log-path={cd_log}"])
    wait_http(f"http://127.0.0.1:{cd_port}/status", 30, driver, "chromedriver")
    wd = WebDriver(f"http://127.0.0.1:{cd_port}")
    wd_holder.append(wd)
    profile = tmp / "chromium-profile"
    profile.mkdir()
    wd.start(["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
              "--disable-background-networking", "--disable-component-update", "--disable-sync",
              "--disable-dev-shm-usage", "--window-size=1440,1000", f"--user-data-dir={profile}"])
    wd.s("POST", "/timeouts", {"implicit": 5000, "pageLoad": 30000, "script": 30000})

    # 1. open the dashboard and sign in through the form
    wd.get(base + "/dashboard")
    wd.wait(JS_SIGNIN_READY, 20, "the sign-in form")
    wd.type("#login-username", USERNAME)
    wd.type("#login-password", PASSWORD)
    wd.click("#signin-submit")
    wd.wait(JS_DASH_READY, 30, "the dashboard after sign-in")

    # 2. year 2025, report date 2025-12-31, reload
    wd.clear("#ctl-year")
    wd.type("#ctl-year", YEAR)
    got = wd.js(JS_SET_DATE, AS_OF)
    if got != [YEAR, AS_OF]:
        raise Fail(f"the controls read {got}, wanted {[YEAR, AS_OF]}")
    wd.click("#reload")
    wd.wait(JS_LOADED, 30, f"the {YEAR} report as of {AS_OF}", f"{YEAR}|{AS_OF}")
    page = wd.js(JS_READ_QUOTAS)

    # 3. the same report straight from the API
    status, _, raw = http("POST", base + "/api/v1/auth/login", {"username": USERNAME, "password": PASSWORD})
    if status != 200:
        raise Fail(f"API login: HTTP {status}: {raw[:300]!r}")
    token = json.loads(raw)["access_token"]
    status, _, raw = http("GET", f"{base}/api/v1/reports/rollup?year={YEAR}&as_of={AS_OF}",
                          headers={"Authorization": f"Bearer {token}", "Accept": "application/json"})
    if status != 200:
        raise Fail(f"API rollup: HTTP {status}: {raw[:300]!r}")
    api = json.loads(raw, parse_float=Decimal)
    quotas = api.get("quotas") or []
    if not quotas:
        raise Fail("the API returned no quotas for 2025; nothing to compare")
    problems = compare(quotas, page)

    # 4. full-page screenshot (resize the window to the page, W3C window rect)
    try:
        wd.js("window.scrollTo(0, 0);")
        h = int(wd.js("return Math.ceil(document.documentElement.scrollHeight);") or 1000)
        inner = int(wd.js("return window.innerHeight;") or 1000)
        rect = wd.s("GET", "/window/rect")
        chrome_ui = max(0, int(rect.get("height", inner)) - inner)
        wd.s("POST", "/window/rect", {"width": 1440, "height": min(h + chrome_ui, 8000)})
        time.sleep(0.5)
    except (WebDriverError, ValueError, TypeError) as e:
        log(f"could not resize the window for a full-page screenshot ({e}); taking the viewport")
    wd.screenshot(SHOT)

    # 5. Content-Security-Policy violations or script errors in the console are failures too.
    for entry in wd.browser_log():
        msg = str(entry.get("message", ""))
        if entry.get("level") == "SEVERE" and ("Content Security Policy" in msg or "Uncaught" in msg):
            problems.append(f"browser console: {msg[:300]}")

    rel = SHOT.relative_to(ROOT) if SHOT.is_relative_to(ROOT) else SHOT
    if problems:
        print("browser-test: the page and the API disagree:", file=sys.stderr)
        for p in problems:
            print(f"  - {p}", file=sys.stderr)
        print(f"browser-test: FAIL ({len(problems)} difference(s) over {len(quotas)} quotas; screenshot {rel})")
        return 1
    print(f"browser-test: OK ({len(quotas)} quotas match the API; screenshot {rel})")
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description="ladder dashboard browser test")
    ap.add_argument("--mock", action="store_true", help="run against scripts/browser/mock_server.py instead of ladder")
    ap.add_argument("--ladder-bin", help="the ladder binary (default: $LADDER_BIN)")
    ap.add_argument("--keep-temp", action="store_true", help="keep the temporary directory (logs, database)")
    args = ap.parse_args()

    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, on_signal)
    for exe in (CHROMIUM, CHROMEDRIVER):
        if not os.access(exe, os.X_OK):
            print(f"browser-test: FAIL ({exe} is missing; run scripts/browser-test, which installs it)")
            return 1

    tmp = Path(tempfile.mkdtemp(prefix="ladder-browser-test-"))
    procs = Procs()
    wd_holder: list[WebDriver] = []
    rc = 1
    try:
        rc = run(args, tmp, procs, wd_holder)
    except Fail as e:
        first, _, rest = str(e).partition("\n")
        if rest:
            print(rest, file=sys.stderr)
        if wd_holder and wd_holder[0].sid:
            try:
                wd_holder[0].screenshot(SHOT)
                first += f"; screenshot {SHOT.relative_to(ROOT)}"
            except Exception:
                pass
        print(f"browser-test: FAIL ({first})")
    except WebDriverError as e:
        print(f"browser-test: FAIL (WebDriver: {e})")
        cd_log = tmp / "chromedriver.log"
        if cd_log.exists():
            print(f"  chromedriver log:\n{tail(cd_log, 20)}", file=sys.stderr)
    except SystemExit as e:
        print(f"browser-test: FAIL (interrupted, signal {int(e.code or 0) - 128})")
        rc = int(e.code or 1)
    finally:
        for wd in wd_holder:
            wd.quit()
        procs.stop_all()
        if args.keep_temp or rc != 0:
            log(f"logs and database kept in {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    return rc


if __name__ == "__main__":
    sys.exit(main())
