#!/usr/bin/env bash
# End-to-end proof that container.sh works: boot systemd, create a user, run a
# unit as that user, check its environment, stop, and check that no process,
# mount or cgroup is left behind.
#
#   spec/support/container_smoke.sh        exit 0 ok, 1 failure, 77 skipped
#
# Prints "boot X ms, stop Y ms" on success.

set -u -o pipefail

HARNESS=$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/container.sh
FAILED=0

fail() { echo "FAIL: $*" >&2; FAILED=1; }
ms()   { local t=${EPOCHREALTIME/[.,]/}; echo $((t / 1000)); }

# Everything that could outlive `stop`, by tag and state dir: processes (by
# cgroup or argv), mounts in *any* mount namespace, cgroup directories.
leftovers() {
    local tag=$1 state=$2
    grep -ls -- "$tag" /proc/[0-9]*/cgroup | sed 's/^/process cgroup: /'
    # pattern from a file, so that grep's own argv does not match
    grep -lsFf <(echo "$state") /proc/[0-9]*/cmdline | grep -v "^/proc/$$/" | sed 's/^/process argv: /'
    grep -ls -- "$tag" /proc/[0-9]*/mounts | sed 's/^/mount ns of: /'
    find /sys/fs/cgroup -maxdepth 3 -name "$tag*" | sed 's/^/cgroup: /'
    find "$state" -mindepth 1 | sed 's/^/state file: /'
}

write_unit() {
    cat > "$1/ufsmoke.service" <<'EOF'
[Unit]
Description=container.sh smoke test

[Service]
Type=exec
User=ufsmoke
Environment="MYVAR=hello world"
ExecStart=/bin/sh -c 'echo $MYVAR > /tmp/x; exec sleep 1000'
EOF
}

inside() { "$HARNESS" exec "$STATE" "$@"; }

# Checks inside the booted container.
check_service() {
    local pid user

    inside useradd --system ufsmoke || fail "useradd"
    inside systemctl daemon-reload || fail "daemon-reload"
    inside systemctl start ufsmoke.service || fail "start"
    [[ $(inside systemctl is-active ufsmoke.service) == active ]] || fail "not active"

    pid=$(inside systemctl show -p MainPID --value ufsmoke.service)
    [[ $pid =~ ^[1-9][0-9]*$ ]] || { fail "no MainPID ($pid)"; return; }
    user=$(inside stat -c %U "/proc/$pid")
    [[ $user == ufsmoke ]] || fail "MainPID runs as '$user'"
    inside cat "/proc/$pid/environ" | tr '\0' '\n' | grep -qFx 'MYVAR=hello world' ||
        fail "MYVAR missing from environ"
    [[ $(inside cat /tmp/x) == "hello world" ]] || fail "/tmp/x inside"

    # exec passes exit status and stderr through; the host is untouched
    inside sh -c 'echo oops >&2; exit 7' 2> /dev/null; [[ $? == 7 ]] || fail "exit status not passed"
    ! grep -q '^ufsmoke:' /etc/passwd || fail "user leaked to host /etc/passwd"
    [[ $(inside cat /etc/machine-id) != "$(cat /etc/machine-id 2>/dev/null)" ]] || fail "same machine-id"
}

main() {
    "$HARNESS" check || exit $?

    local units tag t0 t1 t2 t3 rest
    TMP=$(mktemp -d /tmp/ufsmoke.XXXXXX)
    STATE=$TMP/state units=$TMP/units
    mkdir "$STATE" "$units"
    # stop is idempotent: harmless after the explicit stop below
    trap '"$HARNESS" stop "$STATE"; rm -rf "$TMP"' EXIT
    write_unit "$units"

    t0=$(ms)
    "$HARNESS" boot "$STATE" "$units" < /dev/null || { echo "FAIL: boot" >&2; exit 1; }
    t1=$(ms)
    tag=$(cat "$STATE/tag")

    check_service

    t2=$(ms)
    "$HARNESS" stop "$STATE" || fail "stop"
    t3=$(ms)
    "$HARNESS" stop "$STATE" || fail "second stop"
    "$HARNESS" exec "$STATE" true 2> /dev/null; [[ $? == 125 ]] || fail "exec after stop"

    # The supervisor exits last and is reparented to PID 1, so it stays a
    # zombie until PID 1 reaps it (this machine's init does so only every
    # ~2 s). Poll for a while before calling anything a leftover.
    for _ in {1..50}; do
        rest=$(leftovers "$tag" "$STATE")
        [[ -z $rest ]] && break
        sleep 0.1
    done
    [[ -z $rest ]] || fail "left behind:"$'\n'"$rest"

    ((FAILED)) && exit 1
    echo "ok: boot $((t1 - t0)) ms, stop $((t3 - t2)) ms ($tag)"
}

main "$@"
