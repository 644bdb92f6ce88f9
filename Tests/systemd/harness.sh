#!/bin/bash
# harness.sh - a real systemd (PID 1 of private namespaces) and its journald, on a machine
# whose PID 1 is not systemd (CI runners, containers), for the systemd integration tests.
#
#   harness.sh start           boot a FRESH instance (one left over in the state dir is
#                              stopped and cleaned up first); returns when
#                              `systemctl is-system-running` says running or degraded (a
#                              host unit failing inside is not the tests' concern: they judge
#                              only the units they start)
#   harness.sh exec CMD [ARG]  run CMD inside (systemctl, journalctl...); CMD's exit status
#   harness.sh stop            poweroff, SIGKILL after $HARNESS_STOP_TIMEOUT s, clean up
#   harness.sh status          "up: host pid N" + system state (exit 0), or "down" (exit 3)
#   harness.sh -- CMD [ARG]    boot if not up, run CMD, stop again if this call booted
#
# Environment:
#   HARNESS_STATE         state dir (default /tmp/rtu-systemd-harness): pid, masks,
#                         console.log (systemd's own output), launcher.log. One instance
#                         per state dir.
#   HARNESS_NET=private   own network namespace (only lo). Default: the host's, so that a
#                         .socket unit on 127.0.0.1:PORT is reachable from the tests.
#   HARNESS_MASK          extra unit names to mask (space separated)
#   HARNESS_BOOT_TIMEOUT  seconds (default 30); HARNESS_STOP_TIMEOUT seconds (default 20)
#
# Needs root, util-linux (unshare, nsenter, mountpoint) and systemd (Debian 12: 252).
#
# SAFETY. The root filesystem is SHARED with the host (so unit files written to
# /etc/systemd/system and binaries anywhere are seen inside after `daemon-reload`). Private:
# PID, mount, UTS, IPC and cgroup namespaces; /run (tmpfs: the journal lives in
# /run/log/journal and vanishes on stop); /dev (an overlay on the host's /dev, so the
# /dev/log, /dev/initctl symlinks systemd creates stay inside); /dev/shm, /dev/mqueue;
# /sys (read-only); /sys/fs/cgroup (a cgroup2 rooted at a dedicated cgroup);
# /var/log/journal (tmpfs, if it exists); /dev/console (-> console.log); /dev/kmsg.
# Because the root fs is shared, everything a stock boot would do to the host is MASKED
# (symlinks to /dev/null in /run/systemd/system.control, the highest precedence):
# notably systemd-tmpfiles-setup (Debian's tmp.conf says "D /tmp": it would WIPE THE
# HOST'S /tmp), tmpfiles-clean, sysusers, sysctl, modules-load, binfmt, random-seed,
# timesyncd, journal-flush, every unit the early targets want, and all timers.
# Generators are disabled. Only basic.target is booted (never multi-user.target: the
# host's enabled services stay off). Left as side effects of systemd PID 1 itself:
# fs.file-max = LONG_MAX (global sysctl) and net.unix.max_dgram_qlen = 512 (host netns).
set -euo pipefail

STATE=${HARNESS_STATE:-/tmp/rtu-systemd-harness}
BOOT_TIMEOUT=${HARNESS_BOOT_TIMEOUT:-30}
STOP_TIMEOUT=${HARNESS_STOP_TIMEOUT:-20}
SYSTEMD=/lib/systemd/systemd
SELF=$(readlink -f "$0")

die() { echo "harness: $*" >&2; exit 1; }

# host mount point of the cgroup2 hierarchy (hybrid layout: /sys/fs/cgroup/unified)
cgroup2_root() { awk '$9 == "cgroup2" { print $5; exit }' /proc/self/mountinfo; }
cgroup_dir() {
    local root; root=$(cgroup2_root)
    [ -n "$root" ] || root=$STATE/cgroup2
    echo "$root/rtu-systemd-harness-$(echo -n "$STATE" | md5sum | cut -c1-8)"
}

is_up() {
    [ "${HARNESS_INSIDE:-}" = "$STATE" ] && return 0      # called from inside it
    [ -s "$STATE/pid" ] || return 1
    local pid; pid=$(cat "$STATE/pid")
    [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = systemd ]  # not a recycled PID
}

inside() {
    if [ "${HARNESS_INSIDE:-}" = "$STATE" ]; then "$@"; return; fi
    local pid wd=(); pid=$(cat "$STATE/pid")
    # setns() to the mount ns moves to /: keep the caller's cwd when it exists inside
    [ -d "/proc/$pid/root$PWD" ] && wd=(--wd="$PWD")
    HARNESS_INSIDE=$STATE nsenter -t "$pid" -a "${wd[@]}" "$@"
}

masks() {
    local allow="systemd-journald.service systemd-journald.socket systemd-journald-dev-log.socket
                 dbus.socket dbus.service systemd-initctl.socket" t d w
    {
        # whatever the early targets pull in on this host...
        for t in sysinit local-fs local-fs-pre basic sockets timers paths slices swap \
                 cryptsetup integritysetup veritysetup remote-fs remote-fs-pre network \
                 network-online network-pre nss-lookup time-set time-sync; do
            for d in /etc/systemd/system /lib/systemd/system /usr/lib/systemd/system \
                     /usr/local/lib/systemd/system; do
                for w in "$d/$t.target.wants" "$d/$t.target.requires"; do
                    [ ! -d "$w" ] || ls "$w"
                done
            done
        done
        # ...and, wanted or not, what is dangerous on a shared root fs
        printf '%s\n' systemd-tmpfiles-setup.service systemd-tmpfiles-setup-dev.service \
            systemd-tmpfiles-clean.service systemd-tmpfiles-clean.timer \
            systemd-remount-fs.service systemd-sysusers.service systemd-sysctl.service \
            systemd-modules-load.service systemd-binfmt.service systemd-random-seed.service \
            systemd-timesyncd.service systemd-update-utmp.service \
            systemd-update-utmp-runlevel.service systemd-firstboot.service \
            systemd-machine-id-commit.service systemd-hwdb-update.service \
            systemd-journal-catalog-update.service systemd-journal-flush.service \
            ldconfig.service systemd-update-done.service systemd-pstore.service \
            systemd-quotacheck.service systemd-boot-update.service systemd-logind.service \
            getty.target console-getty.service tmp.mount apt-daily.timer \
            apt-daily-upgrade.timer man-db.timer e2scrub_all.timer fstrim.timer \
            dpkg-db-backup.timer logrotate.timer ${HARNESS_MASK:-}
    } | grep -v '^$' | sort -u | grep -vxF -f <(printf '%s\n' $allow)
}

# kill whatever a previous instance left in its cgroup, then remove the cgroup tree
cleanup_cgroup() {
    local cg i; cg=$(cgroup_dir)
    if [ -d "$cg" ]; then
        if [ -e "$cg/cgroup.kill" ]; then echo 1 > "$cg/cgroup.kill" 2>/dev/null || true
        else find "$cg" -name cgroup.procs -exec cat {} + 2>/dev/null | xargs -r kill -KILL 2>/dev/null || true
        fi
        for i in $(seq 50); do
            find "$cg" -depth -type d -exec rmdir {} \; 2>/dev/null || true
            [ -d "$cg" ] || break
            sleep 0.1
        done
        [ ! -d "$cg" ] || echo "harness: warning: could not remove cgroup $cg" >&2
    fi
    if mountpoint -q "$STATE/cgroup2" 2>/dev/null; then umount "$STATE/cgroup2" || true; fi
}

# stage 2: PID 1 of the new namespaces; makes the private mounts, then execs systemd
inner_init() {
    local hostpid _ C=/run/systemd/system.control O=/run/harness/dev u
    read -r hostpid _ < /proc/self/stat            # the host's /proc is still mounted here
    echo "$hostpid" > "$STATE/pid.tmp" && mv "$STATE/pid.tmp" "$STATE/pid"
    mount --make-rprivate /                        # nothing below propagates to the host
    mount -t proc -o nosuid,nodev,noexec proc /proc
    mount -o remount,bind,ro,nosuid,nodev,noexec /sys
    if mountpoint -q /sys/fs/cgroup; then umount -R /sys/fs/cgroup; fi
    mount -t cgroup2 -o nosuid,nodev,noexec cgroup2 /sys/fs/cgroup   # root = our cgroup
    mount -t tmpfs -o mode=755,nosuid,nodev,size=20% tmpfs /run
    mkdir -p /run/lock /run/harness/no-generators $C $O/upper $O/work $O/pts
    # /dev: overlay on the host's, so device nodes work but what systemd creates stays here
    mount --bind /dev/pts $O/pts
    mount -t overlay overlay -o lowerdir=/dev,upperdir=$O/upper,workdir=$O/work /dev
    mount --move $O/pts /dev/pts
    mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs /dev/shm
    mkdir -p /dev/mqueue && mount -t mqueue -o nosuid,nodev,noexec mqueue /dev/mqueue
    # a persistent journal would be written on the host
    if [ -d /var/log/journal ]; then mount -t tmpfs -o mode=2755 tmpfs /var/log/journal; fi
    : > "$STATE/console.log"
    mount --bind "$STATE/console.log" /dev/console
    mount --bind /dev/null /dev/kmsg
    while read -r u; do ln -sf /dev/null "$C/$u"; done < "$STATE/masks"
    printf '%s\n' '[Unit]' 'Description=test harness boot target (basic.target only)' \
        'Requires=basic.target' 'After=basic.target' > "$C/harness.target"
    ln -sf harness.target "$C/default.target"
    export container=rtu-harness SYSTEMD_GENERATOR_PATH=/run/harness/no-generators
    exec "$SYSTEMD" --system --unit=harness.target --log-target=journal --show-status=no \
        </dev/null >/dev/console 2>&1
}

do_stop() {
    if is_up; then
        local pid i; pid=$(cat "$STATE/pid")
        kill -s SIGRTMIN+4 "$pid"                  # = systemctl poweroff
        for i in $(seq $(( STOP_TIMEOUT * 10 ))); do [ -d "/proc/$pid" ] || break; sleep 0.1; done
        if [ -d "/proc/$pid" ]; then
            echo "harness: poweroff timed out, SIGKILL" >&2
            kill -KILL "$pid" 2>/dev/null || true; sleep 0.5
        fi
    fi
    cleanup_cgroup
    rm -f "$STATE/pid" "$STATE/pid.tmp"
}

do_start() {
    [ "$(id -u)" = 0 ] || die "must run as root"
    [ -x "$SYSTEMD" ] || die "$SYSTEMD missing (apt-get install systemd)"
    local bin; for bin in unshare nsenter mountpoint setsid; do
        command -v $bin >/dev/null || die "$bin missing (apt-get install util-linux)"; done
    # systemd writes /etc/machine-id on the (shared) host if it is missing or empty
    grep -qE '^[0-9a-f]{32}$' /etc/machine-id 2>/dev/null \
        || die "/etc/machine-id is missing or empty: run systemd-machine-id-setup first"
    mkdir -p "$STATE"
    do_stop                                        # leftovers of a previous run
    masks > "$STATE/masks"
    local cg; cg=$(cgroup_dir)
    if [ -z "$(cgroup2_root)" ]; then              # no cgroup2 on the host: mount one
        mkdir -p "$STATE/cgroup2" && mount -t cgroup2 cgroup2 "$STATE/cgroup2"
    fi
    mkdir -p "$cg"
    local net=""; [ "${HARNESS_NET:-}" = private ] && net=--net
    # The launcher closes inherited fds > 2 (a caller reading our output must not wait for
    # it), moves into the dedicated cgroup, then unshares: cgroup ns rooted there, PID ns
    # (systemd = PID 1, everything killed with it), mount ns...
    HARNESS_STATE=$STATE setsid bash -c '
        for fd in $(ls /proc/$$/fd); do [ "$fd" -gt 2 ] && eval "exec $fd>&-"; done
        echo $$ > "$1/cgroup.procs" || exit 1
        exec unshare --pid --fork --mount --uts --ipc --cgroup '"$net"' \
            --propagation private --kill-child=SIGKILL -- "$2" __inner
    ' harness "$cg" "$SELF" </dev/null >"$STATE/launcher.log" 2>&1 &
    local launcher=$! deadline=$(( $(date +%s) + BOOT_TIMEOUT )) st=""
    disown "$launcher" 2>/dev/null || true
    while :; do
        if ! kill -0 "$launcher" 2>/dev/null; then
            cat "$STATE/launcher.log" "$STATE/console.log" >&2 2>/dev/null || true
            die "the launcher died (above: launcher.log, console.log)"
        fi
        if is_up && [ -S "/proc/$(cat "$STATE/pid")/root/run/systemd/private" ]; then
            st=$(inside systemctl is-system-running --wait 2>/dev/null || true)
            case $st in running|degraded) break ;; esac
        fi
        [ "$(date +%s)" -lt "$deadline" ] || { do_stop; die "boot timed out (state: $st)"; }
        sleep 0.05
    done
    echo "harness: systemd up (host pid $(cat "$STATE/pid"), $st)" >&2
    [ "$st" = running ] || inside systemctl --failed --no-pager >&2 || true
}

cmd=${1:-}
case $cmd in start|stop|--)
    [ -z "${HARNESS_INSIDE:-}" ] || die "'$cmd' must be run on the host, not inside"
    # one start/stop at a time per state dir (the launcher closes this fd)
    mkdir -p "$STATE" && exec 9>"$STATE/lock" && flock 9 ;;
esac
case $cmd in
    __inner) inner_init ;;
    start)   do_start ;;
    stop)    do_stop ;;
    status)  if is_up; then echo "up: host pid $(cat "$STATE/pid")"; inside systemctl is-system-running || true
             else echo down; exit 3; fi ;;
    exec)    shift; is_up || die "not running (run: $0 start)"; inside "$@" ;;
    --)      shift; booted=0
             is_up || { do_start; booted=1; }
             rc=0; inside "$@" 9>&- || rc=$?
             [ $booted = 0 ] || do_stop
             exit $rc ;;
    *)       sed -n '2,/^set -euo/p' "$SELF" | sed '$d; s/^# \{0,1\}//' >&2; exit 2 ;;
esac
