#!/usr/bin/env bash
# bench-net.sh - the network benchmark (make bench-net; not a test): the same
# static server binary on Solo and on Debian's Linux 6.1, each booted by the
# same OVMF and tools/qemu.sh command line with the same NIC model and QEMU's
# user networking, measured by the same host client (build/tools/netload) in
# one run, through hostfwd on 127.0.0.1.
#
#   tools/bench-net.sh [--server nginx|httpd|both] [--nic MODEL] [--runs N]
#                      [--requests N] [--accel auto|kvm|tcg]
#
#   --server    which server [both]
#   --nic       tools/qemu.sh's --nic: virtio, virtio-legacy, e1000e or e1000 [virtio]
#   --runs      runs of each figure, the median is shown [5]
#   --requests  requests of one keep-alive run [1000]
#   --accel     passed to tools/qemu.sh [auto]
#
# Figures, for each kernel, then Solo/Linux:
#   rps 1 conn, rps 10 conns   requests per second over keep-alive connections
#                              (GET / , median of the runs)
#   QEMU CPU ms/req            the QEMU process's utime+stime (/proc/PID/stat)
#                              over all those runs, per request
#   p50, p99 latency           over 1 connection (medians of the runs' figures)
#   10 MiB GET MB/s            one 10 MiB body (nginx: /big.bin, generated;
#                              httpd: /bytes?n=10485760), median of the runs
#
# The Linux peer comes from tools/linux-peer.sh, the Solo images from
# tools/mkimg.sh with the files the peer's initramfs holds. A kernel whose
# server does not answer gets "n/a" and the reason, and the others' figures
# are still shown. Exit status 0 when Linux's figures were measured. Logs:
# build/bench/net/.
set -euo pipefail

readonly PROG=bench-net.sh
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
readonly ROOT
readonly B=$ROOT/build
readonly WORK=$B/bench/net
readonly NETLOAD=$B/tools/netload
readonly BIG_BYTES=$((10 * 1024 * 1024))
readonly READY_S=300   # boot + server start, each kernel (TCG is slow)
readonly QEMU_LIMIT_S=1800

servers=(nginx httpd)
nic=virtio
runs=5
requests=1000
accel=auto
qemu_pid=
runner_pid=

die() {
	echo "$PROG: $*" >&2
	exit 1
}

usage() {
	sed -n '2,30s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"
}

say() {
	echo "$PROG: $*" >&2
}

# A TCP port on 127.0.0.1 that nothing listens on now (from the kernel's
# ephemeral range, so other runs are unlikely to pick it too).
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' 2>/dev/null ||
		echo $((20000 + RANDOM % 20000))
}

# The QEMU process's CPU time so far, in milliseconds (utime + stime).
cpu_ms() {
	local stat ticks

	stat=$(cat "/proc/$qemu_pid/stat" 2>/dev/null) || {
		echo 0
		return
	}
	stat=${stat##*) }
	ticks=$(awk '{ print $12 + $13 }' <<<"$stat")
	echo $((ticks * 1000 / $(getconf CLK_TCK)))
}

median() {
	sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "n/a"; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# field KEY LINE: the value of KEY=... in netload's output line.
field() {
	tr ' ' '\n' <<<"$2" | sed -n "s/^$1=//p"
}

stop_qemu() {
	if [[ -n $qemu_pid ]]; then
		kill "$qemu_pid" 2>/dev/null || true
	fi
	if [[ -n $runner_pid ]]; then
		local i
		for ((i = 0; i < 50; i++)); do
			kill -0 "$runner_pid" 2>/dev/null || break
			sleep 0.2
		done
		kill "$runner_pid" 2>/dev/null || true
		wait "$runner_pid" 2>/dev/null || true
	fi
	qemu_pid=
	runner_pid=
}

# boot KERNEL SERVER IMAGE PORT: starts tools/qemu.sh in the background;
# sets qemu_pid and runner_pid.
boot() {
	local kernel=$1 server=$2 image=$3 port=$4 log="$WORK/$1-$2.serial" i

	rm -f "$WORK/$kernel-$server.pid" "$log"
	"$ROOT/tools/qemu.sh" "$image" --serial "$log" --timeout "$QEMU_LIMIT_S" --accel "$accel" \
		--qemu-arg -pidfile --qemu-arg "$WORK/$kernel-$server.pid" \
		--net user --nic "$nic" --hostfwd "tcp:$port:8080" \
		>"$WORK/$kernel-$server.qemu.log" 2>&1 &
	runner_pid=$!
	for ((i = 0; i < 100; i++)); do
		[[ -s $WORK/$kernel-$server.pid ]] && break
		kill -0 "$runner_pid" 2>/dev/null || break
		sleep 0.1
	done
	qemu_pid=$(cat "$WORK/$kernel-$server.pid" 2>/dev/null || true)
}

# wait_ready KERNEL SERVER PORT: 0 once the server answers GET / through the
# forwarded port; otherwise prints why not.
wait_ready() {
	local kernel=$1 server=$2 port=$3 log="$WORK/$1-$2.serial" i

	[[ -n $qemu_pid ]] || {
		echo "QEMU did not start ($(tail -n1 "$WORK/$kernel-$server.qemu.log"))"
		return 1
	}
	for ((i = 0; i < READY_S * 2; i++)); do
		if [[ $kernel == linux ]] && grep -qa 'server ready' "$log"; then
			break
		fi
		if [[ $kernel == solo ]] && grep -qa -e '^solo: starting the app' "$log"; then
			break
		fi
		if ! kill -0 "$qemu_pid" 2>/dev/null; then
			echo "QEMU ended before the server started (see ${log#"$ROOT"/})"
			return 1
		fi
		sleep 0.5
	done
	if "$NETLOAD" --wait 60 127.0.0.1 "$port" / >/dev/null 2>"$WORK/$kernel-$server.wait"; then
		return 0
	fi
	if [[ $kernel == solo ]] && ! tr -d '\r' <"$log" | grep -qa '^solo: net'; then
		echo "no answer: the boot log has no 'solo: net' line (no NIC, or eth0 did not come up)"
	elif tr -d '\r' <"$log" | grep -qa '^solo: exit'; then
		echo "the server ended: $(tr -d '\r' <"$log" | grep -a '^solo: exit' | tail -n1)"
	else
		echo "no answer on 127.0.0.1:$port within the wait ($(tail -n1 "$WORK/$kernel-$server.wait"))"
	fi
	return 1
}

# measure KERNEL SERVER PORT: the figures into $WORK/KERNEL-SERVER.figures
# as "KEY VALUE" lines.
measure() {
	local kernel=$1 server=$2 port=$3 out="$WORK/$1-$2.figures" big_path r line
	local cpu0 cpu1 total_req=0 rps1=() rps10=() p50=() p99=() mbs=()

	[[ $server == nginx ]] && big_path=/big.bin || big_path="/bytes?n=$BIG_BYTES"
	: >"$out"
	"$NETLOAD" -c 4 -n 200 -t 60 127.0.0.1 "$port" / >/dev/null ||
		say "$kernel $server: errors in the warm-up"
	cpu0=$(cpu_ms)
	for ((r = 0; r < runs; r++)); do
		line=$("$NETLOAD" -c 1 -n "$requests" -t 120 127.0.0.1 "$port" /) ||
			say "$kernel $server: errors, 1 conn: $line"
		say "$kernel $server 1 conn: $line"
		rps1+=("$(field rps "$line")") p50+=("$(field p50_us "$line")")
		p99+=("$(field p99_us "$line")")
		total_req=$((total_req + $(field requests "$line")))
		line=$("$NETLOAD" -c 10 -n "$((requests * 2))" -t 120 127.0.0.1 "$port" /) ||
			say "$kernel $server: errors, 10 conns: $line"
		say "$kernel $server 10 conns: $line"
		rps10+=("$(field rps "$line")")
		total_req=$((total_req + $(field requests "$line")))
	done
	cpu1=$(cpu_ms)
	for ((r = 0; r < runs; r++)); do
		line=$("$NETLOAD" -c 1 -n 1 -t 120 -T 60 127.0.0.1 "$port" "$big_path") ||
			say "$kernel $server: errors, 10 MiB: $line"
		[[ $(field body_bytes "$line") == "$BIG_BYTES" ]] ||
			say "$kernel $server: the 10 MiB GET brought $(field body_bytes "$line") bytes"
		say "$kernel $server 10 MiB: $line"
		mbs+=("$(field mb_per_s "$line")")
	done
	{
		echo "rps1 $(printf '%s\n' "${rps1[@]}" | median)"
		echo "rps10 $(printf '%s\n' "${rps10[@]}" | median)"
		echo "cpu_ms_per_req $(awk -v c=$((cpu1 - cpu0)) -v n=$total_req 'BEGIN { printf "%.3f", n ? c / n : 0 }')"
		echo "p50_us $(printf '%s\n' "${p50[@]}" | median)"
		echo "p99_us $(printf '%s\n' "${p99[@]}" | median)"
		echo "mb_per_s $(printf '%s\n' "${mbs[@]}" | median)"
	} >"$out"
}

# The Solo image of SERVER, with the files the Linux peer's initramfs has.
solo_image() {
	local server=$1 img="$WORK/solo-$1.img" nginx_dir="$ROOT/tests/real/nginx"

	case $server in
	nginx)
		"$ROOT/tools/mkimg.sh" -o "$img" --app "$B/real/nginx" --name nginx \
			--args '-p / -c /etc/nginx/nginx.conf' \
			--file "$nginx_dir/nginx.conf:/etc/nginx/nginx.conf" \
			--file "$nginx_dir/passwd:/etc/passwd" --file "$nginx_dir/group:/etc/group" \
			--file "$nginx_dir/www:/srv/www" --file "$B/bench/www-extra/big.bin:/srv/www/" \
			>/dev/null
		;;
	httpd)
		"$ROOT/tools/mkimg.sh" -o "$img" --app "$B/real/httpd" --name httpd --args ':8080' \
			>/dev/null
		;;
	esac
	echo "$img"
}

run_one() {
	local kernel=$1 server=$2 image=$3 port why

	port=$(free_port)
	say "booting $kernel with $server (port $port, $nic)"
	boot "$kernel" "$server" "$image" "$port"
	if why=$(wait_ready "$kernel" "$server" "$port"); then
		measure "$kernel" "$server" "$port"
	else
		say "$kernel $server: $why"
		echo "why $why" >"$WORK/$kernel-$server.figures"
	fi
	stop_qemu
}

# value FILE KEY: a figure, or n/a.
value() {
	local v

	v=$(awk -v k="$2" '$1 == k { print $2 }' "$1" 2>/dev/null)
	echo "${v:-n/a}"
}

table() {
	local server=$1 key label
	local lf="$WORK/linux-$server.figures" sf="$WORK/solo-$server.figures"
	local -a keys=(rps1 rps10 cpu_ms_per_req p50_us p99_us mb_per_s)
	local -A labels=([rps1]="requests/s, 1 conn" [rps10]="requests/s, 10 conns"
		[cpu_ms_per_req]="QEMU CPU ms/request" [p50_us]="p50 latency us, 1 conn"
		[p99_us]="p99 latency us, 1 conn" [mb_per_s]="10 MiB GET, MB/s")

	echo
	echo "bench-net: $server, NIC $nic; Linux peer: $(paste -sd, "$B/bench/linux/versions.txt" | sed 's/,/, /g')"
	printf '%-26s %12s %12s %12s\n' figure Linux Solo Solo/Linux
	for key in "${keys[@]}"; do
		label=${labels[$key]}
		awk -v l="$label" -v a="$(value "$lf" "$key")" -v b="$(value "$sf" "$key")" 'BEGIN {
			r = (a != "n/a" && b != "n/a" && a + 0 > 0) ? sprintf("%.3f", b / a) : "n/a"
			printf "%-26s %12s %12s %12s\n", l, a, b, r }'
	done
	for f in "$lf" "$sf"; do
		[[ ! -f $f ]] || ! grep -q '^why ' "$f" ||
			echo "  $(basename "${f%%-*}"): $(sed -n 's/^why //p' "$f")"
	done
}

main() {
	local s accel_line

	while (($# > 0)); do
		case $1 in
		--server) [[ $# -ge 2 ]] || die "--server needs a value"
			case $2 in both) servers=(nginx httpd) ;; nginx | httpd) servers=("$2") ;;
			*) die "--server is nginx, httpd or both" ;; esac
			shift 2 ;;
		--nic) [[ $# -ge 2 ]] || die "--nic needs a value"; nic=$2; shift 2 ;;
		--runs) [[ ${2:-} =~ ^[1-9][0-9]?$ ]] || die "--runs wants 1..99"; runs=$2; shift 2 ;;
		--requests) [[ ${2:-} =~ ^[1-9][0-9]{0,6}$ ]] || die "--requests wants 1..9999999"
			requests=$2; shift 2 ;;
		--accel) [[ $# -ge 2 ]] || die "--accel needs a value"; accel=$2; shift 2 ;;
		-h | --help) usage; exit 0 ;;
		*) die "unknown option '$1' (try --help)" ;;
		esac
	done
	case $nic in virtio | virtio-legacy | e1000e | e1000) ;;
	*) die "--nic is virtio, virtio-legacy, e1000e or e1000" ;; esac
	[[ -x $NETLOAD ]] || die "$NETLOAD is missing: make bench-net builds it"
	for s in "${servers[@]}"; do
		[[ -x $B/real/$s ]] || die "build/real/$s is missing: make real-programs"
	done
	mkdir -p "$WORK" "$B/bench/www-extra"
	trap stop_qemu EXIT
	trap 'exit 130' INT TERM

	# The 10 MiB file nginx serves: the pattern of httpd's /bytes.
	if [[ ! -f $B/bench/www-extra/big.bin ]]; then
		yes 0123456789abcdefghijklmnopqrstuvwxyz | head -c "$BIG_BYTES" >"$B/bench/www-extra/big.bin"
	fi
	"$ROOT/tools/linux-peer.sh" "$B/bench/linux"
	for s in "${servers[@]}"; do
		rm -f "$WORK"/*-"$s".figures
		run_one linux "$s" "$B/bench/linux/linux-$s.img"
		run_one solo "$s" "$(solo_image "$s")"
	done
	if [[ $accel != auto ]]; then
		accel_line=$accel
	elif [[ ! -e /dev/kvm ]]; then
		accel_line="tcg (no /dev/kvm)"
	else
		accel_line="auto: $(sed -n 2p "$B/.kvm-probe" 2>/dev/null || echo '?') (build/.kvm-probe)"
	fi
	echo
	echo "bench-net: $runs runs of $requests requests (1 conn) and $((requests * 2)) (10 conns);" \
		"QEMU $(qemu-system-x86_64 --version | head -n1 | awk '{ print $4 }'), accel $accel_line"
	for s in "${servers[@]}"; do
		table "$s"
	done
	for s in "${servers[@]}"; do
		grep -q '^rps1 ' "$WORK/linux-$s.figures" || die "Linux's $s figures are missing"
	done
}

main "$@"
