#!/usr/bin/env bash
# scripts/test-services.sh - provide the outside services that `make test` needs.
#
# Usage (from the repository root; this is what the Makefile's test recipe does):
#
#   set -e; svc_env="$(scripts/test-services.sh)"; eval "$svc_env"; python -m pytest ...
#
#   (Assign first, then eval: a plain `eval "$(scripts/test-services.sh)"` would hide
#   a failure of the script, because eval of an empty string succeeds.)
#
# stdout carries ONLY `export NAME='value'` lines (POSIX sh quoting, safe for dash);
# every progress or error message goes to stderr, prefixed with "test-services:".
#
# What it provides:
#   1. A PostgreSQL server, exported as SECURELOGIN_TEST_POSTGRES_URL
#      (postgresql://USER@127.0.0.1:PORT/DBNAME), chosen in this order:
#        a. SECURELOGIN_TEST_POSTGRES_URL from the environment, if it answers;
#        b. a server on 127.0.0.1:$SECURELOGIN_TEST_PG_PROBE_PORT (default 5432) that
#           lets user postgres (or else root) in without a password (trust auth);
#        c. a throwaway cluster of its own: Debian's postgresql is installed with
#           apt-get if /usr/lib/postgresql/<ver>/bin/initdb is missing, the highest <ver>
#           is used, the cluster lives in $SECURELOGIN_TEST_STATE/pg (owned by user
#           postgres when run as root), trust auth, listens only on 127.0.0.1 on the
#           first free port from 54329 up, unix socket inside that directory,
#           fsync=off. A cluster already running there is reused.
#          Stop it with scripts/stop-test-services.sh.
#   2. pg_dump on PATH whose major version is >= the server's (PATH is exported
#      with /usr/lib/postgresql/<ver>/bin in front when that is needed).
#   3. Debian's chromium at /usr/bin/chromium and a CJK font (fonts-wqy-microhei)
#      for the Playwright browser tests, and Debian's oathtool (an independent TOTP
#      generator the login tests compare against).
#   4. Node.js (Debian's nodejs, 18 or newer) for the web app's JavaScript tests.
#   5. redis-server (Debian's), which one wake-up test starts in a temporary folder.
# Debian packages are installed with apt-get (via sudo when not root); apt-get update
# runs at most once per run, and only when something must be installed.
#
# Environment knobs:
#   SECURELOGIN_TEST_POSTGRES_URL    server to use if it answers (step 1a).
#   SECURELOGIN_TEST_PG_PROBE_PORT   port probed on 127.0.0.1 in step 1b (default 5432;
#                                    0 or empty skips 1b, e.g. to force a throwaway cluster).
#   SECURELOGIN_TEST_PG_PORT_START   first port tried for the throwaway cluster (default 54329).
#   SECURELOGIN_TEST_STATE           state directory (default $PWD/.cache/test-services);
#                                    the cluster is in $SECURELOGIN_TEST_STATE/pg, or, when
#                                    user postgres cannot reach that path (or it is too long
#                                    for a unix socket), in /tmp/securelogin-test-pg-<hash>;
#                                    $SECURELOGIN_TEST_STATE/pg.root names the one in use.
#   SECURELOGIN_TEST_SKIP_BROWSER=1  do not check or install chromium and the CJK font.
#   SECURELOGIN_TEST_NO_INSTALL=1    never run apt-get: fail with a message instead.
set -euo pipefail

log() { printf 'test-services: %s\n' "$*" >&2; }
die() {
    log "ERROR: $*"
    exit 1
}

is_root() { [ "$(id -u)" -eq 0 ]; }

# Quote one value for POSIX sh: 'it'\''s'.
sh_quote() {
    local q="'\\''"
    printf "'%s'" "${1//\'/$q}"
}

EXPORTS=()
add_export() { EXPORTS+=("export $1=$(sh_quote "$2")"); }

# Hide a password in a URL before it is logged.
redact() { printf '%s' "$1" | sed -E 's#(://[^:/@]*):[^@/]*@#\1:***@#'; }

# ---------------------------------------------------------------------------- apt
APT_UPDATED=0

as_admin() {
    if is_root; then
        "$@"
    elif [ -t 0 ]; then
        sudo "$@"
    else
        sudo -n "$@"
    fi
}

can_install() {
    if [ "${SECURELOGIN_TEST_NO_INSTALL:-0}" = 1 ]; then
        log "SECURELOGIN_TEST_NO_INSTALL=1 forbids installing packages"
        return 1
    fi
    if ! command -v apt-get >/dev/null 2>&1; then
        log "apt-get is not available"
        return 1
    fi
    if ! is_root && ! command -v sudo >/dev/null 2>&1; then
        log "not root and no sudo: cannot install packages"
        return 1
    fi
}

apt_update_once() {
    [ "$APT_UPDATED" = 0 ] || return 0
    log "apt-get update"
    as_admin env DEBIAN_FRONTEND=noninteractive \
        apt-get -q -o DPkg::Lock::Timeout=300 update || die "apt-get update failed"
    APT_UPDATED=1
}

apt_install() {
    can_install || die "need Debian packages: $*"
    apt_update_once
    log "apt-get install $*"
    as_admin env DEBIAN_FRONTEND=noninteractive \
        apt-get -q -y -o DPkg::Lock::Timeout=300 install --no-install-recommends "$@" ||
        die "apt-get install $* failed"
}

apt_has_package() {
    apt_update_once
    apt-cache show --no-all-versions "$1" >/dev/null 2>&1
}

# ---------------------------------------------------------------------- postgres
# Highest /usr/lib/postgresql/<ver>/bin that holds an executable $1.
highest_pg_bin() {
    local tool=$1 f
    local -a found=()
    for f in /usr/lib/postgresql/*/bin/"$tool"; do
        if [ -x "$f" ]; then found+=("${f%/"$tool"}"); fi
    done
    [ "${#found[@]}" -gt 0 ] || return 1
    printf '%s\n' "${found[@]}" | sort -V | tail -n 1
}

PSQL=""
find_psql() {
    local d
    if PSQL=$(command -v psql 2>/dev/null); then return 0; fi
    if d=$(highest_pg_bin psql); then
        PSQL=$d/psql
        return 0
    fi
    return 1
}

ensure_psql() {
    find_psql && return 0
    apt_install postgresql-client
    find_psql || die "psql still missing after installing postgresql-client"
}

# Succeeds when `select 1` works on URL $1 (never prompts for a password).
pg_try() {
    PGCONNECT_TIMEOUT=5 "$PSQL" -X -w -Atq -d "$1" -c 'select 1' >/dev/null 2>&1
}

# Succeeds when something accepts TCP connections on 127.0.0.1:$1.
port_in_use() {
    # shellcheck disable=SC2016 # $1 is expanded by the inner bash
    timeout 2 bash -c 'exec 5<>"/dev/tcp/127.0.0.1/$1"' _ "$1" 2>/dev/null
}

# Run a command as the owner of the throwaway cluster (postgres when we are root).
as_pg() {
    if ! is_root; then
        "$@"
    elif command -v runuser >/dev/null 2>&1; then
        (cd / && runuser -u postgres -- "$@")
    else
        local cmd="" a
        for a in "$@"; do cmd+="$(sh_quote "$a") "; done
        (cd / && su postgres -s /bin/sh -c "$cmd")
    fi
}

# Pid of the postmaster of data directory $1 if it is alive.
cluster_pid() {
    local f=$1/postmaster.pid pid
    [ -r "$f" ] || return 1
    pid=$(head -n 1 "$f")
    [[ $pid =~ ^[0-9]+$ ]] || return 1
    kill -0 "$pid" 2>/dev/null || return 1
    if [ -r "/proc/$pid/stat" ]; then
        # A recycled pid, or a postmaster that died and waits to be reaped (zombie).
        [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = postgres ] || return 1
        case $(sed -E 's/^.*\) (.).*$/\1/' "/proc/$pid/stat" 2>/dev/null) in
        Z | X | x) return 1 ;;
        esac
    fi
    printf '%s\n' "$pid"
}

# Directory for the throwaway cluster: $STATE/pg, unless the cluster owner cannot use
# it or a socket path in it would be too long (sun_path holds 107 bytes).
choose_pg_root() {
    local root=$STATE/pg sum
    mkdir -p "$root"
    chmod 700 "$root"
    if is_root; then chown postgres: "$root"; fi
    if [ $((${#root} + 20)) -le 107 ] && as_pg test -w "$root" -a -x "$root"; then
        printf '%s\n' "$root"
        return 0
    fi
    sum=$(printf '%s' "$STATE" | cksum | cut -d ' ' -f 1)
    root=/tmp/securelogin-test-pg-$sum
    log "using $root for the cluster ($STATE/pg is not usable by its owner or too long)"
    if [ -L "$root" ] || { [ -e "$root" ] && [ ! -O "$root" ] && ! as_pg test -O "$root"; }; then
        die "$root exists and belongs to someone else"
    fi
    mkdir -p "$root"
    chmod 700 "$root"
    if is_root; then chown postgres: "$root"; fi
    as_pg test -w "$root" -a -x "$root" || die "cluster owner cannot write to $root"
    printf '%s\n' "$root"
}

start_own_cluster() {
    local bindir ver pgroot pgdata port pid conf_dir attempt tries i started=0
    [[ ${SECURELOGIN_TEST_PG_PORT_START:-54329} =~ ^[0-9]+$ ]] ||
        die "SECURELOGIN_TEST_PG_PORT_START must be a port number"
    if ! bindir=$(highest_pg_bin initdb); then
        log "PostgreSQL server binaries missing: installing Debian's postgresql"
        apt_install postgresql postgresql-client
        bindir=$(highest_pg_bin initdb) || die "no /usr/lib/postgresql/*/bin/initdb after installing postgresql"
    fi
    if [ ! -x "$bindir/pg_ctl" ] || [ ! -x "$bindir/postgres" ]; then
        die "$bindir lacks pg_ctl or postgres"
    fi
    ver=${bindir#/usr/lib/postgresql/}
    ver=${ver%/bin}
    if is_root; then
        getent passwd postgres >/dev/null || die "user postgres does not exist (it comes with Debian's postgresql-common)"
    fi

    mkdir -p "$STATE"
    if command -v flock >/dev/null 2>&1; then
        exec 9>"$STATE/lock"
        flock -w 300 9 || die "timed out waiting for $STATE/lock"
    fi

    pgroot=$(choose_pg_root)
    pgdata=$pgroot/data
    printf '%s\n' "$pgroot" >"$STATE/pg.root"

    if pid=$(cluster_pid "$pgdata"); then
        port=$(sed -n 4p "$pgdata/postmaster.pid")
        log "reusing the running cluster in $pgdata (pid $pid, port $port)"
    else
        if [ -f "$pgdata/PG_VERSION" ] && [ "$(cat "$pgdata/PG_VERSION")" != "$ver" ]; then
            log "cluster in $pgdata is from PostgreSQL $(cat "$pgdata/PG_VERSION"), not $ver: recreating it"
            rm -rf -- "${pgdata:?}"
        fi
        if [ ! -f "$pgdata/PG_VERSION" ] || [ ! -f "$pgdata/postgresql.conf" ]; then
            rm -rf -- "${pgdata:?}"
            log "initdb (PostgreSQL $ver) in $pgdata"
            if ! as_pg "$bindir/initdb" -D "$pgdata" -U postgres -A trust -E UTF8 --locale=C \
                --no-sync >"$pgroot/initdb.log" 2>&1; then
                cat "$pgroot/initdb.log" >&2
                die "initdb failed"
            fi
            conf_dir=${pgroot//\'/\'\'}
            cat >>"$pgdata/postgresql.conf" <<EOF

# --- added by scripts/test-services.sh (throwaway test cluster) ---
listen_addresses = '127.0.0.1'
unix_socket_directories = '$conf_dir'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 200
EOF
        fi
        # No live postmaster owns this directory (we hold the lock): lock files left by
        # a crashed one would make the new server refuse to start when their pid is a
        # zombie or has been reused.
        if [ -e "$pgdata/postmaster.pid" ]; then
            log "removing the stale $pgdata/postmaster.pid"
            rm -f -- "$pgdata/postmaster.pid"
        fi
        rm -f -- "$pgroot"/.s.PGSQL.*
        port=${SECURELOGIN_TEST_PG_PORT_START:-54329}
        for attempt in 1 2 3; do
            tries=0
            while port_in_use "$port"; do
                port=$((port + 1))
                tries=$((tries + 1))
                [ "$tries" -lt 200 ] || die "no free port found near ${SECURELOGIN_TEST_PG_PORT_START:-54329}"
            done
            log "starting the cluster on 127.0.0.1:$port (attempt $attempt)"
            # fd 9 (the lock) must not be inherited by the server, or it would stay locked.
            if as_pg "$bindir/pg_ctl" -D "$pgdata" -l "$pgroot/server.log" -w -t 60 \
                -o "-p $port" start </dev/null >/dev/null 9>&-; then
                started=1
                break
            fi
            port=$((port + 1))
        done
        if [ "$started" != 1 ]; then
            tail -n 30 "$pgroot/server.log" >&2 || true
            die "could not start the cluster in $pgdata"
        fi
    fi

    if command -v flock >/dev/null 2>&1; then exec 9>&-; fi

    URL=postgresql://postgres@127.0.0.1:$port/postgres
    for i in $(seq 1 50); do
        pg_try "$URL" && return 0
        [ "$i" -lt 50 ] && sleep 0.2
    done
    die "the cluster in $pgdata does not answer on $URL (log: $pgroot/server.log)"
}

choose_postgres() {
    local probe user
    if [ -n "${SECURELOGIN_TEST_POSTGRES_URL:-}" ]; then
        if pg_try "$SECURELOGIN_TEST_POSTGRES_URL"; then
            URL=$SECURELOGIN_TEST_POSTGRES_URL
            log "PostgreSQL: using SECURELOGIN_TEST_POSTGRES_URL ($(redact "$URL"))"
            return 0
        fi
        log "SECURELOGIN_TEST_POSTGRES_URL ($(redact "$SECURELOGIN_TEST_POSTGRES_URL")) does not answer: looking for another server"
    fi

    probe=${SECURELOGIN_TEST_PG_PROBE_PORT-5432}
    if [ -n "$probe" ] && [ "$probe" != 0 ] && port_in_use "$probe"; then
        for user in postgres root; do
            if pg_try "postgresql://$user@127.0.0.1:$probe/postgres"; then
                URL=postgresql://$user@127.0.0.1:$probe/postgres
                log "PostgreSQL: using the server on 127.0.0.1:$probe as $user"
                return 0
            fi
        done
        log "a server answers on 127.0.0.1:$probe but lets neither postgres nor root in without a password"
    fi

    start_own_cluster
    log "PostgreSQL: using the throwaway cluster ($URL)"
}

# Major version printed by `$1 --version` (e.g. "pg_dump (PostgreSQL) 15.20 (Debian ...)").
tool_major() {
    local out
    out=$("$1" --version 2>/dev/null) || return 1
    out=$(printf '%s\n' "$out" | sed -nE '1s/^[^0-9]*([0-9]+).*/\1/p')
    [[ $out =~ ^[0-9]+$ ]] || return 1
    printf '%s\n' "$out"
}

# Succeeds (and may change PATH) when a pg_dump >= major $1 is reachable.
find_pg_dump() {
    local need=$1 p m d
    if p=$(command -v pg_dump 2>/dev/null) && m=$(tool_major "$p") && [ "$m" -ge "$need" ]; then
        log "pg_dump: $p (major $m) >= server major $need"
        return 0
    fi
    if d=$(highest_pg_bin pg_dump) && m=$(tool_major "$d/pg_dump") && [ "$m" -ge "$need" ]; then
        PATH=$d:$PATH
        PATH_CHANGED=1
        log "pg_dump: putting $d (major $m) in front of PATH (server major $need)"
        return 0
    fi
    return 1
}

ensure_pg_dump() {
    local num need
    num=$(PGCONNECT_TIMEOUT=5 "$PSQL" -X -w -Atq -d "$URL" -c 'show server_version_num') ||
        die "cannot read server_version_num from $(redact "$URL")"
    [[ $num =~ ^[0-9]+$ ]] || die "unexpected server_version_num: $num"
    need=$((num / 10000))
    find_pg_dump "$need" && return 0

    log "no pg_dump of major version >= $need on PATH or in /usr/lib/postgresql"
    if can_install; then
        if apt_has_package "postgresql-client-$need"; then
            apt_install "postgresql-client-$need"
        else
            apt_install postgresql-client
        fi
        find_pg_dump "$need" && return 0
    fi
    die "the PostgreSQL $need server needs pg_dump >= $need, and none is on PATH, in /usr/lib/postgresql/*/bin, or installable here: install postgresql-client-$need (Debian 12 itself ships only 15; PGDG's apt repository has newer ones) or point SECURELOGIN_TEST_POSTGRES_URL at a server no newer than the installed pg_dump"
}

# ------------------------------------------------------------------------ browser
has_cjk_font() {
    local fonts
    command -v fc-list >/dev/null 2>&1 || return 1
    fonts=$(fc-list 2>/dev/null) || return 1
    grep -qi 'wqy\|noto.*cjk' <<<"$fonts"
}

ensure_browser() {
    if [ "${SECURELOGIN_TEST_SKIP_BROWSER:-0}" = 1 ]; then
        log "browser: skipped (SECURELOGIN_TEST_SKIP_BROWSER=1)"
        return 0
    fi
    local missing=()
    [ -x /usr/bin/chromium ] || missing+=("/usr/bin/chromium")
    has_cjk_font || missing+=("a CJK font")
    if [ "${#missing[@]}" -gt 0 ]; then
        log "browser: missing ${missing[*]}"
        apt_install chromium fonts-wqy-microhei
        [ -x /usr/bin/chromium ] || die "/usr/bin/chromium still missing after installing chromium"
        has_cjk_font || die "no CJK font visible to fc-list after installing fonts-wqy-microhei"
    fi
    log "browser: /usr/bin/chromium and a CJK font are present"
}

# ------------------------------------------------------------------------- oathtool
# An independent TOTP generator: the tests log in with codes it computes (RFC 6238).
ensure_oathtool() {
    if ! command -v oathtool >/dev/null 2>&1; then
        log "oathtool: missing"
        apt_install oathtool
        command -v oathtool >/dev/null 2>&1 || die "oathtool still missing after installing it"
    fi
    log "oathtool: present"
}

# --------------------------------------------------------------------------- node
# Node.js 18 or newer runs the mobile key web app's JavaScript tests (node --test tests/js/).
ensure_node() {
    if ! command -v node >/dev/null 2>&1; then
        log "node: missing"
        apt_install nodejs
        command -v node >/dev/null 2>&1 || die "node still missing after installing nodejs"
    fi
    log "node: $(node --version)"
}

# -------------------------------------------------------------------------- redis
# redis-server: tests/integration/test_wakeups.py starts its own from a temporary folder
# (Redis pub/sub wake-ups across processes); nothing here runs it.
ensure_redis() {
    if ! command -v redis-server >/dev/null 2>&1 && [ ! -x /usr/bin/redis-server ]; then
        log "redis-server: missing"
        # a package whose service cannot start in a container must not stop the run:
        # without the binary the one Redis test says so and is skipped
        if ! (apt_install redis-server); then
            log "redis-server: could not be installed; the Redis wake-up test will skip"
            return 0
        fi
    fi
    log "redis-server: $(command -v redis-server || echo /usr/bin/redis-server)"
}

# --------------------------------------------------------------------------- main
main() {
    STATE=${SECURELOGIN_TEST_STATE:-$PWD/.cache/test-services}
    case $STATE in
    /*) ;;
    *) STATE=$PWD/$STATE ;;
    esac
    URL=""
    PATH_CHANGED=0

    ensure_psql
    choose_postgres
    ensure_browser
    ensure_oathtool
    ensure_node
    ensure_redis
    ensure_pg_dump

    add_export SECURELOGIN_TEST_POSTGRES_URL "$URL"
    if [ "$PATH_CHANGED" = 1 ]; then add_export PATH "$PATH"; fi
    printf '%s\n' "${EXPORTS[@]}" >"$1"
}

# The work runs in a subshell whose stdout is our stderr, so that no process it starts
# (the PostgreSQL server, a daemon started by a package's install script) inherits the
# stdout pipe of `$(scripts/test-services.sh)`, which would then never reach EOF.
# The export lines are printed only at the end, and only on success.
EXPORTS_FILE=$(mktemp)
trap 'rm -f "$EXPORTS_FILE"' EXIT
(
    exec 1>&2
    main "$EXPORTS_FILE"
)
cat "$EXPORTS_FILE"
