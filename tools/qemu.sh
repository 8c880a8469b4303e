#!/usr/bin/env bash
# qemu.sh - boot a Solo disk image under QEMU + OVMF and return the app's
# exit status, read from the serial contract (the last "solo: exit N" line).
#
# The image is attached with snapshot=on, so the file is never modified, and
# each run gets a fresh copy of the OVMF variable store: runs are independent
# and can go in parallel (unless they share --gdb or --monitor endpoints).

# QEMU option values are comma lists, not array separators:
# shellcheck disable=SC2054
set -euo pipefail

readonly PROG=qemu.sh
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
readonly ROOT

# Exit statuses besides the app's own (0..123).
readonly EXIT_TIMEOUT=124   # --timeout expired
readonly EXIT_NO_STATUS=125 # QEMU ended without a "solo: exit" line
readonly EXIT_USAGE=126     # bad option or value, KVM asked for but unusable
readonly EXIT_MISSING=127   # image, firmware or QEMU not found

readonly KVM_PROBE_SECONDS=15
readonly OVMF_DIR=${OVMF_DIR:-/usr/share/OVMF}
QEMU=${QEMU:-qemu-system-x86_64}

usage() {
	cat <<'EOF'
usage: tools/qemu.sh IMAGE [options]

Boots IMAGE (from tools/mkimg.sh, in any of its --format choices) under
QEMU with OVMF. The image file is never modified (snapshot=on); each run
uses a fresh copy of the UEFI variables.

Options:
  --serial stdio|FILE   where COM1 goes [stdio]. stdio is interactive: the
                        QEMU monitor is muxed in (Ctrl-A C switches, Ctrl-A X
                        quits, Ctrl-A H helps) and the output is also logged
                        for the exit status. FILE gets the complete log.
  --input FILE          COM1 gets FILE as typed input (needs --serial FILE),
                        sent once the log says "solo: starting the app";
                        after its end nothing more arrives
  --timeout SEC         kill QEMU after SEC seconds (exit 124) [none]
  --mem SIZE            guest memory, e.g. 512M or 2G [512M]
  --smp N[,maxcpus=M]   number of CPUs [$SOLO_QEMU_SMP if set, else 1]; with
                        maxcpus, the firmware's tables list M CPUs of which
                        N are present (the rest disabled)
  --machine q35|pc      machine type [q35]
  --firmware 4m|2m      OVMF_CODE_4M.fd + OVMF_VARS_4M.fd, or the 2 MiB
                        OVMF_CODE.fd + OVMF_VARS.fd [4m]
  --secure-boot VARS    boot with Secure Boot enforced: OVMF_CODE_4M.secboot.fd
                        (SMM on, q35 only) with the variables VARS: snakeoil
                        (OVMF_VARS_4M.snakeoil.fd: Debian's snakeoil key is PK,
                        KEK and db; sign with /usr/share/ovmf/PkKek-1-snakeoil.*),
                        ms (OVMF_VARS_4M.ms.fd: Microsoft's keys, as most PCs),
                        or a variables file of your own (e.g. with your keys
                        enrolled) [off]
  --keep-vars FILE      write the UEFI variables as the run left them to FILE
                        (e.g. after tools/keys.sh's enroller ran) [not kept]
  --accel auto|kvm|tcg  [auto]: KVM only if a probe shows OVMF boots under it
                        here (the answer is cached in build/.kvm-probe),
                        otherwise TCG. CPU model: host (KVM), max (TCG).
  --net none|user|stream:PATH
                        the network [none]: none has no NIC at all; user is
                        QEMU's user-mode network (slirp: the guest is
                        10.0.2.15, the gateway and DNS 10.0.2.2/.3);
                        stream:PATH wires the NIC to a unix stream socket
                        that QEMU listens on at PATH (QEMU's stream netdev:
                        each frame is a 4-byte big-endian length and the
                        Ethernet frame). Whatever connects there is the
                        whole link, e.g. build/tools/nettorture; until
                        something connects the guest's frames are dropped
  --nic MODEL           the NIC with --net user or stream [virtio]: virtio (modern
                        virtio-net-pci), virtio-legacy (the same with
                        disable-modern=on: the legacy I/O interface),
                        e1000e (82574L, q35's own) or e1000 (82540EM, pc's)
  --hostfwd PROTO:HOST:GUEST
                        forward 127.0.0.1:HOST on the host to GUEST in the
                        guest, PROTO tcp or udp (repeatable; --net user);
                        the host side is bound to 127.0.0.1 only
  --restrict            --net user with restrict=on: the guest reaches
                        nothing outside (only --hostfwd connections in)
  --format FORMAT       the image's format: auto, raw, qcow2, vmdk, vhdx or
                        vdi [auto: what `qemu-img info` reads in the file
                        (qemu-utils); raw when qemu-img is not installed]
  --usb                 attach the image as a USB stick (usb-storage on
                        qemu-xhci) instead of a SATA/IDE disk
  --xhci                a USB 3 controller (qemu-xhci, id xhci) even without
                        --usb: something to plug a keyboard into later, with
                        the monitor's device_add usb-kbd,bus=xhci.0
  --usb-keyboard        a USB keyboard (usb-kbd, id usbkbd) on the xhci
                        controller (implies --xhci); the monitor's sendkey
                        then types on it rather than on the PS/2 keyboard
  --no-ps2              a machine without the i8042 PS/2 controller, as most
                        PCs sold today (i8042=off)
  --gdb                 start paused with a gdb server on :1234 (-s -S); then
                        in another terminal: gdb -x tools/gdbinit
  --no-debug-exit       leave out the isa-debug-exit device, so the guest
                        must power off the way real hardware does (ACPI)
  --display             show the screen in a window [no window]
  --monitor SOCKET      also serve the QEMU monitor on the unix socket SOCKET
  --qemu-arg ARG        pass ARG to QEMU as is (repeatable)
  -h, --help            this text
Options also accept --opt=VALUE. Environment: QEMU (the binary,
qemu-system-x86_64), OVMF_DIR (/usr/share/OVMF), OVMF_CODE / OVMF_VARS
(explicit firmware files).

Always: -no-reboot (a guest reset ends QEMU), isa-debug-exit at
port 0xf4 (unless --no-debug-exit) (QEMU then exits with (v << 1) | 1), a standard VGA for GOP.

Exit status:
  N      the app's exit status, from the last "solo: exit N" serial line
  124    timeout
  125    QEMU ended without a "solo: exit" line (panic, reset, QEMU error)
  126    usage error, or --accel kvm when KVM is unusable
  127    image, firmware or QEMU not found
(So an app's own status 124..127 reads like a runner status: tests avoid them.)
EOF
}

say() {
	echo "$PROG: $*" >&2
}

die_with() {
	local status=$1

	shift
	say "$*"
	exit "$status"
}

usage_error() {
	say "$*"
	echo "Try '$PROG --help'." >&2
	exit "$EXIT_USAGE"
}

# QEMU's option syntax splits on ',': a literal comma is written ',,'.
qemu_escape() {
	printf '%s' "${1//,/,,}"
}

# ------------------------------------------------------------ options

image=
serial=stdio
input=
timeout_s=
mem=512M
smp=${SOLO_QEMU_SMP:-1}
machine=q35
firmware=4m
secure_boot=
keep_vars=
accel=auto
usb=0
xhci=0
usb_keyboard=0
ps2=1
debug_exit=1
gdb=0
display=0
monitor=
net=none
nic=virtio
restrict=0
format=auto
declare -a extra_args=() hostfwds=()

need_value() {
	(($2 >= 2)) || usage_error "option '$1' needs a value"
}

parse_options() {
	local opt value

	while (($# > 0)); do
		opt=$1
		if [[ $opt == --*=* ]]; then
			value=${opt#*=}
			opt=${opt%%=*}
			shift
			set -- "$opt" "$value" "$@"
		fi
		case $opt in
		-h | --help) usage; exit 0 ;;
		--serial) need_value "$opt" $#; serial=$2; shift 2 ;;
		--timeout) need_value "$opt" $#; timeout_s=$2; shift 2 ;;
		--input) need_value "$opt" $#; input=$2; shift 2 ;;
		--mem) need_value "$opt" $#; mem=$2; shift 2 ;;
		--smp) need_value "$opt" $#; smp=$2; shift 2 ;;
		--machine) need_value "$opt" $#; machine=$2; shift 2 ;;
		--firmware) need_value "$opt" $#; firmware=$2; shift 2 ;;
		--secure-boot) need_value "$opt" $#; secure_boot=$2; shift 2 ;;
		--keep-vars) need_value "$opt" $#; keep_vars=$2; shift 2 ;;
		--accel) need_value "$opt" $#; accel=$2; shift 2 ;;
		--monitor) need_value "$opt" $#; monitor=$2; shift 2 ;;
		--qemu-arg) need_value "$opt" $#; extra_args+=("$2"); shift 2 ;;
		--net) need_value "$opt" $#; net=$2; shift 2 ;;
		--nic) need_value "$opt" $#; nic=$2; shift 2 ;;
		--hostfwd) need_value "$opt" $#; hostfwds+=("$2"); shift 2 ;;
		--format) need_value "$opt" $#; format=$2; shift 2 ;;
		--restrict) restrict=1; shift ;;
		--usb) usb=1; shift ;;
		--xhci) xhci=1; shift ;;
		--usb-keyboard) xhci=1 usb_keyboard=1; shift ;;
		--no-ps2) ps2=0; shift ;;
		--no-debug-exit) debug_exit=0; shift ;;
		--gdb) gdb=1; shift ;;
		--display) display=1; shift ;;
		-*) usage_error "unknown option '$opt'" ;;
		*)
			[[ -z $image ]] || usage_error "more than one image: '$image' and '$opt'"
			image=$1
			shift
			;;
		esac
	done

	[[ -n $image ]] || usage_error "missing IMAGE"
	[[ -z $timeout_s || $timeout_s =~ ^[1-9][0-9]*$ ]] ||
		usage_error "--timeout wants a whole number of seconds > 0, not '$timeout_s'"
	[[ $smp =~ ^[1-9][0-9]*(,maxcpus=[1-9][0-9]*)?$ ]] ||
		usage_error "--smp wants N or N,maxcpus=M (numbers >= 1), not '$smp'"
	[[ $mem =~ ^[1-9][0-9]*[MGmg]?$ ]] || usage_error "--mem wants a size like 512M or 2G, not '$mem'"
	[[ $machine == q35 || $machine == pc ]] || usage_error "--machine is q35 or pc, not '$machine'"
	[[ $firmware == 4m || $firmware == 2m ]] || usage_error "--firmware is 4m or 2m, not '$firmware'"
	if [[ -n $secure_boot ]]; then
		[[ $firmware == 4m ]] || usage_error "--secure-boot needs --firmware 4m"
		[[ $machine == q35 ]] || usage_error "--secure-boot needs --machine q35 (OVMF's Secure Boot build needs SMM)"
	fi
	case $accel in
	auto | kvm | tcg) ;;
	*) usage_error "--accel is auto, kvm or tcg, not '$accel'" ;;
	esac
	[[ -n $serial ]] || usage_error "--serial wants stdio or a file name"
	case $format in
	auto | raw | qcow2 | vmdk | vhdx | vdi) ;;
	*) usage_error "--format is auto, raw, qcow2, vmdk, vhdx or vdi, not '$format'" ;;
	esac
	case $net in
	none | user) ;;
	stream:?*)
		# sun_path holds 107 bytes and a NUL.
		((${#net} - 7 <= 107)) || usage_error "--net stream:PATH: PATH is longer than 107 bytes"
		;;
	*) usage_error "--net is none, user or stream:PATH, not '$net'" ;;
	esac
	case $nic in
	virtio | virtio-legacy | e1000e | e1000) ;;
	*) usage_error "--nic is virtio, virtio-legacy, e1000e or e1000, not '$nic'" ;;
	esac
	local fwd
	for fwd in "${hostfwds[@]}"; do
		[[ $fwd =~ ^(tcp|udp):[1-9][0-9]{0,4}:[1-9][0-9]{0,4}$ ]] ||
			usage_error "--hostfwd wants tcp|udp:HOSTPORT:GUESTPORT, not '$fwd'"
	done
	[[ $net == user || (${#hostfwds[@]} -eq 0 && $restrict == 0) ]] ||
		usage_error "--hostfwd and --restrict need --net user"
	[[ -z $input || $serial != stdio ]] || usage_error "--input needs --serial FILE (stdio is already the input)"
}

# ------------------------------------------------------------ setup

tmpdir=
tty_state=

# shellcheck disable=SC2317 # called from the EXIT trap
cleanup() {
	# QEMU restores the terminal itself, unless it was SIGKILLed.
	[[ -z $tty_state ]] || stty "$tty_state" 2>/dev/null || true
	[[ -z $tmpdir ]] || rm -rf -- "$tmpdir"
}

find_firmware() {
	local code vars

	if [[ -n $secure_boot ]]; then
		code=$OVMF_DIR/OVMF_CODE_4M.secboot.fd
		case $secure_boot in
		snakeoil) vars=$OVMF_DIR/OVMF_VARS_4M.snakeoil.fd ;;
		ms) vars=$OVMF_DIR/OVMF_VARS_4M.ms.fd ;;
		*) vars=$secure_boot ;;
		esac
	elif [[ $firmware == 4m ]]; then
		code=$OVMF_DIR/OVMF_CODE_4M.fd vars=$OVMF_DIR/OVMF_VARS_4M.fd
	else
		code=$OVMF_DIR/OVMF_CODE.fd vars=$OVMF_DIR/OVMF_VARS.fd
	fi
	ovmf_code=${OVMF_CODE:-$code}
	ovmf_vars=${OVMF_VARS:-$vars}
	[[ -r $ovmf_code ]] || die_with "$EXIT_MISSING" "firmware not found: $ovmf_code (install ovmf: tools/deps.sh)"
	[[ -r $ovmf_vars ]] || die_with "$EXIT_MISSING" "firmware variables not found: $ovmf_vars (install ovmf: tools/deps.sh)"
}

# The two pflash drives: read-only code, and this run's own variables.
firmware_args() {
	local vars_copy=$1

	printf '%s\0' \
		-drive "if=pflash,format=raw,unit=0,readonly=on,file=$(qemu_escape "$ovmf_code")" \
		-drive "if=pflash,format=raw,unit=1,file=$(qemu_escape "$vars_copy")"
}

# The network options: nothing (-nic none), or a backend n0 (user-mode, or
# a unix stream socket QEMU listens on) and the NIC model on it.
net_args() {
	local fwd proto host guest netdev=user,id=n0

	if [[ $net == none ]]; then
		printf '%s\0' -nic none
		return
	fi
	if [[ $net == stream:* ]]; then
		netdev="stream,id=n0,server=on,addr.type=unix,addr.path=$(qemu_escape "${net#stream:}")"
	fi
	((restrict)) && netdev+=,restrict=on
	for fwd in "${hostfwds[@]}"; do
		IFS=: read -r proto host guest <<<"$fwd"
		netdev+=",hostfwd=$proto:127.0.0.1:$host-:$guest"
	done
	printf '%s\0' -netdev "$netdev"
	case $nic in
	virtio) printf '%s\0' -device virtio-net-pci,netdev=n0 ;;
	virtio-legacy) printf '%s\0' -device virtio-net-pci,netdev=n0,disable-modern=on ;;
	e1000e | e1000) printf '%s\0' -device "$nic,netdev=n0" ;;
	esac
}

# The image's format for -drive: --format, else what qemu-img reads in it.
# Naming it keeps QEMU from guessing (and from its raw-probing warning).
image_format() {
	local info

	if [[ $format != auto ]]; then
		echo "$format"
		return
	fi
	if ! command -v qemu-img >/dev/null; then
		echo raw
		return
	fi
	info=$(qemu-img info --output=json -- "$image" 2>/dev/null) ||
		die_with "$EXIT_USAGE" "qemu-img cannot read $image (give --format)"
	info=${info#*\"format\": \"}
	info=${info%%\"*}
	case $info in
	raw | qcow2 | vmdk | vhdx | vdi) echo "$info" ;;
	*) die_with "$EXIT_USAGE" "$image is a '$info' image: mkimg makes raw, qcow2, vmdk, vhdx or vdi" ;;
	esac
}

# ------------------------------------------------------------ KVM probe

# OVMF fails under KVM on some hosts (nested virtualization) while /dev/kvm
# is there and simple guests work, so the only reliable test is to boot OVMF
# itself: it prints "BdsDxe: ..." on COM1 when it reaches the boot manager.
# Prints a one-line reason on failure; returns 0 if KVM works.
probe_kvm() {
	local dir=$tmpdir/kvm-probe pid i reason='' detail
	local -a fw

	mkdir -p "$dir"
	cp -- "$ovmf_vars" "$dir/vars.fd"
	mapfile -d '' -t fw < <(firmware_args "$dir/vars.fd")
	"$QEMU" -machine q35 -accel kvm -cpu host -m 256M -nodefaults -display none -nic none \
		-no-reboot "${fw[@]}" -serial "file:$(qemu_escape "$dir/serial.log")" -monitor none \
		</dev/null >"$dir/qemu.log" 2>&1 &
	pid=$!
	for ((i = 0; i < KVM_PROBE_SECONDS * 5; i++)); do
		if grep -qs BdsDxe "$dir/serial.log"; then
			kill "$pid" 2>/dev/null || true
			wait "$pid" 2>/dev/null || true
			return 0
		fi
		if ! kill -0 "$pid" 2>/dev/null; then
			reason="QEMU exited"
			break
		fi
		# A "KVM internal error" stops the guest but leaves QEMU running.
		if grep -qsi error "$dir/qemu.log"; then
			reason="QEMU error"
			break
		fi
		sleep 0.2
	done
	kill "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	detail=$(grep -a -m1 -i -E 'error|assert' "$dir/qemu.log" 2>/dev/null || true)
	echo "${detail:-${reason:-no firmware output within $KVM_PROBE_SECONDS s}}"
	return 1
}

# Decides KVM (returns 0) or TCG, probing once per host/kernel/QEMU version.
kvm_works() {
	local cache=$ROOT/build/.kvm-probe key line1='' line2='' why tmp

	if [[ ! -e /dev/kvm ]]; then
		return 1
	fi
	if [[ ! -r /dev/kvm || ! -w /dev/kvm ]]; then
		say "accel tcg (no access to /dev/kvm: add yourself to the kvm group for speed)"
		return 1
	fi
	key="$(hostname 2>/dev/null || cat /proc/sys/kernel/hostname) $(uname -r) $("$QEMU" --version | head -n1)"
	if [[ -r $cache ]]; then
		{ IFS= read -r line1 && IFS= read -r line2; } <"$cache" || true
		if [[ $line1 == "$key" ]]; then
			[[ $line2 == kvm ]]
			return
		fi
	fi

	if why=$(probe_kvm); then
		line2=kvm
		say "accel kvm (probe passed; cached in build/.kvm-probe)"
	else
		line2=tcg
		say "accel tcg (kvm probe failed: $why; cached in build/.kvm-probe)"
	fi
	# Written atomically: parallel runs may probe at the same time.
	if mkdir -p "$ROOT/build" 2>/dev/null && tmp=$(mktemp "$ROOT/build/.kvm-probe.XXXXXX" 2>/dev/null); then
		if ! { printf '%s\n%s\n' "$key" "$line2" >"$tmp" && mv -f -- "$tmp" "$cache"; }; then
			rm -f -- "$tmp"
		fi
	fi
	[[ $line2 == kvm ]]
}

# ------------------------------------------------------------ run

# The last "solo: exit N" line of the log (CR tolerated), as N; else nothing.
exit_status_from_log() {
	[[ -f $1 ]] || return 0
	{ tr -d '\r' <"$1" | grep -a -E '^solo: exit [0-9]+$' || true; } | tail -n1 | sed 's/^solo: exit //'
}

main() {
	local log vars_copy status=0 drive_format app_status cpu=max accel_name=tcg use_kvm=0 timed_out=0
	local -a cmd fw netopts

	parse_options "$@"
	command -v "$QEMU" >/dev/null ||
		die_with "$EXIT_MISSING" "$QEMU not found (install qemu-system-x86: tools/deps.sh)"
	[[ -e $image ]] || die_with "$EXIT_MISSING" "image not found: $image (make image, or tools/mkimg.sh)"
	[[ -f $image && -r $image ]] || die_with "$EXIT_MISSING" "image is not a readable file: $image"
	find_firmware
	drive_format=$(image_format)

	trap cleanup EXIT
	trap 'exit 130' INT TERM HUP
	tmpdir=$(mktemp -d "${TMPDIR:-/tmp}/solo-qemu.XXXXXX")
	vars_copy=$tmpdir/OVMF_VARS.fd
	cp -- "$ovmf_vars" "$vars_copy"

	case $accel in
	kvm)
		[[ -r /dev/kvm && -w /dev/kvm ]] || die_with "$EXIT_USAGE" "--accel kvm: /dev/kvm is missing or not accessible"
		use_kvm=1
		;;
	auto) if kvm_works; then use_kvm=1; fi ;;
	esac
	if ((use_kvm)); then
		cpu=host accel_name=kvm
	fi

	mapfile -d '' -t fw < <(firmware_args "$vars_copy")
	mapfile -d '' -t netopts < <(net_args)
	local machine_opts=$machine
	((ps2)) || machine_opts+=,i8042=off
	# OVMF's Secure Boot build keeps its variables behind SMM, so the OS
	# cannot rewrite them: SMM on, and the flash writable only from SMM.
	[[ -z $secure_boot ]] || machine_opts+=,smm=on
	cmd=("$QEMU"
		-machine "$machine_opts" -accel "$accel_name" -cpu "$cpu"
		-m "$mem" -smp "$smp"
		-nodefaults -vga std "${netopts[@]}" -no-reboot
		"${fw[@]}"
		-drive "if=none,id=disk0,format=$drive_format,snapshot=on,file=$(qemu_escape "$image")")
	[[ -z $secure_boot ]] || cmd+=(-global driver=cfi.pflash01,property=secure,value=on)
	((debug_exit)) && cmd+=(-device isa-debug-exit,iobase=0xf4,iosize=0x04)
	((usb || xhci)) && cmd+=(-device qemu-xhci,id=xhci)
	if ((usb)); then
		cmd+=(-device usb-storage,bus=xhci.0,drive=disk0,bootindex=0)
	else
		cmd+=(-device ide-hd,drive=disk0,bootindex=0)
	fi
	((usb_keyboard)) && cmd+=(-device usb-kbd,bus=xhci.0,id=usbkbd)
	((display)) || cmd+=(-display none)

	if [[ $serial == stdio ]]; then
		log=$tmpdir/serial.log
		cmd+=(-chardev "stdio,id=serial0,mux=on,signal=off,logfile=$(qemu_escape "$log")"
			-serial chardev:serial0 -mon chardev=serial0,mode=readline)
		[[ ! -t 0 ]] || tty_state=$(stty -g 2>/dev/null || true)
	else
		log=$serial
		mkdir -p -- "$(dirname -- "$log")" || die_with "$EXIT_USAGE" "cannot create the directory of $log"
		: >"$log" || die_with "$EXIT_USAGE" "cannot write the serial log $log"
		if [[ -n $input ]]; then
			# QEMU 7.2's file chardev has no input-path: COM1 is QEMU's
			# stdio instead, with stdin from FILE and stdout to the log.
			[[ -f $input && -r $input ]] || die_with "$EXIT_MISSING" "input file not found: $input"
			cmd+=(-chardev "stdio,id=serial0,signal=off" -serial chardev:serial0)
		else
			cmd+=(-chardev "file,id=serial0,path=$(qemu_escape "$log")" -serial chardev:serial0)
		fi
	fi
	if [[ -n $monitor ]]; then
		cmd+=(-monitor "unix:$(qemu_escape "$monitor"),server=on,wait=off")
	elif [[ $serial != stdio ]]; then
		cmd+=(-monitor none)
	fi
	if ((gdb)); then
		cmd+=(-s -S)
		say "waiting for gdb on :1234 (in another terminal: gdb -x tools/gdbinit)"
	fi
	cmd+=("${extra_args[@]}")

	if [[ -n $timeout_s ]]; then
		local -a tmo=(timeout -k 5)
		# Interactive: QEMU must stay in the terminal's foreground group.
		[[ $serial != stdio ]] || tmo+=(--foreground)
		cmd=("${tmo[@]}" "$timeout_s" "${cmd[@]}")
	fi
	if [[ -n $input ]]; then
		# The firmware reads COM1 too, and serial_init clears the FIFO:
		# FILE goes in only once the kernel starts the app.
		local fifo=$tmpdir/input.fifo
		mkfifo "$fifo"
		(
			exec 3>"$fifo"
			for ((i = 0; i < 600 * 10; i++)); do
				grep -qs 'solo: starting the app' "$log" && break
				sleep 0.1
			done
			cat -- "$input" >&3
			# Hold the write end open: QEMU sees no end of file.
			while kill -0 "$$" 2>/dev/null; do sleep 0.5; done
		) &
		local feeder=$!
		"${cmd[@]}" <"$fifo" >"$log" || status=$?
		kill "$feeder" 2>/dev/null || true
		wait "$feeder" 2>/dev/null || true
	else
		"${cmd[@]}" || status=$?
	fi
	if [[ -n $keep_vars ]]; then
		cp -- "$vars_copy" "$keep_vars" || die_with "$EXIT_USAGE" "cannot write --keep-vars $keep_vars"
	fi
	# 124: timed out; 137: it also needed the KILL signal.
	[[ -z $timeout_s || ($status != 124 && $status != 137) ]] || timed_out=1

	app_status=$(exit_status_from_log "$log")
	if ((timed_out)); then
		if [[ -n $app_status ]]; then
			say "timeout after $timeout_s s: the log has 'solo: exit $app_status' but QEMU did not end"
		else
			say "timeout after $timeout_s s"
		fi
		exit "$EXIT_TIMEOUT"
	fi
	if [[ -z $app_status ]]; then
		local panic

		panic=$(tr -d '\r' <"$log" 2>/dev/null | grep -a -m1 '^solo: panic:' || true)
		local how="QEMU exit status $status"
		# isa-debug-exit makes QEMU exit with (value << 1) | 1.
		((status <= 1 || status % 2 == 0 || status >= 128)) ||
			how+=", isa-debug-exit value $((status >> 1))"
		say "no 'solo: exit' line in the serial log ($how)${panic:+; $panic}"
		exit "$EXIT_NO_STATUS"
	fi
	exit $((10#$app_status & 255))
}

main "$@"
