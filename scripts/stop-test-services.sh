#!/usr/bin/env bash
# scripts/stop-test-services.sh [--purge] - stop the throwaway PostgreSQL cluster that
# scripts/test-services.sh started, and nothing else.
#
# It finds the cluster through $SECURELOGIN_TEST_STATE/pg.root (written by
# test-services.sh; SECURELOGIN_TEST_STATE defaults to $PWD/.cache/test-services), checks
# that the data directory carries test-services.sh's marker in postgresql.conf, and
# stops the postmaster named in that directory's postmaster.pid with a fast shutdown
# (SIGINT, as `pg_ctl stop -m fast` does; SIGQUIT after 60 s). A server it did not start
# (the one on port 5432, one given by SECURELOGIN_TEST_POSTGRES_URL) is never touched.
# Without such a cluster it does nothing and exits 0.
#
#   --purge   also delete the cluster's directory (its data) once it is stopped.
#
# Messages go to stderr with a "test-services:" prefix; nothing is printed on stdout.
set -euo pipefail

log() { printf 'test-services: %s\n' "$*" >&2; }
die() {
    log "ERROR: $*"
    exit 1
}

purge=0
for arg in "$@"; do
    case $arg in
    --purge) purge=1 ;;
    -h | --help)
        sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//' >&2
        exit 0
        ;;
    *) die "unknown argument: $arg (usage: $0 [--purge])" ;;
    esac
done

STATE=${SECURELOGIN_TEST_STATE:-$PWD/.cache/test-services}
case $STATE in
/*) ;;
*) STATE=$PWD/$STATE ;;
esac
pointer=$STATE/pg.root
marker='# --- added by scripts/test-services.sh (throwaway test cluster) ---'

if [ ! -f "$pointer" ]; then
    log "no throwaway cluster recorded in $STATE: nothing to stop"
    exit 0
fi
pgroot=$(head -n 1 "$pointer")
pgdata=$pgroot/data
case $pgroot in
/*) ;;
*) die "$pointer does not hold an absolute path: $pgroot" ;;
esac
if [ ! -f "$pgdata/postgresql.conf" ] || ! grep -qxF -- "$marker" "$pgdata/postgresql.conf"; then
    log "$pgdata is not a cluster made by test-services.sh: nothing to stop"
    exit 0
fi

# Succeeds while process $1 lives (a zombie waiting to be reaped counts as gone).
alive() {
    kill -0 "$1" 2>/dev/null || return 1
    case $(sed -E 's/^.*\) (.).*$/\1/' "/proc/$1/stat" 2>/dev/null) in
    Z | X | x) return 1 ;;
    esac
}

# Pid of the live postmaster of $pgdata, if any.
cluster_pid() {
    local f=$pgdata/postmaster.pid pid
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

if pid=$(cluster_pid); then
    log "stopping the throwaway cluster in $pgdata (pid $pid)"
    kill -INT "$pid"
    for _ in $(seq 1 600); do
        alive "$pid" || break
        sleep 0.1
    done
    if alive "$pid"; then
        log "fast shutdown did not finish in 60 s: immediate shutdown"
        kill -QUIT "$pid" 2>/dev/null || true
        for _ in $(seq 1 100); do
            alive "$pid" || break
            sleep 0.1
        done
        if alive "$pid"; then die "postmaster $pid is still running"; fi
    fi
    log "stopped"
else
    log "the throwaway cluster in $pgdata is not running"
fi

if [ "$purge" = 1 ]; then
    log "removing $pgroot"
    rm -rf -- "${pgroot:?}"
    rm -f -- "$pointer"
fi
