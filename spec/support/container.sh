#!/usr/bin/env bash
# Boot a real systemd in a throw-away container, for integration tests.
#
#   container.sh boot STATE_DIR UNIT_DIR [--net] [--bind=HOST:CONT]... [--bind-ro=HOST:CONT]...
#   container.sh exec STATE_DIR CMD [ARGS...]
#   container.sh stop STATE_DIR
#   container.sh check
#
# Method (see /work/shared/design/docs/design.md): the container's root is
# an overlay whose lower layer is the host's / and whose upper layer is a
# tmpfs, so everything the tests do inside (useradd, /tmp, /etc) is thrown
# away. UNIT_DIR is bind-mounted over /etc/systemd/system, which also hides
# the host's enabled units.
#
# Processes, per STATE_DIR (tag = ufct-<random>, stored in STATE_DIR/tag):
#
#   supervisor  bash started by `boot` under `unshare -m` + setsid. It owns a
#               private mount namespace (tmpfs /run, tmpfs upper layer,
#               overlay), runs nspawn and unmounts after nspawn exits. It must
#               outlive `boot`, because the mounts only exist in its namespace.
#   nspawn      systemd-nspawn --boot; SIGTERM to it = clean poweroff.
#   pid1        the container's systemd; `exec` enters it with nsenter -a,
#               which needs no access to the supervisor's mount namespace.
#
# Cgroups: /sys/fs/cgroup/<tag> (pure cgroup2) or the same path below
# .../systemd and .../unified (hybrid) or .../systemd (legacy):
#   <tag>/harness           the supervisor shell
#   <tag>/nspawn            nspawn; it adds nspawn/payload (container) and
#                           nspawn/supervisor (itself)
# <tag> itself holds no process, so cgroup2 controllers can be delegated.
# Every process in <tag> was started by us: that is what `stop` may kill.
#
# Notes:
# - Only the root *filesystem* is the lower layer: files on other host mounts
#   (a separate /home, /tmp, ...) are not visible inside unless --bind'ed.
#   Host changes to / while the container runs are not reliably visible
#   either: --bind what the test writes after boot.
# - STATE_DIR, UNIT_DIR and bind sources must not be below /run (the
#   supervisor hides the host's /run under a tmpfs).
# - `exec` runs CMD with a clean environment (PATH, HOME, LANG, TERM); use
#   `exec STATE env VAR=x CMD` to pass more. cwd is the container's /.
# - Harness errors exit 125 (exec) / 1 (boot, stop); check exits 77 to skip.
# - Always pair boot with stop (e.g. in an EXIT trap): the container is
#   detached from the caller (setsid) and outlives it otherwise.
# - The supervisor exits last and is reparented to PID 1; until PID 1 reaps
#   it, it shows as a zombie (this machine's PID 1 does so only every ~2 s).
# - Processes started by `exec` stay in the caller's cgroup (not the
#   container's), and `stop` terminates any still running (see terminate_execs).
#
# Tunables: UFCT_BOOT_TIMEOUT (s, default 30), UFCT_STOP_TIMEOUT (s, default 10).

set -u -o pipefail

SELF=$(readlink -f "${BASH_SOURCE[0]}"); readonly SELF
readonly PROG=container.sh
readonly BOOT_TIMEOUT=${UFCT_BOOT_TIMEOUT:-30}
readonly STOP_TIMEOUT=${UFCT_STOP_TIMEOUT:-10}
readonly CLEAN_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

# Files the harness creates in STATE_DIR (and only these are removed by stop).
# (.#merged.lck is nspawn's image lock; it stays behind if nspawn is killed.)
readonly STATE_FILES=(tag supervisor.pid nspawn.pid pid1 status console.log supervisor.log .#merged.lck)
readonly STATE_DIRS=(merged layer)   # mount points, removed with rmdir only

# ---------------------------------------------------------------- helpers

warn() { echo "$PROG: $*" >&2; }
die()  { warn "$@"; exit 1; }

usage() {
    sed -n '4,7p' "$SELF" | sed 's/^# */usage: /' >&2
    exit 2
}

# Milliseconds since the epoch, into NOW_MS (no subshell: called in loops).
now_ms() { local t=${EPOCHREALTIME/[.,]/}; NOW_MS=$((t / 1000)); }

# Sleep in small steps; `sleep` accepts fractions on Debian (coreutils).
nap() { sleep "${1:-0.05}"; }

# Absolute path without requiring it to exist.
abspath() { realpath -m -- "$1"; }

# True if PID exists and is not a zombie (a zombie whose parent does not reap
# it must count as dead, or stop would wait forever).
pid_alive() {
    local pid=$1 stat
    [[ $pid =~ ^[0-9]+$ ]] || return 1
    read -r stat 2>/dev/null < "/proc/$pid/stat" || return 1
    stat=${stat##*) }
    [[ ${stat%% *} != Z ]]
}

read_file() { local v=; [[ -r $1 ]] && read -r v < "$1"; printf '%s' "$v"; }

# Cgroup hierarchies we use, into CGROUP_ROOTS (set once, by main).
detect_cgroup_roots() {
    local line
    CGROUP_ROOTS=()
    if [[ $(stat -fc %T /sys/fs/cgroup 2> /dev/null) == cgroup2fs ]]; then
        CGROUP_ROOTS=(/sys/fs/cgroup)                   # pure cgroup2
        return
    fi
    # hybrid/legacy: name=systemd (v1) and, if present, the unified (v2) tree
    while read -r line; do
        [[ $line == *" cgroupfs" || $line == *" cgroup2fs" ]] && CGROUP_ROOTS+=("${line% *}")
    done < <(stat -fc '%n %T' /sys/fs/cgroup/systemd /sys/fs/cgroup/unified 2> /dev/null)
    return 0
}

# True if PID lives in our tag's cgroup subtree, i.e. we started it.
pid_is_ours() {
    local pid=$1 tag=$2 line
    pid_alive "$pid" || return 1
    while read -r line; do
        [[ $line == *":/$tag/"* || $line == *":/$tag" ]] && return 0
    done 2>/dev/null < "/proc/$pid/cgroup"
    return 1
}

# Move PID into <tag>/<sub> in every hierarchy (creating it).
join_cgroup() {
    local tag=$1 sub=$2 pid=$3 root
    for root in "${CGROUP_ROOTS[@]}"; do
        mkdir -p "$root/$tag/$sub" && echo "$pid" > "$root/$tag/$sub/cgroup.procs" || return 1
    done
}

# All PIDs in the tag's cgroups (all hierarchies), de-duplicated.
tag_pids() {
    local tag=$1 root
    for root in "${CGROUP_ROOTS[@]}"; do
        [[ -d $root/$tag ]] && find "$root/$tag" -name cgroup.procs -exec cat {} + 2>/dev/null
    done | sort -un
}

# Remove the tag's cgroup trees, deepest first. Retries briefly: a cgroup
# stays busy for a moment after its last process was reaped.
remove_cgroups() {
    local tag=$1 root left i
    for ((i = 0; i < 50; i++)); do
        left=0
        for root in "${CGROUP_ROOTS[@]}"; do
            [[ -d $root/$tag ]] || continue
            find "$root/$tag" -depth -type d -exec rmdir {} + 2>/dev/null
            [[ -d $root/$tag ]] && left=1
        done
        ((left)) || return 0
        nap 0.1
    done
    warn "could not remove cgroup(s): $(find /sys/fs/cgroup -maxdepth 2 -name "$tag" | tr '\n' ' ')"
    return 1
}

new_machine_id() {
    systemd-id128 new 2>/dev/null || tr -d '-' < /proc/sys/kernel/random/uuid
}

# Close every inherited fd above 2, so a background supervisor never holds a
# caller's pipe open (test runners wait for EOF on those).
close_inherited_fds() {
    local fd
    for fd in "/proc/$BASHPID/fd/"*; do
        fd=${fd##*/}
        ((fd > 2)) && eval "exec $fd>&-" 2>/dev/null
    done
    return 0
}

# The supervisor hides the host's /run under a tmpfs: paths there vanish.
reject_under_run() {
    [[ $1 == /run || $1 == /run/* || $1 == /var/run/* ]] &&
        die "$2 must not be below /run (hidden by the harness): $1"
    return 0
}

# Make the host side of --bind=SRC[:DST[:OPTS]] absolute (nspawn wants that).
absolute_bind() {
    local opt=${1%%=*} spec=${1#*=} src rest=
    src=${spec%%:*}
    [[ $spec == *:* ]] && rest=:${spec#*:}
    [[ -n $src ]] || die "empty source in $1"
    [[ $src == +* ]] || src=$(abspath "$src")     # '+' = relative to the container root
    [[ $src == +* ]] || reject_under_run "$src" "bind source"
    [[ $src == +* || -e $src ]] || die "bind source does not exist: $src"
    printf '%s=%s%s\n' "$opt" "$src" "$rest"
}

# ---------------------------------------------------------------- supervisor

# Runs as `unshare -m --propagation private bash SELF _supervise STATE TAG UNIT_DIR NSPAWN_ARGS...`,
# with stdout/stderr in STATE/supervisor.log. Exits after nspawn exits.
supervise() {
    local state=$1 tag=$2 unit_dir=$3; shift 3
    local merged=$state/merged layer=$state/layer nspawn rc

    echo $$ > "$state/supervisor.pid"
    join_cgroup "$tag" harness $$ || { echo "cannot join cgroup $tag"; exit 1; }

    # Private /run: nspawn keeps locks and runtime state there; the host's
    # /run may be on disk and is shared by parallel runs.
    mount -t tmpfs -o mode=0755 "$tag-run" /run || exit 1
    mount -t tmpfs -o mode=0755 "$tag-layer" "$layer" || exit 1
    mkdir "$layer/upper" "$layer/work" || exit 1
    mount -t overlay "$tag-root" \
        -o "lowerdir=/,upperdir=$layer/upper,workdir=$layer/work" "$merged" || exit 1
    # A fresh identity, so journald & co. don't collide with the host's.
    new_machine_id > "$merged/etc/machine-id" || exit 1

    # nspawn goes into its own cgroup (not ours), see the header.
    (
        join_cgroup "$tag" nspawn "$BASHPID" || exit 1
        exec systemd-nspawn -D "$merged" -M "$tag" --register=no --keep-unit \
            --console=pipe -q --bind="$unit_dir:/etc/systemd/system" "$@" --boot
    ) < /dev/null > "$state/console.log" 2>&1 &
    nspawn=$!
    echo "$nspawn" > "$state/nspawn.pid"

    # A TERM/INT/HUP to us means "shut the container down", like stop does.
    trap 'kill -TERM "$nspawn" 2>/dev/null' TERM INT HUP
    while :; do
        wait "$nspawn"; rc=$?
        pid_alive "$nspawn" || break    # else: wait was interrupted by the trap
    done
    echo "nspawn exited with status $rc"

    umount "$merged" && umount "$layer" && umount /run
    # Whatever is left goes away with this mount namespace when we exit.
}

# ---------------------------------------------------------------- boot

# Print the container's PID 1 (the process of the tag's cgroup that is PID 1
# of its own pid namespace and already runs systemd), or fail.
find_pid1() {
    local tag=$1 pid nspid exe
    for pid in $(tag_pids "$tag"); do
        nspid=$(grep -s '^NSpid:' "/proc/$pid/status") || continue
        [[ $nspid =~ [[:space:]]1$ && ! $nspid =~ ^NSpid:[[:space:]]+[0-9]+$ ]] || continue
        exe=$(readlink "/proc/$pid/exe" 2>/dev/null) || continue
        [[ $exe == */systemd ]] || continue   # still nspawn's child before exec
        echo "$pid"
        return 0
    done
    return 1
}

# Show the end of the logs, for a failed boot.
dump_logs() {
    local state=$1 f
    for f in supervisor.log console.log; do
        [[ -s $state/$f ]] || continue
        warn "--- last lines of $state/$f:"
        tail -n 20 "$state/$f" | sed 's/^/    /' >&2
    done
}

boot_failed() {
    local state=$1; shift
    warn "boot failed: $*"
    dump_logs "$state"
    cmd_stop "$state" >&2 || true
    exit 1
}

# Wait until the container's systemd is up: running or degraded.
# One `is-system-running --wait` returns when startup is finished (and at
# once with "offline" while the manager's socket doesn't exist yet). It runs
# in the background so we can watch nspawn and the deadline meanwhile; if we
# give up, stop's terminate_execs ends it.
wait_until_running() {
    local state=$1 tag=$2 launcher=$3 deadline pid1='' status='' nspawn='' waiter=''
    now_ms; deadline=$((NOW_MS + BOOT_TIMEOUT * 1000))
    while now_ms; ((NOW_MS < deadline)); do
        if [[ -z $nspawn ]]; then
            pid_alive "$launcher" || boot_failed "$state" "supervisor exited early"
            nspawn=$(read_file "$state/nspawn.pid")
        elif ! pid_alive "$nspawn"; then
            boot_failed "$state" "systemd-nspawn exited"
        elif [[ -z $pid1 ]]; then
            pid1=$(find_pid1 "$tag") && echo "$pid1" > "$state/pid1"
        elif [[ -z $waiter ]]; then
            in_container "$pid1"
            "${IN_CONTAINER[@]}" systemctl is-system-running --wait \
                > "$state/status" 2> /dev/null < /dev/null &
            waiter=$!
        elif ! pid_alive "$waiter"; then
            status=$(read_file "$state/status")
            waiter=''
            case $status in
                running|degraded) return 0 ;;
                maintenance|stopping) boot_failed "$state" "systemd is $status" ;;
            esac
        fi
        nap
    done
    boot_failed "$state" "systemd not running after ${BOOT_TIMEOUT}s (last status: ${status:-none}, pid1: ${pid1:-not found})"
}

cmd_boot() {
    (($# >= 2)) || usage
    local state unit_dir tag launcher arg
    local -a nspawn_args=()
    state=$(abspath "$1"); unit_dir=$(abspath "$2"); shift 2
    for arg; do
        case $arg in
            --net) nspawn_args+=("--capability=CAP_NET_ADMIN,CAP_BPF" --system-call-filter=bpf) ;;
            --bind=*|--bind-ro=*) arg=$(absolute_bind "$arg") || exit 1
                                  nspawn_args+=("$arg") ;;
            *) die "boot: unknown option: $arg" ;;
        esac
    done

    [[ -d $unit_dir ]] || die "UNIT_DIR is not a directory: $unit_dir"
    [[ $state$unit_dir != *[,:]* ]] || die "STATE_DIR/UNIT_DIR must not contain ',' or ':'"
    reject_under_run "$state" STATE_DIR
    reject_under_run "$unit_dir" UNIT_DIR
    mkdir -p "$state" || die "cannot create $state"
    [[ ! -e $state/tag ]] || die "$state is in use (run stop first)"

    tag=ufct-$(tr -d '-' < /proc/sys/kernel/random/uuid | cut -c1-12)
    # The tag is written first: from here on `stop` can clean up.
    if ! { echo "$tag" > "$state/tag" && mkdir -p "$state/merged" "$state/layer"; }; then
        die "cannot write to $state"
    fi

    (
        close_inherited_fds
        # -w: if setsid has to fork, it waits, so $launcher lives as long as the supervisor
        exec setsid -w unshare -m --propagation private \
            bash "$SELF" _supervise "$state" "$tag" "$unit_dir" "${nspawn_args[@]}"
    ) < /dev/null > "$state/supervisor.log" 2>&1 &
    launcher=$!

    wait_until_running "$state" "$tag" "$launcher"
}

# ---------------------------------------------------------------- exec

# Sets IN_CONTAINER to the command prefix that runs a command in the
# container of PID1: all its namespaces (root and cwd = the container's /) and
# a clean environment, as the caller's (NOTIFY_SOCKET, SYSTEMD_*...) would leak.
in_container() {
    IN_CONTAINER=(nsenter -t "$1" -a env -i PATH="$CLEAN_PATH" HOME=/root
                  LANG=C.UTF-8 TERM="${TERM:-dumb}")
}

cmd_exec() {
    (($# >= 2)) || usage
    local state tag pid1
    state=$(abspath "$1"); shift
    tag=$(read_file "$state/tag")
    pid1=$(read_file "$state/pid1")
    if [[ -z $tag || -z $pid1 ]] || ! pid_is_ours "$pid1" "$tag"; then
        warn "exec: no running container in $state"
        exit 125
    fi
    in_container "$pid1"
    exec "${IN_CONTAINER[@]}" "$@"
}

# ---------------------------------------------------------------- stop

# Wait until none of PIDS is alive or TIMEOUT seconds passed.
wait_gone() {
    local timeout=$1 deadline pid alive; shift
    now_ms; deadline=$((NOW_MS + timeout * 1000))
    while :; do
        alive=0
        for pid; do pid_alive "$pid" && alive=1; done
        ((alive)) || return 0
        now_ms; ((NOW_MS < deadline)) || return 1
        nap
    done
}

# PIDs of the nsenter processes of `exec`s still running in this container.
exec_nsenters() {
    local pid1=$1 f pid
    local -a argv
    # Cheap prefilter: an argv element equal to pid1 (grep matches itself too).
    while read -r f; do
        pid=${f#/proc/}; pid=${pid%/cmdline}
        mapfile -d '' -t argv 2> /dev/null < "$f" || continue
        [[ ${argv[0]-} == nsenter && ${argv[1]-} == -t && ${argv[2]-} == "$pid1" &&
           ${argv[3]-} == -a ]] && echo "$pid"
    done < <(grep -lszxF -- "$pid1" /proc/[0-9]*/cmdline)
}

# Gotchas with commands still running through `exec` when the container
# shuts down. nsenter runs CMD as its child inside the container's pid
# namespace, so:
# - CMD's parent is outside the container. When CMD dies, the container's
#   PID 1 gets no SIGCHLD, and systemd-shutdown, which waits for every process
#   it signalled, only notices at its 90 s timeout.
# - systemd-shutdown begins with kill(-1, SIGSTOP). nsenter mirrors a stopped
#   child by stopping itself (job control) and then waits for a SIGCONT that
#   never comes, so it never reaps CMD either.
# Hence before powering off we end those commands (started by us) ourselves:
# SIGCONT the nsenter, signal its child, let nsenter reap it and exit.
terminate_execs() {
    local pid1=$1 ns sig child
    local -a nsenters children
    [[ -n $pid1 ]] || return 0
    mapfile -t nsenters < <(exec_nsenters "$pid1")
    ((${#nsenters[@]})) || return 0
    for sig in TERM KILL; do
        for ns in "${nsenters[@]}"; do
            kill -CONT "$ns" 2> /dev/null
            # nsenter is single-threaded: its task lists all its children
            # (no trailing newline there: read "fails" but fills the array)
            children=()
            read -r -a children 2> /dev/null < "/proc/$ns/task/$ns/children"
            for child in "${children[@]}"; do
                kill -"$sig" "$child" 2> /dev/null
            done
        done
        wait_gone 2 "${nsenters[@]}" && return 0
    done
    warn "stop: exec'd commands still running: ${nsenters[*]}"
}

# SIGTERM to nspawn = clean poweroff of the container. Wait for it, else
# SIGKILL nspawn (the container itself is then left to kill_tag).
stop_nspawn() {
    local nspawn=$1 pid1=$2 deadline
    kill -TERM "$nspawn" 2>/dev/null
    now_ms; deadline=$((NOW_MS + STOP_TIMEOUT * 1000))
    while pid_alive "$nspawn"; do
        terminate_execs "$pid1"            # an exec may have raced with us
        now_ms
        if ((NOW_MS >= deadline)); then
            warn "stop: nspawn did not exit within ${STOP_TIMEOUT}s, killing"
            kill -KILL "$nspawn" 2>/dev/null
            return 1
        fi
        nap
    done
}

# SIGKILL everything in the tag's cgroups until they are empty.
kill_tag() {
    local tag=$1 i pids
    for ((i = 0; i < 50; i++)); do
        pids=$(tag_pids "$tag")
        [[ -z $pids ]] && return 0
        # shellcheck disable=SC2086 # one PID per word
        kill -KILL $pids 2>/dev/null
        nap 0.1
    done
    warn "processes survive SIGKILL in cgroup $tag: $pids"
    return 1
}

# The supervisor can die before it joined its cgroup: recognise it by argv.
supervisor_pid() {
    local state=$1 pid
    pid=$(read_file "$state/supervisor.pid")
    pid_alive "$pid" && grep -qzxF -- "$state" "/proc/$pid/cmdline" 2>/dev/null &&
        grep -qzxF _supervise "/proc/$pid/cmdline" 2>/dev/null && echo "$pid"
}

remove_state_files() {
    local state=$1 f d
    local -a files=() dirs=()
    for f in "${STATE_FILES[@]}"; do [[ -e $state/$f ]] && files+=("$state/$f"); done
    for d in "${STATE_DIRS[@]}"; do [[ -d $state/$d ]] && dirs+=("$state/$d"); done
    ((${#files[@]} == 0)) || rm -f -- "${files[@]}" || return 1
    # rmdir, never rm -r: if a mount were still visible here, rm -r would
    # delete through it into the host's root filesystem.
    ((${#dirs[@]} == 0)) || rmdir -- "${dirs[@]}"
}

cmd_stop() {
    (($# == 1)) || usage
    local state tag nspawn pid1 sup ok=0
    state=$(abspath "$1")
    [[ -d $state ]] || return 0
    tag=$(read_file "$state/tag")
    if [[ -z $tag ]]; then                 # never booted (or already stopped)
        remove_state_files "$state"
        return
    fi

    # 1. clean poweroff
    nspawn=$(read_file "$state/nspawn.pid")
    pid1=$(read_file "$state/pid1")
    if pid_is_ours "$nspawn" "$tag"; then
        terminate_execs "$pid1"
        stop_nspawn "$nspawn" "$pid1"
    fi
    # 2. the supervisor unmounts and exits right after nspawn
    sup=$(supervisor_pid "$state")
    if [[ -n $sup ]] && ! wait_gone 5 "$sup"; then
        warn "stop: supervisor $sup still running, killing"
        kill -KILL "$sup" 2>/dev/null
    fi
    # 3. anything left in our cgroups was started by us: kill it
    kill_tag "$tag" || ok=1
    terminate_execs "$pid1"               # if the container died under them
    remove_cgroups "$tag" || ok=1
    ((ok == 0)) && { remove_state_files "$state" || ok=1; }
    return $ok
}

# ---------------------------------------------------------------- check

# One-line reason on stdout if containers can't be booted here.
why_not() {
    local c root d
    ((EUID == 0)) || { echo "not root"; return; }
    for c in systemd-nspawn nsenter unshare setsid mount umount; do
        command -v "$c" > /dev/null || { echo "$c not found (apt-get install systemd-container util-linux)"; return; }
    done
    [[ -x /lib/systemd/systemd || -x /usr/lib/systemd/systemd ]] || { echo "systemd not installed"; return; }

    ((${#CGROUP_ROOTS[@]})) ||
        { echo "no cgroup hierarchy usable by systemd under /sys/fs/cgroup"; return; }
    for root in "${CGROUP_ROOTS[@]}"; do
        if ! { mkdir "$root/ufct-check-$$" && rmdir "$root/ufct-check-$$"; } 2> /dev/null; then
            echo "cgroup hierarchy $root is not writable"; return
        fi
    done

    d=$(mktemp -d) || { echo "mktemp failed"; return; }
    # shellcheck disable=SC2016
    unshare -m --propagation private sh -c '
        mount -t tmpfs ufct-check "$1" && mkdir "$1/u" "$1/w" "$1/m" &&
        mount -t overlay ufct-check -o "lowerdir=/,upperdir=$1/u,workdir=$1/w" "$1/m" &&
        test -e "$1/m/etc/os-release"' sh "$d" > /dev/null 2>&1
    c=$?
    rmdir "$d"
    ((c == 0)) || { echo "cannot mount an overlay of / (unshare/tmpfs/overlayfs)"; return; }
}

cmd_check() {
    local reason
    reason=$(why_not)
    [[ -z $reason ]] && return 0
    echo "$PROG: cannot boot systemd containers here: $reason"
    exit 77
}

# ---------------------------------------------------------------- main

main() {
    (($# >= 1)) || usage
    local cmd=$1; shift
    detect_cgroup_roots
    case $cmd in
        boot)  cmd_boot "$@" ;;
        exec)  cmd_exec "$@" ;;
        stop)  cmd_stop "$@" ;;
        check) cmd_check "$@" ;;
        _supervise) supervise "$@" ;;
        *) usage ;;
    esac
}

# On one line: bash reads a script as it runs it, and the supervisor runs for
# long; if this file is edited meanwhile, `exit` stops it from reading on.
main "$@"; exit
