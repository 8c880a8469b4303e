#!/bin/bash
# fuzz-guest.sh - the in-guest campaigns (make fuzz-guest): for each seed,
# one boot per mode of tests/apps/fuzz.c (raw, mm, mmt, io) and one of
# tests/apps/fsx.c, JOBS boots at a time. Prints one line per boot:
#   fuzz-guest: seed S MODE: <the app's survived line> | FAIL <why>
# and fails when any boot panicked, leaked a page (the "solo: memory:"
# line's two numbers differ), timed out, or has no survived/fsx line; fsx's
# line must also equal the one the same binary prints on this host in a
# scratch directory (the oracle). A raw-mode app may end killed: its random
# writes can hit its own memory; the kernel must still survive and return
# every page.
#
#   tests/boot/fuzz-guest.sh BUILD "SEEDS" "MODES" JOBS FSX_OPS
set -u
B=$1 SEEDS=$2 MODES=$3 JOBS=$4 FSX_OPS=$5
OUT=$B/fuzz-guest
mkdir -p "$OUT"

one() {
	local seed=$1 mode=$2 name="$1-$2" app args want cpus=1
	case $mode in
	raw) app=fuzz args="$seed" want="fuzz: survived " ;;
	mmt) app=fuzz args="$seed $mode" want="fuzz: $mode survived " cpus=4 ;;
	mm | io) app=fuzz args="$seed $mode" want="fuzz: $mode survived " ;;
	# io's threads on four CPUs: their pipe and eventfd calls on the
	# kernel lock's shared side, beside each other.
	iot) app=fuzz args="$seed io" want="fuzz: io survived " cpus=4 ;;
	fsx) app=fsx args="/tmp $seed $FSX_OPS" want="fsx: " ;;
	*) echo "fuzz-guest: unknown mode $mode"; return 1 ;;
	esac
	if ! tools/mkimg.sh -o "$OUT/$name.img" --app "$B/tests/apps/$app.elf" \
		--args "$args" > "$OUT/$name.mkimg" 2>&1; then
		echo "fuzz-guest: seed $seed $mode: FAIL mkimg (see $OUT/$name.mkimg)"
		return 1
	fi
	local start=$SECONDS
	tools/qemu.sh "$OUT/$name.img" --serial "$OUT/$name.log" --timeout 900 --smp "$cpus" \
		> "$OUT/$name.qemu" 2>&1
	local status=$? log="$OUT/$name.log" took=$((SECONDS - start))
	rm -f "$OUT/$name.img"
	local line mem
	# The raw mode writes random bytes to the console: a line may start
	# with them, so the lines are found anywhere in a line.
	line=$(grep -ao "$want.*" "$log" | tail -n 1 | tr -d '\r')
	mem=$(grep -ao "solo: memory: [0-9]* pages free after the app.*" "$log" | tail -n 1 | tr -d '\r')
	local why=""
	if grep -aq "solo: panic" "$log"; then
		why="panic"
	elif [ "$status" -ge 124 ] && [ "$status" -le 127 ]; then
		why="qemu.sh status $status (124 timeout)"
	elif [[ ! $mem =~ ^solo:\ memory:\ ([0-9]+)\ pages\ free\ after\ the\ app,\ ([0-9]+)\ before ]]; then
		why="no memory line"
	elif [ "${BASH_REMATCH[1]}" != "${BASH_REMATCH[2]}" ]; then
		why="leak: $mem"
	elif [ -z "$line" ]; then
		if [ "$mode" = raw ] && grep -aq "solo: app killed: " "$log"; then
			line="killed by its own writes: $(grep -ao 'solo: app killed: .*' "$log" | tail -n 1 | tr -d '\r')"
		else
			why="no '$want' line, status $status"
		fi
	elif [ "$mode" = fsx ]; then
		local scratch oracle
		scratch=$(mktemp -d /tmp/fsx-oracle.XXXXXX)
		oracle=$("$B/tests/apps/fsx.elf" "$scratch" "$seed" "$FSX_OPS" 2>&1 | tail -n 1)
		rm -rf "$scratch"
		[ "$line" = "$oracle" ] || why="fsx differs from the host: '$line' vs '$oracle'"
	fi
	if [ -n "$why" ]; then
		echo "fuzz-guest: seed $seed $mode: FAIL $why (log $log)"
		return 1
	fi
	echo "fuzz-guest: seed $seed $mode: $line (${took} s)"
}
export -f one
export B OUT FSX_OPS

for seed in $SEEDS; do
	for mode in $MODES; do
		echo "$seed $mode"
	done
done | xargs -P "$JOBS" -L 1 bash -c 'one $0 $1' > "$OUT/summary.txt"
rc=$?
sort -V "$OUT/summary.txt"
fails=$(grep -c ": FAIL " "$OUT/summary.txt")
runs=$(wc -l < "$OUT/summary.txt")
echo "fuzz-guest: $runs boots, $fails failed (logs in $OUT/)"
[ "$rc" -eq 0 ] && [ "$fails" -eq 0 ]
