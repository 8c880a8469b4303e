#!/usr/bin/env bash
# check-layers.sh - fails when an #include points the wrong way between the
# layers docs/architecture.md draws (run by `make test`, through
# `make check-layers`). Each rule: the files it covers, and the include
# paths they may not use (extended regular expressions over "path").
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

status=0

# includes FILE...: prints "file: path" for each quoted #include.
includes() {
	grep -HoE '^#include "[^"]+"' "$@" 2>/dev/null | sed -E 's/:#include "(.*)"/: \1/'
}

# report DESCRIPTION GREP-FLAGS REGEX FILE...: the includes of FILE... that
# grep (with GREP-FLAGS) selects are errors.
report() {
	local what=$1 flags=$2 regex=$3 bad
	shift 3
	bad=$(includes "$@" | grep $flags ": ($regex)\$" || true)
	if [[ -n $bad ]]; then
		echo "check-layers: $what:" >&2
		echo "$bad" | sed 's/^/  /' >&2
		status=1
	fi
}

# allow DESCRIPTION REGEX FILE...: every include not matching REGEX is an error.
allow() { report "$1" -vE "$2" "${@:3}"; }
# forbid DESCRIPTION REGEX FILE...: every include matching REGEX is an error.
forbid() { report "$1" -E "$2" "${@:3}"; }

shopt -s nullglob
services=(kernel/wait.[ch] kernel/time.[ch] kernel/thread.[ch] kernel/signal.[ch]
	kernel/futex.[ch] kernel/console.[ch] kernel/irq.[ch] kernel/netdev.[ch] kernel/defer.[ch] kernel/kprintf.[ch]
	kernel/panic.[ch] kernel/percpu.h kernel/klib.[ch] kernel/log.h)

allow "mm/ is portable: only kernel/abi, klib, kprintf, panic and the MMU bits" \
	'mm/.*|kernel/abi/.*|kernel/(klib|kprintf|panic)\.h|kernel/arch/x86_64/mmu\.h' mm/*.[ch]
forbid "the kernel services never reach up into fs/ or drivers/" 'fs/.*|drivers/.*' \
	"${services[@]}"
forbid "fs/ never names a driver" 'drivers/.*' fs/*.[ch]
forbid "net/ (the stack and sockets) reaches devices only through kernel/netdev.h" 'drivers/.*' \
	$(find net -name '*.[ch]')
forbid "fs/ and the services do not reach up into net/" 'net/.*' fs/*.[ch] "${services[@]}"
forbid "drivers/ reach the kernel only through its registries and the CPU's ports" \
	'fs/.*|kernel/(thread|signal|wait|time|app|syscall|proc|mman)\.h' drivers/*.[ch]
forbid "only the boot and power-off sequences (kernel/main.c, power.c) name drivers" \
	'drivers/.*' $(ls kernel/*.[ch] kernel/arch/x86_64/*.[ch] | grep -vE '^kernel/(main|power)\.c$')
exit $status
