#!/usr/bin/env bash
# gdb on both halves of the fused image (make gdb: scripts/gdb.sh + scripts/ukl-gdb.py).  One
# boot of memcached on ukl, stopped at its first instruction for gdb.  A host client sends one
# request; gdb must stop in memcached's command handler with app frames below it, go on
# (continue) to the kernel's tcp_sendmsg sending the reply, with the app's frames below the
# system-call entry, and let go; then the client must get its reply.  (memcached has a
# tcp_sendmsg of its own: the kernel's is named by its file, net/ipv4/tcp.c.)
# Cold: glibc, the ukl kernel and memcached are built first, ~25 min
# time-limit: 2400
. "$(dirname "$0")/../lib.sh"

profile=${GDB_PROFILE:-ukl}
build_image memcached "$profile"
out=$TOP/out/memcached/$profile
port=$(free_port)
gport=$(free_port)
"$TOP/scripts/run.sh" --quiet --log "$T_TMP/console.log" --gdb-port "$gport" --hostport "$port" --guestport 11211 \
	--timeout 900 --append "$(profile_var "$profile" PROFILE_CMDLINE)" \
	"$out/bzImage" "$out/initramfs.cpio.gz" >"$T_TMP/run.txt" 2>&1 &
runner=$!
trap 'kill -TERM $runner 2>/dev/null; wait $runner 2>/dev/null' EXIT
# the client retries until memcached answers; its one answered request is the one gdb stops
python3 "$TOP/scripts/memcache.py" --wait 600 "127.0.0.1:$port" raw 'get ukl-gdb\r\n' >"$T_TMP/client.txt" 2>&1 &
client=$!
for _ in $(seq 100); do
	python3 -c 'import socket,sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1)' "$gport" 2>/dev/null && break
	sleep 0.1
done
# batch gdb: the commands run in order; each `continue` returns at the next breakpoint
timeout 800 gdb -q -batch -nx -ex 'set pagination off' -x "$TOP/scripts/ukl-gdb.py" \
	-ex "target remote 127.0.0.1:$gport" \
	-ex 'break process_command_ascii' -ex continue -ex 'echo === app\n' -ex bt -ex delete \
	-ex 'break net/ipv4/tcp.c:tcp_sendmsg' -ex continue -ex 'echo === kernel\n' -ex bt -ex delete \
	-ex detach "$out/vmlinux" >"$T_TMP/gdb.txt" 2>&1 || true
crc=0
wait $client || crc=$?
sed -n '/=== app/,/=== kernel/p' "$T_TMP/gdb.txt" >"$T_TMP/bt-app"
sed -n '/=== kernel/,$p' "$T_TMP/gdb.txt" >"$T_TMP/bt-kernel"
diag "gdb's two backtraces:"
sed -n '/^#/p; /^===/p' "$T_TMP/gdb.txt" | head -n 60 | sed 's/^/#   /'

expect_grep "$profile: a breakpoint on memcached's command handler hits on the client's request" \
	'^(Thread [0-9]+ hit )?Breakpoint 1(\.[0-9]+)?, process_command_ascii' "$T_TMP/gdb.txt"
expect_grep "$profile: ... its backtrace shows the app's frames (drive_machine below it)" \
	'^#[0-9]+ +0x[0-9a-f]+ in drive_machine ' "$T_TMP/bt-app"
expect_grep "$profile: ... down to the thread's start in glibc (start_thread)" \
	'^#[0-9]+ +0x[0-9a-f]+ in start_thread ' "$T_TMP/bt-app"
expect_grep "$profile: continue stops in the kernel's tcp_sendmsg, sending the reply" \
	'^(Thread [0-9]+ hit )?Breakpoint 2(\.[0-9]+)?, tcp_sendmsg \(sk=' "$T_TMP/gdb.txt"
expect_grep "$profile: ... whose backtrace goes through the system-call entry" \
	'^#[0-9]+ +0x[0-9a-f]+ in ukl_entry_syscall(_bypass|_shortcut)? ' "$T_TMP/bt-kernel"
# below the seam: the app's frames, found through the pt_regs the entry saved (ukl-gdb.py)
expect_grep "$profile: ... and the app's frames below the entry (memcached's drive_machine)" \
	'^#[0-9]+ +0x[0-9a-f]+ in drive_machine ' "$T_TMP/bt-kernel"
# a frame whose pc is in the app's text must not be named ukl_* (the kernel's own ukl_ functions,
# ukl_entry_syscall and the fast paths, may)
range=$(awk '$3 == "__ukl_text_start" {s=$1} $3 == "__ukl_text_end" {e=$1} END {print s, e}' "$out/System.map")
bad=$(grep -E '^#[0-9]+ +0x[0-9a-f]+ in ' "$T_TMP/gdb.txt" | awk -v r="$range" '
	BEGIN {split(r, b, " "); lo = b[1]; hi = b[2]}
	{pc = substr($2, 3); while (length(pc) < 16) pc = "0" pc
	 if (pc >= lo && pc < hi && $4 ~ /^ukl_/) print}' | head -n 3)
n=$(grep -E '^#[0-9]+ +0x[0-9a-f]+ in ' "$T_TMP/gdb.txt" | awk -v r="$range" '
	BEGIN {split(r, b, " "); lo = b[1]; hi = b[2]}
	{pc = substr($2, 3); while (length(pc) < 16) pc = "0" pc; if (pc >= lo && pc < hi) n++}
	END {print n + 0}')
if [ -z "$bad" ] && [ "$n" -gt 0 ]; then ok "$profile: the $n app frames of the backtraces are shown without the fusion's ukl_ prefix"
else not_ok "$profile: app frames are shown without the fusion's ukl_ prefix" "$n app frames; prefixed: $bad"; fi
if [ $crc = 0 ] && grep -q '^END' "$T_TMP/client.txt"; then
	ok "$profile: after gdb lets go, the client gets its reply (END)"
else
	not_ok "$profile: after gdb lets go, the client gets its reply (END)" "client exit $crc" "$(tail -n 5 "$T_TMP/client.txt")" \
		"$(tail -n 15 "$T_TMP/gdb.txt")"
fi
t_done
