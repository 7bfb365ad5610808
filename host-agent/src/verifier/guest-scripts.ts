/*
 * What runs inside the throwaway VM: /init mounts the kernel filesystems and hands PID 1 to
 * the command server, which serves the host's GuestExecutor over the second serial port
 * (ttyS1; ttyS0 is the console). Busybox sh only.
 *
 * The wire, one line each way (fields base64, each behind a ':' so an empty one survives):
 *   host  → guest  PING <id>
 *   guest → host   EK-PONG <id>
 *   host  → guest  RUN <id> <timeoutSec> <:stdin|-> <:arg0> <:arg1> …
 *   guest → host   EK-DONE <id> <exitCode> <timedOut 0|1> <:stdout> <:stderr>
 *   guest → host   EK-READY <kernel release>          (once, when it starts)
 * Lines it does not understand are ignored (the UART may drop bytes sent before it was open).
 * With no request for EK_IDLE_S seconds the guest powers itself off, so a VM whose host died
 * does not run on.
 */

/** Each of stdout and stderr is sent back up to this many bytes. */
export const GUEST_OUTPUT_MAX_BYTES = 262_144;
/** The guest powers off after this long without a request. */
export const GUEST_IDLE_POWEROFF_S = 600;

export const GUEST_INIT = `#!/bin/sh
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mount -t tmpfs tmp /tmp
mount -t bpf bpf /sys/fs/bpf
echo "ek-guest: up, kernel $(uname -r)"
exec /bin/sh /ek-guestd
`;

export const GUEST_DAEMON = `# edgekernel guest command server (see guest-scripts.ts)
set -f
stty -F /dev/ttyS1 raw -echo 2>/dev/null
exec 3<>/dev/ttyS1
out() { printf '%s\\n' "$*" >&3; }
enc() { head -c ${GUEST_OUTPUT_MAX_BYTES} "$1" | base64 | tr -d '\\n'; }
dec() { printf '%s' "\${1#:}" | base64 -d; }
out "EK-READY $(uname -r)"
while :; do
  if ! IFS= read -r -t ${GUEST_IDLE_POWEROFF_S} line <&3; then
    echo "ek-guest: no request for ${GUEST_IDLE_POWEROFF_S}s, powering off"
    poweroff -f
  fi
  set -- $line
  case "$1" in
  PING) out "EK-PONG $2" ;;
  RUN)
    [ $# -ge 5 ] || continue
    id=$2; limit=$3; input=$4; shift 4
    n=$#
    for a; do set -- "$@" "$(dec "$a")"; done
    shift "$n"
    rm -f /tmp/ek.in /tmp/ek.out /tmp/ek.err /tmp/ek.timeout
    if [ "$input" = "-" ]; then src=/dev/null; else dec "$input" > /tmp/ek.in; src=/tmp/ek.in; fi
    "$@" <"$src" >/tmp/ek.out 2>/tmp/ek.err 3>&- &
    pid=$!
    ( sleep "$limit"; kill -9 "$pid" 2>/dev/null && : > /tmp/ek.timeout ) 3>&- &
    watchdog=$!
    wait "$pid"; code=$?
    kill "$watchdog" 2>/dev/null
    timedout=0; [ -e /tmp/ek.timeout ] && timedout=1
    out "EK-DONE $id $code $timedout :$(enc /tmp/ek.out) :$(enc /tmp/ek.err)"
    ;;
  esac
done
`;
