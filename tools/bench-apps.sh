#!/usr/bin/env bash
# bench-apps.sh - the app-level benchmark (make bench-apps; not a test): the
# same static musl driver (bench/apps/appbench.c, with sqlite3 and Lua 5.4
# built in from the pinned Debian sources of tools/real-programs.sh) on Solo
# and on Debian's Linux 6.1 (tools/linux-peer.sh --apps), both booted by the
# same tools/qemu.sh command: OVMF, TCG with -icount shift=0,align=off,
# sleep=off (the guest TSC counts guest instructions), 1 CPU, the same memory.
# Each workload reads the TSC around its work only and prints its checksum,
# which must equal the one of the same binary run natively on the host.
#
#   tools/bench-apps.sh [--workloads "W..."] [--runs N] [--jobs N] [--mem SIZE]
#                       [--solo-only]
#
#   --workloads  which, in this order [sqlite lua malloc realloc read mmap maptouch futex]
#   --runs       boots of each kernel per workload; the median is shown [3]
#   --jobs       QEMU processes at once (the figures do not depend on it:
#                -icount counts instructions, not time) [1]
#   --mem        guest memory of both kernels [1G]
#   --solo-only  boot Solo only and take Linux's figures from the logs of the
#                last run that booted Linux (the peer does not change when
#                Solo does): for iterating on Solo
#
# The environment's WORKLOADS, RUNS, JOBS and SOLO_ONLY=1 are the defaults of
# the options (make bench-apps WORKLOADS="malloc mmap" RUNS=1 passes them).
#
# Solo gets one image per workload (the driver as the app, `appbench W`, and
# the input files that W reads); Linux one image for all, whose /init runs
# `appbench W` for each W in turn, each its own process. Per workload the
# table shows each kernel's median TSC, whether its runs repeat exactly (or
# their spread, max - min over the median), and Solo/Linux. Logs and the
# table: build/bench/apps/ (solo-W-runR.serial, linux-runR.serial,
# host.checks, table.txt). Exit status 0 when every figure was measured and
# every checksum equals the host's; 1 otherwise (the table says which).
set -euo pipefail

readonly PROG=bench-apps.sh
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
readonly ROOT
readonly SELF="$ROOT/tools/bench-apps.sh"
readonly B=$ROOT/build
readonly WORK=$B/bench/apps
readonly SRC=$ROOT/bench/apps
readonly ALL_WORKLOADS=(sqlite lua malloc realloc read mmap maptouch futex)
readonly DATA_MIB=32
readonly SOLO_LIMIT_S=1800  # one workload, boot included (TCG, -icount)
readonly LINUX_LIMIT_S=5400 # every workload in one boot
readonly ICOUNT=shift=0,align=off,sleep=off
MUSLCC=${MUSLCC:-musl-gcc}
# sqlite3 as tools/real-programs.sh builds its shell: single-threaded (one
# connection, one thread), no extension loading, what musl has.
readonly SQLITE_FLAGS=(-DSQLITE_THREADSAFE=0 -DSQLITE_OMIT_LOAD_EXTENSION=1 -DHAVE_USLEEP=1
	-DHAVE_FDATASYNC=1 -DHAVE_LOCALTIME_R=1 -DHAVE_GMTIME_R=1 -DHAVE_STRCHRNUL=1)
# Lua as tools/real-programs.sh builds it (upstream's "make linux" without dlopen).
readonly LUA_FLAGS=(-std=gnu99 -DLUA_COMPAT_5_3 -DLUA_USE_POSIX)

read -r -a workloads <<<"${WORKLOADS:-${ALL_WORKLOADS[*]}}"
runs=${RUNS:-3}
jobs=${JOBS:-1}
solo_only=${SOLO_ONLY:-0}
mem=1G
pidfiles=()

die() {
	echo "$PROG: $*" >&2
	exit 1
}

say() {
	echo "$PROG: $*" >&2
}

usage() {
	sed -n '2,33s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"
}

# stale OUT IN...: true when OUT is missing or older than an IN.
stale() {
	local out=$1 f
	shift

	[[ -e $out ]] || return 0
	for f in "$@"; do
		[[ $out -nt $f ]] || return 0
	done
	return 1
}

# ---------------------------------------------------------------- the driver

# The driver and its inputs, in $WORK/tree as both guests see them:
# /appbench, /bench/gc.lua, /bench/data.bin.
build_driver() {
	local lua_tree gen=$B/real/gen obj=$WORK/obj tree=$WORK/tree f o sqlite_pid=
	local -a lua_objs=()

	[[ -f $B/real/src/lua5.4.dir && -f $gen/sqlite3/sqlite3.c && -f $gen/lua/lua5.4-deb-multiarch.h ]] ||
		die "the Lua and sqlite3 sources are missing: make real-programs"
	lua_tree=$B/real/src/$(awk '{ print $1 }' "$B/real/src/lua5.4.dir")
	[[ -f $lua_tree/src/lua.h ]] || die "no Lua tree at $lua_tree: make real-programs"
	command -v "$MUSLCC" >/dev/null || die "$MUSLCC not found: run tools/deps.sh"
	mkdir -p "$obj" "$tree/bench"
	# The objects depend on the compiler and flags, not on the rest of this
	# script: an edit elsewhere does not cost the minute of sqlite3.c.
	local flags="$MUSLCC -O2 -w ${SQLITE_FLAGS[*]} / ${LUA_FLAGS[*]}"
	if [[ $(cat "$obj/flags" 2>/dev/null) != "$flags" ]]; then
		rm -f "$obj"/*.o
		echo "$flags" >"$obj/flags"
	fi

	# Not our code: its warnings are not ours to fix (-w, as real-programs.sh).
	if stale "$obj/sqlite3.o" "$gen/sqlite3/sqlite3.c"; then
		say "compiling the sqlite3 amalgamation (a minute or so)"
		"$MUSLCC" -O2 -w "${SQLITE_FLAGS[@]}" -c "$gen/sqlite3/sqlite3.c" -o "$obj/sqlite3.o.tmp" &
		sqlite_pid=$!
	fi
	for f in "$lua_tree"/src/*.c; do
		[[ $f == */lua.c || $f == */luac.c ]] && continue
		o=$obj/lua-$(basename "${f%.c}").o
		lua_objs+=("$o")
		stale "$o" "$f" || continue
		"$MUSLCC" -O2 -w "${LUA_FLAGS[@]}" -I"$gen/lua" -c "$f" -o "$o.tmp" || die "compiling $f failed"
		mv -f "$o.tmp" "$o"
	done
	if [[ -n $sqlite_pid ]]; then
		wait "$sqlite_pid" || die "compiling sqlite3.c failed"
		mv -f "$obj/sqlite3.o.tmp" "$obj/sqlite3.o"
	fi
	if stale "$tree/appbench" "$SRC/appbench.c" "$obj/sqlite3.o" "${lua_objs[@]}"; then
		say "linking $tree/appbench"
		"$MUSLCC" -static -O2 -std=gnu11 -Wall -Wextra -Werror -I"$lua_tree/src" -I"$gen/lua" \
			-I"$gen/sqlite3" "$SRC/appbench.c" "$obj/sqlite3.o" "${lua_objs[@]}" -lm -lpthread \
			-o "$tree/appbench.tmp" || die "building the driver failed"
		mv -f "$tree/appbench.tmp" "$tree/appbench"
	fi
	cp -p "$SRC/gc.lua" "$tree/bench/gc.lua"
	# Generated, never committed: the driver's own PRNG, the same bytes every time.
	if stale "$tree/bench/data.bin" "$SRC/appbench.c"; then
		"$tree/appbench" gen "$tree/bench/data.bin.tmp" "$DATA_MIB" || die "generating data.bin failed"
		mv -f "$tree/bench/data.bin.tmp" "$tree/bench/data.bin"
	fi
}

# The driver's argument on the host for W (in the guests the defaults are
# the tree's paths).
host_arg() {
	case $1 in
	sqlite) echo "$WORK/host/appbench.db" ;;
	lua) echo "$WORK/tree/bench/gc.lua" ;;
	read | mmap | maptouch) echo "$WORK/tree/bench/data.bin" ;;
	esac
}

# The host's checksum of each workload, the oracle: one line per workload in
# $WORK/host/W.line, redone when the driver or its inputs changed. (The
# host's TSC figure is not used: it is not the guests' unit.)
host_checks() {
	local w line

	mkdir -p "$WORK/host"
	for w in "${workloads[@]}"; do
		stale "$WORK/host/$w.line" "$WORK/tree/appbench" "$WORK/tree/bench/gc.lua" \
			"$WORK/tree/bench/data.bin" || continue
		# shellcheck disable=SC2046 # no argument, or one without spaces
		line=$("$WORK/tree/appbench" "$w" $(host_arg "$w")) ||
			die "the driver failed on the host: appbench $w $(host_arg "$w")"
		echo "$line" >"$WORK/host/$w.line"
	done
}

# ---------------------------------------------------------------- the images

solo_image() {
	local w=$1 img=$WORK/solo-$1.img
	local -a files=()

	case $w in
	lua) files=(--file "$WORK/tree/bench/gc.lua:/bench/gc.lua") ;;
	read | mmap | maptouch) files=(--file "$WORK/tree/bench/data.bin:/bench/data.bin") ;;
	esac
	stale "$img" "$WORK/tree/appbench" "$WORK/tree/bench/gc.lua" "$WORK/tree/bench/data.bin" \
		"$B/kernel.elf" "$B/BOOTX64.EFI" "$ROOT/tools/mkimg.sh" "$SELF" || return 0
	"$ROOT/tools/mkimg.sh" -o "$img" --app "$WORK/tree/appbench" --name appbench --args "$w" \
		"${files[@]}" >/dev/null || die "tools/mkimg.sh failed for $w"
}

# ---------------------------------------------------------------- the boots

# boot NAME IMAGE LIMIT: one QEMU run, serial log $WORK/NAME.serial.
boot() {
	local name=$1 image=$2 limit=$3 t0=$SECONDS st=0

	rm -f "$WORK/$name.serial" "$WORK/$name.pid"
	"$ROOT/tools/qemu.sh" "$image" --accel tcg --mem "$mem" --timeout "$limit" \
		--serial "$WORK/$name.serial" --qemu-arg -icount --qemu-arg "$ICOUNT" \
		--qemu-arg -pidfile --qemu-arg "$WORK/$name.pid" >"$WORK/$name.qemu.log" 2>&1 || st=$?
	# Linux ends with poweroff, which qemu.sh reports as 125 (no "solo: exit").
	say "$name: done in $((SECONDS - t0)) s (qemu.sh status $st)"
}

# On an interrupt: the QEMU processes still running that this script started
# (a pid is taken only while its command line still names our pidfile).
stop_all() {
	local f pid

	for f in "${pidfiles[@]}"; do
		pid=$(cat "$f" 2>/dev/null || true)
		if [[ -n $pid ]] && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$f"; then
			kill "$pid" 2>/dev/null || true
		fi
	done
}

# run_all: every boot, at most $jobs at once; run by run so that an early
# look at the logs sees whole runs.
run_all() {
	local r w n
	local -a names=() images=() limits=() pids=()

	for ((r = 1; r <= runs; r++)); do
		((solo_only)) ||
			names+=("linux-run$r") images+=("$B/bench/linux/linux-apps.img") limits+=("$LINUX_LIMIT_S")
		for w in "${workloads[@]}"; do
			names+=("solo-$w-run$r") images+=("$WORK/solo-$w.img") limits+=("$SOLO_LIMIT_S")
		done
	done
	for n in "${!names[@]}"; do
		while :; do
			local live=0 p
			for p in "${pids[@]}"; do
				kill -0 "$p" 2>/dev/null && live=$((live + 1))
			done
			((live < jobs)) && break
			wait -n 2>/dev/null || true
		done
		pidfiles+=("$WORK/${names[$n]}.pid")
		say "${names[$n]}: booting ($((n + 1)) of ${#names[@]})"
		boot "${names[$n]}" "${images[$n]}" "${limits[$n]}" &
		pids+=($!)
	done
	for p in "${pids[@]}"; do
		wait "$p" || true
	done
}

# ---------------------------------------------------------------- the table

# result LOG W: "TSC CHECK" from W's line in LOG, or nothing.
result() {
	tr -d '\r' <"$1" 2>/dev/null | awk -v w="$2" '$1 == "bench-apps:" && $2 == w && $3 == "tsc" && $5 == "check" {
		print $4, $6; exit }'
}

# faults LOG W: the page faults W's work took (its line's minflt), or -.
faults() {
	tr -d '\r' <"$1" 2>/dev/null | awk -v w="$2" '$1 == "bench-apps:" && $2 == w && $7 == "minflt" {
		print $8; f = 1; exit } END { if (!f) print "-" }'
}

# why LOG W: why LOG has no figure for W.
why() {
	local log=$1 w=$2 l

	[[ -s $log ]] || {
		echo "no serial log (${log#"$ROOT"/})"
		return
	}
	l=$(tr -d '\r' <"$log" | grep -a -m1 -e "^bench-apps: $w failed" -e '^solo: panic' -e '^solo: app' \
		-e 'Kernel panic' -e '^appbench: ' || true)
	[[ -n $l ]] || l=$(tr -d '\r' <"$log" | grep -a -m1 '^solo: exit' || true)
	[[ -n $l ]] || l="no result line (timeout? see ${log#"$ROOT"/} and ${log%.serial}.qemu.log)"
	echo "$l"
}

# stats V...: "MEDIAN REPEAT" over the runs' figures; REPEAT is xN (N runs)
# and "same" when they are equal, else their spread, (max - min) / median.
stats() {
	printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END {
		m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		if (NR == 1) r = "x1"
		else if (v[1] == v[NR]) r = "x" NR " same"
		else r = sprintf("x%d %.2f%%", NR, (v[NR] - v[1]) * 100 / m)
		printf "%.0f %s\n", m, r }'
}

table() {
	local w k r n log res host ok=0 med rep ratio linux_runs=$runs
	local -A median=() repeat=()
	local -a problems=() vals

	if ((solo_only)); then
		linux_runs=$(compgen -G "$WORK/linux-run*.serial" | wc -l)
		((linux_runs > 0)) || problems+=("no Linux logs in ${WORK#"$ROOT"/}: run once without --solo-only")
	fi
	for w in "${workloads[@]}"; do
		host=$(awk '{ print $6 }' "$WORK/host/$w.line")
		for k in solo linux; do
			vals=()
			[[ $k == solo ]] && n=$runs || n=$linux_runs
			for ((r = 1; r <= n; r++)); do
				[[ $k == solo ]] && log=$WORK/solo-$w-run$r.serial || log=$WORK/linux-run$r.serial
				res=$(result "$log" "$w")
				if [[ -z $res ]]; then
					problems+=("$w, $k run $r: $(why "$log" "$w")")
					continue
				fi
				if [[ ${res#* } != "$host" ]]; then
					problems+=("$w, $k run $r: CHECKSUM ${res#* } differs from the host's $host")
					continue
				fi
				vals+=("${res%% *}")
			done
			if ((n > 0 && ${#vals[@]} == n)); then
				read -r med rep < <(stats "${vals[@]}")
				median[$k]=$med repeat[$k]=$rep
			else
				median[$k]=n/a repeat[$k]=
			fi
		done
		ratio=n/a
		[[ ${median[solo]} == n/a || ${median[linux]} == n/a ]] ||
			ratio=$(awk -v s="${median[solo]}" -v l="${median[linux]}" 'BEGIN { printf "%.3f", s / l }')
		printf '%-9s %14s %-10s %14s %-10s %10s %9s %9s\n' "$w" "${median[solo]}" "${repeat[solo]}" \
			"${median[linux]}" "${repeat[linux]}" "$ratio" "$(faults "$WORK/solo-$w-run1.serial" "$w")" \
			"$(faults "$WORK/linux-run1.serial" "$w")"
	done >"$WORK/table.body"
	{
		echo "bench-apps: $runs run(s) per kernel$( ((solo_only)) && echo ' (Linux: the last run that booted it)'); QEMU $(qemu-system-x86_64 --version | head -n1 |
			awk '{ print $4 }'), TCG, -icount $ICOUNT (TSC = guest instructions), 1 CPU, $mem"
		echo "bench-apps: Linux peer: $(paste -sd, "$B/bench/linux/versions.txt" | sed 's/,/, /g')"
		echo "bench-apps: Solo: $(git -C "$ROOT" describe --always --dirty 2>/dev/null || echo '?')"
		printf '%-9s %14s %-10s %14s %-10s %10s %9s %9s\n' workload "Solo tsc" runs "Linux tsc" runs \
			Solo/Linux "Solo flt" "Linux flt"
		cat "$WORK/table.body"
		echo "bench-apps: tsc is the median of the runs; runs: xN, 'same' when they repeat exactly," \
			"else (max - min) / median; flt: the page faults of the work in run 1 (ru_minflt)"
		for r in "${problems[@]}"; do
			echo "bench-apps: FAILED $r"
		done
		((${#problems[@]} == 0)) && echo "bench-apps: every checksum equals the host's"
	} >"$WORK/table.txt"
	rm -f "$WORK/table.body"
	echo
	cat "$WORK/table.txt"
	((${#problems[@]} == 0)) || ok=1
	return "$ok"
}

main() {
	local w host_pid

	while (($# > 0)); do
		case $1 in
		--workloads) [[ $# -ge 2 ]] || die "--workloads needs a list"
			read -r -a workloads <<<"${2//,/ }"; shift 2 ;;
		--runs) runs=${2:-}; shift 2 || die "--runs needs a value" ;;
		--jobs) jobs=${2:-}; shift 2 || die "--jobs needs a value" ;;
		--solo-only) solo_only=1; shift ;;
		--mem) [[ ${2:-} =~ ^[0-9]+[MG]$ ]] || die "--mem wants e.g. 1G or 512M"
			mem=$2; shift 2 ;;
		-h | --help) usage; exit 0 ;;
		*) die "unknown option '$1' (try --help)" ;;
		esac
	done
	[[ $runs =~ ^[1-9][0-9]?$ ]] || die "runs: 1..99, not '$runs'"
	[[ $jobs =~ ^[1-9]$ ]] || die "jobs: 1..9, not '$jobs'"
	[[ $solo_only =~ ^[01]$ ]] || die "SOLO_ONLY: 0 or 1, not '$solo_only'"
	((${#workloads[@]} > 0)) || die "no workloads"
	for w in "${workloads[@]}"; do
		[[ " ${ALL_WORKLOADS[*]} " == *" $w "* ]] ||
			die "unknown workload '$w' (the workloads: ${ALL_WORKLOADS[*]})"
	done
	[[ -f $B/kernel.elf && -f $B/BOOTX64.EFI ]] || die "Solo is not built: make all"
	mkdir -p "$WORK"
	trap 'stop_all; exit 130' INT TERM

	build_driver
	# The host's run of malloc alone takes minutes on a virtual machine (its
	# page faults are slow): it goes on while the guests boot.
	host_checks &
	host_pid=$!
	if ((solo_only)); then
		say "--solo-only: Linux's figures are those of build/bench/apps/linux-run*.serial," \
			"$(date -r "$WORK/linux-run1.serial" '+%F %T' 2>/dev/null || echo 'which are missing')"
	else
		"$ROOT/tools/linux-peer.sh" --apps "$WORK/tree" --workloads "${workloads[*]}" "$B/bench/linux"
		rm -f "$WORK"/linux-run*.serial
	fi
	for w in "${workloads[@]}"; do
		solo_image "$w"
	done
	rm -f "$WORK"/solo-*-run*.serial
	run_all
	wait "$host_pid" || die "the host's run of the driver failed"
	table
}

main "$@"
