#!/usr/bin/env bash
# The reference Autobahn|Testsuite (wstest -m fuzzingclient) against tests/apps/Echo.
#
# wstest is Python 2 code and upstream ships it only as a Docker image that cannot be pulled
# here, so it runs in a Debian 11 chroot with CPython 2.7 and the upstream pins.
# CI runs the kosoku port of it instead (tests/autobahn/test_autobahn.py); this script is the
# reference to run before claiming "passes Autobahn".  It takes minutes and needs root.
#
#   scripts/wstest-chroot.sh [CASE ...]      cases as wstest globs, default: all of 1.* to 13.*
#
# Environment: WSTEST_ROOT (the chroot, reused when it exists; default /var/tmp/aro-wstest),
# DEBIAN_MIRROR (default: the first Debian URI of this machine's apt sources),
# WSTEST_SERVER_ARGS (extra `aro run` flags, e.g. --ws-no-compression, which also drops the
# permessage-deflate cases 12.* and 13.*).  The report lands in $WSTEST_ROOT/reports/.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
ROOT=${WSTEST_ROOT:-/var/tmp/aro-wstest}
PYTHON=${PYTHON:-python3}
WHEELS=/opt/aro-wheels      # inside the chroot
CERT=/etc/aro-ca-certificates.crt
MOUNTED=()
SERVER_PID=
SERVER_PORT=

# The upstream requirements.txt of autobahntestsuite, with setuptools at the last Python 2
# release; Twisted builds against incremental, hence --no-build-isolation.
PINS=(
    txaio==2.1.0 incremental==16.10.1 pyOpenSSL==19.1.0 cryptography==3.3.2
    zope.interface==4.6.0 jinja2==2.11.3 markupsafe==1.1.1 Werkzeug==1.0.1 klein==17.10.0
    service_identity==18.1.0 unittest2==1.1.0 six==1.16.0
)

log() { echo "wstest-chroot: $*" >&2; }

debian_mirror() {
    # Step 2 needs a Debian mirror; this machine's own is the one known to answer.
    if [[ -n ${DEBIAN_MIRROR:-} ]]; then echo "$DEBIAN_MIRROR"; return; fi
    local found
    found=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.{sources,list} 2>/dev/null \
        | grep -v '^[[:space:]]*#' | grep -oE 'https?://[^ ]*/debian/?( |$)' || true)
    [[ -n $found ]] || { log "no Debian mirror in the apt sources: set DEBIAN_MIRROR"; exit 2; }
    echo "${found%%[[:space:]]*}"
}

in_root() {
    chroot "$ROOT" /usr/bin/env -i HOME=/root PATH=/usr/local/bin:/usr/bin:/bin \
        PIP_CERT="$CERT" PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_PYTHON_VERSION_WARNING=1 \
        LC_ALL=C.UTF-8 "$@"
}

mount_once() {
    # pip and Twisted need /proc and /dev; unmounted again on exit.  Usage: DIR MOUNT-ARGS...
    local target=$ROOT$1
    shift
    if ! mountpoint -q "$target"; then
        mount "$@" "$target" && MOUNTED+=("$target")
    fi
}

cleanup() {
    if [[ -n $SERVER_PID ]]; then
        kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null || true
    fi
    local i
    for ((i = ${#MOUNTED[@]} - 1; i >= 0; i--)); do umount "${MOUNTED[i]}" || true; done
}

bootstrap() {
    # Steps 1-2: a minimal bullseye with Python 2.7 and what the C extensions build with.
    command -v debootstrap >/dev/null || apt-get install -y -qq debootstrap >/dev/null
    local mirror
    mirror=$(debian_mirror)
    log "debootstrap bullseye into $ROOT from $mirror"
    debootstrap --variant=minbase \
        --include=python2.7,python2.7-dev,gcc,libssl-dev,libffi-dev,ca-certificates \
        bullseye "$ROOT" "$mirror"
}

install_pip() {
    # Steps 3-4: the host's CA bundle (pip fails with CERTIFICATE_VERIFY_FAILED without it)
    # and the last pip, setuptools and wheel for Python 2, fetched by the host's pip.
    cp /etc/ssl/certs/ca-certificates.crt "$ROOT$CERT"
    cp /etc/resolv.conf "$ROOT/etc/resolv.conf"
    mkdir -p "$ROOT$WHEELS"
    "$PYTHON" -m pip download -q --no-deps --only-binary=:all: -d "$ROOT$WHEELS" \
        pip==20.3.4 setuptools==44.0.0 wheel==0.36.2
    in_root python2.7 "$WHEELS/pip-20.3.4-py2.py3-none-any.whl/pip" install -q \
        --no-index --find-links "$WHEELS" pip==20.3.4 setuptools==44.0.0 wheel==0.36.2
}

install_wstest() {
    # Steps 5-7: the pins, then the suite itself without its (Python 3 era) dependencies.
    log "installing the Autobahn 0.10.9 stack"
    in_root python2.7 -m pip install -q "${PINS[@]}"
    in_root python2.7 -m pip install -q --no-build-isolation Twisted==19.10.0
    in_root python2.7 -m pip install -q "autobahn[twisted,accelerate]==0.10.9"
    in_root python2.7 -m pip install -q --no-deps autobahntestsuite==25.10.1
}

prepare() {
    [[ -x $ROOT/usr/bin/python2.7 ]] || bootstrap
    mount_once /proc -t proc proc
    mount_once /dev --bind /dev
    [[ -f $ROOT/usr/local/bin/pip ]] || install_pip
    [[ -f $ROOT/usr/local/bin/wstest ]] || install_wstest
    in_root wstest -a >&2  # "Autobahn 0.10.9 / AutobahnTestSuite 25.10.1"
}

start_server() {
    # The echo app on an ephemeral port (its first line names the port) in this shell, so
    # that cleanup can stop it.  The chroot shares the host's network: wstest reaches it on
    # 127.0.0.1.  Sets SERVER_PID and SERVER_PORT; its output goes to $ROOT/server.log.
    local output=$ROOT/server.log
    # shellcheck disable=SC2086  # WSTEST_SERVER_ARGS is a list of flags
    (cd "$REPO" && exec env PYTHONUNBUFFERED=1 "$PYTHON" -m aro run tests/apps/Echo \
        --port 0 --ws-max-message 16777216 --ws-ping-interval 0 ${WSTEST_SERVER_ARGS:-}) \
        >"$output" 2>&1 &
    SERVER_PID=$!
    for _ in $(seq 100); do
        SERVER_PORT=$(grep -oE 'HTTP Server started on port [0-9]+' "$output" \
            | grep -oE '[0-9]+$' || true)
        [[ -n $SERVER_PORT ]] && return
        sleep 0.1
    done
    log "the echo app did not start:"; cat "$output" >&2; return 1
}

write_spec() {
    # Step 8: one server, the cases asked for; 12.* and 13.* need permessage-deflate.
    local port=$1; shift
    local exclude='[]'
    [[ ${WSTEST_SERVER_ARGS:-} == *--ws-no-compression* ]] && exclude='["12.*", "13.*"]'
    local cases
    cases=$(printf '"%s",' "$@")
    cat >"$ROOT/fuzzingclient.json" <<EOF
{
    "outdir": "/reports",
    "servers": [{"agent": "aro-py", "url": "ws://127.0.0.1:$port/ws"}],
    "cases": [${cases%,}],
    "exclude-cases": $exclude,
    "exclude-agent-cases": {}
}
EOF
}

summarize() {
    # The verdicts per case group, then each case that is not OK, NON-STRICT or INFORMATIONAL.
    "$PYTHON" - "$ROOT/reports" <<'EOF'
import collections, json, pathlib, sys
reports = pathlib.Path(sys.argv[1])
cases = json.loads((reports / "index.json").read_text())["aro-py"]
groups = collections.defaultdict(collections.Counter)
failing = []
for case_id, entry in sorted(cases.items(), key=lambda c: [int(p) for p in c[0].split(".")]):
    groups[case_id.split(".")[0]][entry["behavior"]] += 1
    if (entry["behavior"] not in ("OK", "NON-STRICT", "INFORMATIONAL")
            or entry["behaviorClose"] not in ("OK", "INFORMATIONAL")):
        failing.append(case_id)
        detail = json.loads((reports / entry["reportfile"]).read_text())
        print(f"FAILED {case_id}: {entry['behavior']}/{entry['behaviorClose']}: "
              f"{detail['result']} | {detail['resultClose']}")
for group, counts in sorted(groups.items(), key=lambda g: int(g[0])):
    print(f"{group:>3}.*  " + ", ".join(f"{n} {v}" for v, n in sorted(counts.items())))
print(f"{len(cases)} cases, {len(failing)} failed; report: {reports}/index.html")
sys.exit(1 if failing else 0)
EOF
}

main() {
    [[ $(id -u) == 0 ]] || { log "needs root (debootstrap, chroot, mount)"; exit 2; }
    trap cleanup EXIT
    prepare
    start_server
    log "echo app on port $SERVER_PORT"
    write_spec "$SERVER_PORT" "${@:-*}"
    rm -rf "$ROOT/reports"
    in_root wstest -m fuzzingclient -s /fuzzingclient.json >"$ROOT/wstest.log" 2>&1 \
        || { log "wstest failed:"; tail -n 40 "$ROOT/wstest.log" >&2; exit 1; }
    summarize
}

main "$@"
