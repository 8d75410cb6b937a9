#!/usr/bin/env python3
"""`just scan`: wapiti on a live Hearth, signed out and then signed in.

Starts the real binary on 127.0.0.1 with a fresh SQLite database, creates the first
account (the administrator), and runs wapiti twice with the modules
sql,xss,csrf,http_headers,cookieflags:

1. signed out: the whole site from its root URL. With --drop-set-cookie wapiti sends
   no Cookie header at all, so a sign-up it submits does not sign it in; the cookies
   Hearth sets still land in its jar, which is what the cookieflags module inspects;
2. signed in as the administrator: wapiti signs in itself by posting /login, so its
   cookie jar holds the session cookie exactly as Hearth set it (which is what the
   cookieflags module inspects; a cookie given with -C is only a header to wapiti).
   /login, /signup and /logout are left out (they would swap or end the scanner's
   session; the signed-out pass covers the first two), and so are the
   administrator's actions on their own account (demoting itself would end the
   scanner's access to /admin).

Hearth runs with its rate limits raised, so that payloads reach the handlers rather
than a 429. Everything stays on 127.0.0.1 (wapiti's endpoints, which some modules
look up even when not run, point there too); each pass is bounded by --max-scan-time. Findings are
printed per pass; the JSON reports are kept in tools/scan/reports/.

Settings (all optional):
  HEARTH_BIN        the binary to run (default: <cargo target dir>/debug/hearth)
  WAPITI            wapiti's executable (default: tools/scan/.venv/bin/wapiti)
  SCAN_MAX_SECONDS  --max-scan-time of each pass (default: 300)
  SCAN_OUT          where the JSON reports go (default: tools/scan/reports/)
  SCAN_KEEP=1       keep the server's folder (database and log) for a look after
"""

import json
import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
OUT = Path(os.environ.get("SCAN_OUT", HERE / "reports")).resolve()
WAPITI = os.environ.get("WAPITI", str(HERE / ".venv" / "bin" / "wapiti"))
MAX_SECONDS = int(os.environ.get("SCAN_MAX_SECONDS", "300"))
MODULES = "sql,xss,csrf,http_headers,cookieflags"

ADMIN = {"name": "Scan Admin", "email": "admin@example.org", "password": "a long scanner passphrase"}


def hearth_binary() -> str:
    binary = os.environ.get("HEARTH_BIN")
    if not binary:
        meta = json.loads(
            subprocess.run(
                ["cargo", "metadata", "--format-version", "1", "--no-deps"],
                cwd=REPO, check=True, capture_output=True, text=True,
            ).stdout
        )
        binary = os.path.join(meta["target_directory"], "debug", "hearth")
    if not os.path.exists(binary):
        sys.exit(f"no Hearth binary at {binary}: run `cargo build` first (or set HEARTH_BIN)")
    return binary


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


OPENER = urllib.request.build_opener(NoRedirect)


def http(url: str, data: dict | None = None, headers: dict | None = None):
    body = urllib.parse.urlencode(data).encode() if data is not None else None
    req = urllib.request.Request(url, data=body, headers=headers or {})
    try:
        with OPENER.open(req, timeout=10) as resp:
            return resp.status, resp.headers
    except urllib.error.HTTPError as err:
        return err.code, err.headers


class Hearth:
    def __init__(self):
        self.dir = Path(tempfile.mkdtemp(prefix="hearth-scan-"))
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = self.dir / "hearth.log"
        env = {
            "PATH": os.environ.get("PATH", ""),
            "HOME": os.environ.get("HOME", ""),
            "DATABASE_URL": f"sqlite://{self.dir / 'hearth.db'}",
            "BIND": f"127.0.0.1:{self.port}",
            "BASE_URL": self.url,
            "BCRYPT_COST": "4",
            "SIGNUP": "open",
            "RUST_LOG": "warn",
            # Let the scanner's payloads reach the handlers instead of a 429.
            "RATE_LIMIT_PER_ADDRESS": "100000",
            "RATE_LIMIT_PER_ACCOUNT": "100000",
            "CHAT_MESSAGES_PER_MINUTE": "100000",
        }
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                [hearth_binary(), "serve"], cwd=self.dir, env=env,
                stdin=subprocess.DEVNULL, stdout=log, stderr=log,
            )
        deadline = time.monotonic() + 30
        while True:
            if self.proc.poll() is not None:
                sys.exit(f"Hearth exited during start-up:\n{self.log.read_text()}")
            try:
                if http(f"{self.url}/healthz")[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                sys.exit(f"Hearth did not answer /healthz within 30 s:\n{self.log.read_text()}")
            time.sleep(0.1)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if os.environ.get("SCAN_KEEP") == "1":
            print(f"kept {self.dir}", file=sys.stderr)
        else:
            shutil.rmtree(self.dir, ignore_errors=True)


def sign_up_admin(url: str) -> str:
    """Creates the first account (the administrator); returns its Set-Cookie line."""
    status, headers = http(f"{url}/signup", ADMIN, {"Sec-Fetch-Site": "same-origin"})
    cookies = [c for c in headers.get_all("Set-Cookie") or [] if c.startswith("id=") and not c.startswith("id=;")]
    if status != 303 or not cookies:
        sys.exit(f"sign-up answered {status} without a session cookie")
    return cookies[0]


def wapiti(name: str, url: str, work: Path, extra: list[str]) -> dict:
    report = OUT / f"{name}.json"
    report.unlink(missing_ok=True)
    cmd = [
        WAPITI,
        "-u", f"{url}/",
        "--scope", "folder",
        "-m", MODULES,
        "--max-scan-time", str(MAX_SECONDS),
        "--max-attack-time", str(max(MAX_SECONDS // 3, 30)),
        "--tasks", "4",
        "-t", "10",
        "--flush-session",
        "--store-session", str(work / "session"),
        "--store-config", str(work / "config"),
        "--no-bugreport",
        # Every module is loaded even when not run, and log4shell's looks up its DNS
        # endpoint on load: point it, and the other endpoints, at this machine.
        "--dns-endpoint", "127.0.0.1",
        "--endpoint", f"{url}/",
        "-v", "1",
        "-dr", "1",
        "-f", "json",
        "-o", str(report),
        *extra,
    ]
    shown = shlex.join(cmd)
    shown = shown.replace(ADMIN["password"], "<password>")
    print(f"\n## {name}\n\n$ {shown}\n", flush=True)
    with open(OUT / f"{name}.log", "w", encoding="utf-8") as log:
        # wapiti stops itself after --max-scan-time; this is only a backstop.
        done = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                              timeout=MAX_SECONDS * 3 + 120)
    if done.returncode != 0 or not report.exists():
        sys.exit(f"wapiti ({name}) exited {done.returncode}; see {OUT / (name + '.log')}")
    return json.loads(report.read_text(encoding="utf-8"))


def findings(report: dict) -> list[str]:
    lines = []
    for section in ("vulnerabilities", "anomalies", "additionals"):
        for category, items in (report.get(section) or {}).items():
            for item in items:
                where = item.get("path", "")
                if item.get("parameter"):
                    where += f" (parameter {item['parameter']})"
                lines.append(
                    f"- [{section[:-1] if section != 'vulnerabilities' else 'vulnerability'}] "
                    f"{category}: {item.get('method', '')} {where} — {item.get('info', '').strip()}"
                )
    return lines


def main() -> int:
    if not os.path.exists(WAPITI):
        sys.exit(f"no wapiti at {WAPITI}: run `just scan`, which installs it")
    version = subprocess.run([WAPITI, "--version"], capture_output=True, text=True).stdout.strip().splitlines()[-1]
    OUT.mkdir(parents=True, exist_ok=True)
    hearth = Hearth()
    work = Path(tempfile.mkdtemp(prefix="wapiti-"))
    results = {}
    try:
        cookie = sign_up_admin(hearth.url)
        print(f"Hearth at {hearth.url}; {version}; modules {MODULES}")
        print(f"Session cookie as Hearth sets it (http BASE_URL): {cookie.split(';', 1)[1].strip()}")
        results["signed-out"] = wapiti("signed-out", hearth.url, work / "out", ["--drop-set-cookie"])
        # wapiti encodes --form-data itself: give it the values as they are.
        login = f"email={ADMIN['email']}&password={ADMIN['password']}&next=/dashboard"
        results["signed-in"] = wapiti("signed-in", hearth.url, work / "in", [
            "--form-url", f"{hearth.url}/login",
            "--form-data", login,
            "-x", f"{hearth.url}/login*",
            "-x", f"{hearth.url}/signup*",
            "-x", f"{hearth.url}/logout*",
            "-x", f"{hearth.url}/admin/people/1/*",
        ])
    finally:
        hearth.stop()
        shutil.rmtree(work, ignore_errors=True)

    print("\n# What each pass reached\n")
    for name, report in results.items():
        print(f"{name}:")
        for method, path, status in crawled(report, hearth.url):
            print(f"  {status} {method} {path}")
    print("\n# Findings\n")
    for name, report in results.items():
        lines = findings(report)
        print(f"{name}: {len(lines) or 'zero'} finding(s)")
        for line in lines:
            print(f"  {line}")
    print(f"\nReports and logs: {OUT}/")

    # A pass that was not what it claims to be is a failed run, not a clean one.
    signed_in = {(m, p): s for m, p, s in crawled(results["signed-in"], hearth.url)}
    if signed_in.get(("GET", "/admin")) != 200 or signed_in.get(("GET", "/dashboard")) != 200:
        print("error: the signed-in pass did not reach /dashboard and /admin as the administrator", file=sys.stderr)
        return 1
    signed_out = {(m, p): s for m, p, s in crawled(results["signed-out"], hearth.url)}
    if signed_out.get(("GET", "/dashboard"), 303) != 303:
        print("error: the signed-out pass was signed in", file=sys.stderr)
        return 1
    return 0


def crawled(report: dict, base: str) -> list[tuple[str, str, int]]:
    """(method, path with query, status) of every page and form the pass crawled."""
    rows = set()
    for entry in report.get("infos", {}).get("crawled_pages") or []:
        req = entry["request"]
        rows.add((req["method"], req["url"].removeprefix(base) or "/", req.get("status_code")))
    return sorted(rows, key=lambda row: (row[1], row[0]))


if __name__ == "__main__":
    sys.exit(main())
