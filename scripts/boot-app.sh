#!/usr/bin/env bash
# Boot out/APP/PROFILE with the app's recipe defaults (port, arguments) and the make variables.
#
# usage: scripts/boot-app.sh [--demo] APP PROFILE
#   --demo   boot in the background, talk to the app through the forwarded port, print the
#            exchange, then power the guest off (exit 0 only if the app answered correctly)
# Environment (from make): ARGS HOSTPORT TIMEOUT GDB ACCEL ICOUNT MEM SMP PIN APPEND, MONITOR
# (a unix socket path for QEMU's human monitor), METER=1 (the instruction meter: its CSV in
# out/APP/PROFILE/meter.csv), METER_CTL (the meter's control FIFO) and METER_PCS=1 (also
# executions per address inside windows: out/APP/PROFILE/meter-pcs.txt, eval/meter/pcs.py) and
# METER_BRANCHES=FILE (block and branch counts for llvm-profgen, eval/pgo/)
. "$(dirname "$0")/lib.sh"

demo=0
[ "${1:-}" = --demo ] && { demo=1; shift; }
[ $# = 2 ] || die "usage: scripts/boot-app.sh [--demo] APP PROFILE"
app=$1 profile=$2
out=$UKL_OUT/$app/$profile
[ -f "$out/bzImage" ] || die "no image in out/$app/$profile" "make APP=$app PROFILE=$profile"
app_vars "$app"

opts=(--log "$out/run.log" --accel "${ACCEL:-auto}" --mem "${MEM:-512M}" --smp "${SMP:-2}")
[ "${ICOUNT:-0}" = 1 ] && opts+=(--icount)
[ "${GDB:-0}" = 1 ] && opts+=(--gdb)
[ -z "${MONITOR:-}" ] || opts+=(--monitor "$MONITOR")
[ -z "${PIN:-}" ] || opts+=(--pin "$PIN")
if [ "${METER:-0}" = 1 ]; then
	opts+=(--meter "$("$UKL_TOP/scripts/meter.sh" map "$app" "$profile")" --meter-out "$out/meter.csv")
	[ -z "${METER_CTL:-}" ] || opts+=(--meter-ctl "$METER_CTL")
	[ "${METER_PCS:-0}" != 1 ] || opts+=(--meter-pcs "$out/meter-pcs.txt")
	[ -z "${METER_BRANCHES:-}" ] || opts+=(--meter-branches "$METER_BRANCHES")
fi
# the log of this boot only: a boot that fails before QEMU starts leaves no older log behind
rm -f "$out/run.log"
# the profile's own kernel command-line words come first; APPEND adds to them
pf=$(profile_file "$profile")
append="$(conf_get "$pf" PROFILE_CMDLINE) ${APPEND:-}"
[ -z "${append// }" ] || opts+=(--append "$append")
if [ -n "$APP_PORT" ]; then
	hostport=${HOSTPORT:-$APP_PORT}
	portfile=$(mktemp --tmpdir ukl-port.XXXXXX)
	opts+=(--hostport "$hostport" --guestport "$APP_PORT" --port-file "$portfile")
	timeout=${TIMEOUT:-0}
else
	timeout=${TIMEOUT:-300}
fi
opts+=(--timeout "$timeout")
args=()
[ -z "${ARGS:-}" ] || read -r -a args <<<"$ARGS"

if [ $demo = 0 ]; then
	exec "$UKL_TOP/scripts/run.sh" "${opts[@]}" "$out/bzImage" "$out/initramfs.cpio.gz" -- "${args[@]}"
fi

# --demo
if [ -z "$APP_PORT" ]; then
	"$UKL_TOP/scripts/run.sh" "${opts[@]}" "$out/bzImage" "$out/initramfs.cpio.gz" -- "${args[@]}"
	exit
fi
case $APP_PROTOCOL in
memcache) client=$UKL_TOP/scripts/memcache.py ;;
redis) client=$UKL_TOP/scripts/resp.py ;;
*) die "apps/$app/recipe: the demo cannot speak APP_PROTOCOL='$APP_PROTOCOL'" \
	"set APP_PROTOCOL=memcache or redis, or teach scripts/boot-app.sh the protocol" ;;
esac
"$UKL_TOP/scripts/run.sh" --quiet "${opts[@]}" "$out/bzImage" "$out/initramfs.cpio.gz" -- "${args[@]}" &
runner=$!
trap 'kill -TERM $runner 2>/dev/null; wait $runner 2>/dev/null' EXIT
for _ in $(seq 50); do [ -s "$portfile" ] && break; kill -0 $runner 2>/dev/null || break; sleep 0.1; done
[ -s "$portfile" ] || { wait $runner; exit 1; }
port=$(cat "$portfile"); rm -f "$portfile"
note "waiting for $app on 127.0.0.1:$port (console: out/$app/$profile/run.log)"
if ! "$client" --wait 120 "127.0.0.1:$port" demo; then
	kill -0 $runner 2>/dev/null || { rc=0; wait $runner || rc=$?; die "the guest ended (status $rc) before $app answered" "see out/$app/$profile/run.log"; }
	die "$app did not answer on 127.0.0.1:$port within 120 s" "see out/$app/$profile/run.log"
fi
note "$app ($profile) answered on host port $port; powering the guest off. To keep it serving: make run APP=$app PROFILE=$profile"
trap - EXIT
kill -TERM $runner 2>/dev/null
wait $runner 2>/dev/null || true
exit 0
