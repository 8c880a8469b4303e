#!/usr/bin/env bash
# linux-peer.sh - build the Linux peer of make bench-net and make bench-apps:
# Debian's Linux 6.1 booted by the same OVMF and tools/qemu.sh as Solo,
# running the same static binaries as Solo does.
#
#   tools/linux-peer.sh [OUT_DIR]      default OUT_DIR: build/bench/linux
#   tools/linux-peer.sh --apps TREE --workloads "W..." [OUT_DIR]
#
# The first form writes OUT_DIR/linux-nginx.img and OUT_DIR/linux-httpd.img
# (make bench-net), the second OUT_DIR/linux-apps.img (make bench-apps): GPT
# disk images with one EFI System Partition (sfdisk + mtools, as
# tools/mkimg.sh) holding one file, EFI/BOOT/BOOTX64.EFI, a unified kernel
# image (UKI): systemd-boot-efi's linuxx64.efi.stub with the kernel (.linux),
# an initramfs (.initrd), the command line (.cmdline, which names the server
# or the workloads) and os-release (.osrel) added as PE sections with objcopy.
#
# Everything comes from Debian packages fetched with `apt-get download` into
# OUT_DIR/debs and unpacked with `dpkg -x` under OUT_DIR, never installed on
# the host: linux-image-amd64's kernel package (vmlinuz and modules),
# busybox-static (the initramfs's /init shell, ip, wget; also its cpio, which
# packs the initramfs) and systemd-boot-efi (the stub). The versions used are
# written to OUT_DIR/versions.txt. The .debs are fetched once; delete
# OUT_DIR/debs to take newer ones.
#
# bench-net's initramfs holds busybox, the NIC modules with what they depend
# on (virtio_pci and virtio_net with net_failover and failover, e1000e,
# e1000, and ipv6; what each needs, from its .modinfo), both servers, and
# tests/real/nginx's configuration, docroot, passwd and group at the paths
# the Solo image uses,
# and tests/bench/linux-init.sh as /init. /init configures eth0 statically
# (10.0.2.15/24, gateway 10.0.2.2: QEMU's user networking), starts the server
# named by server= on the command line, and prints "server ready" on the
# serial console once the server answers on 127.0.0.1:8080.
#
# bench-apps's initramfs holds busybox, the files of the directory TREE at
# the same paths from / (the benchmark driver and its inputs; no modules),
# and tests/bench/linux-apps-init.sh as /init, which runs the workloads that
# apps= on the command line names (the --workloads list), each as its own
# process, then powers off. It is rebuilt when TREE, the list or this script
# changed.
#
# Needs network for the first download, dpkg-deb, objcopy, sfdisk, mtools
# (xz if the modules come compressed); the servers: make real-programs.
set -euo pipefail

readonly PROG=linux-peer.sh
PATH=$PATH:/usr/sbin:/sbin
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
readonly ROOT
readonly SELF="$ROOT/tools/linux-peer.sh"
readonly INIT="$ROOT/tests/bench/linux-init.sh"
readonly APPS_INIT="$ROOT/tests/bench/linux-apps-init.sh"
readonly NGINX_DIR="$ROOT/tests/real/nginx"
readonly SERVERS=(nginx httpd)
# The NIC drivers tools/qemu.sh's --nic models need (virtio and
# virtio-legacy: the virtio PCI transport and virtio_net; e1000e; e1000) and IPv6 (Go's
# default listener is dual-stack [::]); what they need is found from their
# .modinfo. Loaded in this order.
readonly MODULES=(virtio_pci virtio_net e1000e e1000 ipv6)
IMG_MIB=64
readonly ESP_OFFSET=$((1024 * 1024))
readonly ESP_TYPE=C12A7328-F81F-11D2-BA4B-00A0C93EC93B

die() {
	echo "$PROG: $*" >&2
	exit 1
}

usage() {
	sed -n '2,42s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"
}

# download PKG: OUT_DIR/debs/PKG_*.deb, fetched when there is none; prints its path.
download() {
	local pkg=$1 deb log="$DEBS/download.log"

	deb=$(compgen -G "$DEBS/${pkg}_*.deb" | sort -V | tail -n1 || true)
	if [[ -z $deb ]]; then
		echo "$PROG: apt-get download $pkg" >&2
		(cd "$DEBS" && apt-get download "$pkg") >"$log" 2>&1 ||
			{ cat "$log" >&2; die "apt-get download $pkg failed"; }
		deb=$(compgen -G "$DEBS/${pkg}_*.deb" | sort -V | tail -n1 || true)
		[[ -n $deb ]] || die "apt-get download $pkg wrote no ${pkg}_*.deb"
	fi
	echo "$deb"
}

# The kernel package linux-image-amd64 depends on (linux-image-6.1.0-N-amd64):
# from a downloaded one if there is one, else from apt.
kernel_package() {
	local have

	have=$(compgen -G "$DEBS/linux-image-[0-9]*-amd64_*.deb" | sort -V | tail -n1 || true)
	if [[ -n $have ]]; then
		have=${have##*/}
		echo "${have%%_*}"
		return 0
	fi
	apt-cache depends linux-image-amd64 2>/dev/null |
		awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9].*-amd64$/ { print $2; exit }'
}

unpack() {
	local deb=$1 dir=$2

	rm -rf "$dir"
	mkdir -p "$dir"
	dpkg -x "$deb" "$dir" || die "dpkg -x ${deb##*/} failed"
	dpkg-deb -W --showformat='${Package} ${Version}\n' "$deb" >>"$OUT/versions.txt.tmp"
}

# module_deps KO: the modules KO needs (the depends= of its .modinfo
# section), one a line. Debian's package ships no modules.dep (depmod makes
# it when the package is installed, which it is not here).
module_deps() {
	local info="$OUT/modinfo.tmp"

	objcopy -O binary --only-section=.modinfo "$1" "$info" 2>/dev/null ||
		die "reading the .modinfo of $1 failed"
	tr '\0' '\n' <"$info" | sed -n 's/^depends=//p' | tr ',' '\n' | sed '/^$/d'
	rm -f "$info"
}

# modules_closure MODDIR NAME...: the .ko paths of the modules NAME and of
# everything they need, dependencies first. A module of modules.builtin
# needs no file.
modules_closure() {
	local moddir=$1 m f
	local -A path=() seen=()
	shift

	while IFS= read -r f; do
		m=${f##*/}
		m=${m%%.ko*}
		path[${m//-/_}]=$f
	done < <(find "$moddir/kernel" -name '*.ko*')
	visit() {
		local mod=${1//-/_} dep

		[[ -z ${seen[$mod]:-} ]] || return 0
		seen[$mod]=1
		if [[ -z ${path[$mod]:-} ]]; then
			grep -q "/${mod//_/[-_]}\.ko" "$moddir/modules.builtin" ||
				die "module $mod: neither in the package nor built in"
			return 0
		fi
		for dep in $(module_deps "${path[$mod]}"); do
			visit "$dep"
		done
		echo "${path[$mod]}"
	}
	for m in "$@"; do
		visit "$m"
	done
}

build_initramfs() {
	local kroot=$1 bbroot=$2 initrd=$3 dir="$OUT/initramfs" kver moddir m
	local -a mods

	kver=$(basename "$(compgen -G "$kroot/lib/modules/*" | head -n1)")
	moddir=$kroot/lib/modules/$kver
	[[ -d $moddir/kernel ]] || die "no modules in $moddir"
	modules_closure "$moddir" "${MODULES[@]}" >"$OUT/modules.list" ||
		die "resolving the modules ${MODULES[*]} failed"
	mapfile -t mods <"$OUT/modules.list"
	rm -rf "$dir"
	mkdir -p "$dir"/{bin,dev,proc,sys,tmp,etc/nginx,srv,lib/modules}
	cp "$bbroot/bin/busybox" "$dir/bin/busybox"
	: >"$dir/lib/modules/load.list"
	for m in "${mods[@]}"; do
		case $m in
		*.ko.xz) xz -dc "$m" >"$dir/lib/modules/$(basename "${m%.xz}")" ;;
		*.ko) cp "$m" "$dir/lib/modules/" ;;
		*) die "unexpected module file $m" ;;
		esac
		basename "${m%.xz}" >>"$dir/lib/modules/load.list"
	done
	cp "$INIT" "$dir/init"
	chmod 755 "$dir/init"
	cp "$ROOT/build/real/nginx" "$ROOT/build/real/httpd" "$dir/"
	cp "$NGINX_DIR/nginx.conf" "$dir/etc/nginx/nginx.conf"
	cp "$NGINX_DIR/passwd" "$NGINX_DIR/group" "$dir/etc/"
	cp -R "$NGINX_DIR/www" "$dir/srv/www"
	# The same generated file as the Solo image (tools/bench-net.sh makes it).
	[[ ! -f $OUT/../www-extra/big.bin ]] || cp "$OUT/../www-extra/big.bin" "$dir/srv/www/"
	(cd "$dir" && find . -mindepth 1 | LC_ALL=C sort |
		"$bbroot/bin/busybox" cpio -o -H newc 2>/dev/null) >"$initrd.tmp" ||
		die "packing the initramfs failed"
	mv -f "$initrd.tmp" "$initrd"
	echo "$kver"
}

# make_uki STUB VMLINUZ INITRD CMDLINE OSREL OUT: the sections go after the
# stub's last one, each at the next multiple of the stub's SectionAlignment
# (the recipe of systemd's own documentation for systemd 252, which has no
# ukify).
make_uki() {
	local stub=$1 vmlinuz=$2 initrd=$3 cmdline=$4 osrel=$5 out=$6 align offs
	local -a args=()

	align=$(objdump -p "$stub" | awk '$1 == "SectionAlignment" { print $2 }')
	align=$((16#$align))
	offs=$(objdump -h "$stub" | awk 'NF == 7 && $1 ~ /^[0-9]+$/ { print $3, $4 }' |
		while read -r size vma; do echo $((16#$size + 16#$vma)); done | sort -n | tail -n1)
	local name file
	for name in osrel cmdline linux initrd; do
		case $name in
		osrel) file=$osrel ;;
		cmdline) file=$cmdline ;;
		linux) file=$vmlinuz ;;
		initrd) file=$initrd ;;
		esac
		offs=$(((offs + align - 1) / align * align))
		args+=(--add-section ".$name=$file" --change-section-vma ".$name=$(printf '0x%x' "$offs")")
		offs=$((offs + $(stat -Lc%s "$file")))
	done
	objcopy "${args[@]}" "$stub" "$out.tmp" || die "objcopy of the UKI failed"
	mv -f "$out.tmp" "$out"
}

# make_esp_image EFI OUT: a GPT image whose ESP holds EFI as EFI/BOOT/BOOTX64.EFI.
make_esp_image() {
	local efi=$1 out=$2 tmp="$2.tmp" esp_sectors

	esp_sectors=$(((IMG_MIB - 2) * 1024 * 1024 / 512))
	rm -f "$tmp"
	truncate -s "${IMG_MIB}M" "$tmp"
	printf 'label: gpt\nstart=%d, size=%d, type=%s, name="EFI System Partition"\n' \
		$((ESP_OFFSET / 512)) "$esp_sectors" "$ESP_TYPE" |
		sfdisk --quiet --no-reread --no-tell-kernel -- "$tmp" >/dev/null ||
		die "sfdisk on $tmp failed"
	export MTOOLS_SKIP_CHECK=1
	mformat -i "$tmp@@$ESP_OFFSET" -F -T "$esp_sectors" -H $((ESP_OFFSET / 512)) \
		-v LINUXPEER :: >/dev/null || die "mformat failed"
	mmd -i "$tmp@@$ESP_OFFSET" ::/EFI ::/EFI/BOOT || die "mmd failed"
	mcopy -i "$tmp@@$ESP_OFFSET" -- "$efi" ::/EFI/BOOT/BOOTX64.EFI || die "mcopy failed"
	mv -f "$tmp" "$out"
}

# True when every image is newer than the inputs that go into it.
up_to_date() {
	local s img f

	for s in "${SERVERS[@]}"; do
		img=$OUT/linux-$s.img
		[[ -f $img ]] || return 1
		for f in "$SELF" "$INIT" "$ROOT/build/real/nginx" "$ROOT/build/real/httpd" \
			"$NGINX_DIR"/* "$NGINX_DIR"/www/* "$OUT/../www-extra/big.bin"; do
			[[ ! -e $f || $img -nt $f ]] || return 1
		done
	done
}

# build_apps_initramfs KROOT BBROOT INITRD: busybox, TREE's files and
# linux-apps-init.sh as /init; prints the kernel version. Uncompressed (as
# bench-net's): the kernel unpacks it faster than it would inflate it, and the
# driver's input files do not compress.
build_apps_initramfs() {
	local kroot=$1 bbroot=$2 initrd=$3 dir="$OUT/initramfs-apps" kver

	kver=$(basename "$(compgen -G "$kroot/lib/modules/*" | head -n1)")
	rm -rf "$dir"
	mkdir -p "$dir"/{bin,dev,proc,sys,tmp}
	cp -R "$APPS_TREE/." "$dir/"
	cp "$bbroot/bin/busybox" "$dir/bin/busybox"
	cp "$APPS_INIT" "$dir/init"
	chmod 755 "$dir/init"
	(cd "$dir" && find . -mindepth 1 | LC_ALL=C sort |
		"$bbroot/bin/busybox" cpio -o -H newc 2>/dev/null) >"$initrd.tmp" ||
		die "packing the apps initramfs failed"
	mv -f "$initrd.tmp" "$initrd"
	rm -rf "$dir"
	echo "$kver"
}

# True when linux-apps.img is newer than its inputs and was made for the
# same command line.
apps_up_to_date() {
	local img=$OUT/linux-apps.img f

	[[ -f $img && -f $OUT/cmdline-apps ]] || return 1
	[[ $(cat "$OUT/cmdline-apps") == "$APPS_CMDLINE" ]] || return 1
	for f in "$SELF" "$APPS_INIT"; do
		[[ $img -nt $f ]] || return 1
	done
	[[ -z $(find "$APPS_TREE" -newer "$img" -print -quit) ]]
}

# fetch_kernel: downloads and unpacks the three packages (versions.txt);
# sets VMLINUZ, STUB.
fetch_kernel() {
	local kpkg kdeb bbdeb stubdeb s

	for s in apt-get dpkg-deb objcopy objdump sfdisk mformat mcopy; do
		command -v "$s" >/dev/null || die "$s not found: run tools/deps.sh"
	done
	kpkg=$(kernel_package)
	[[ -n $kpkg ]] || die "apt names no kernel package for linux-image-amd64 (apt-get update?)"
	kdeb=$(download "$kpkg")
	bbdeb=$(download busybox-static)
	stubdeb=$(download systemd-boot-efi)
	: >"$OUT/versions.txt.tmp"
	unpack "$kdeb" "$OUT/kernel"
	unpack "$bbdeb" "$OUT/busybox"
	unpack "$stubdeb" "$OUT/systemd-boot"
	mv -f "$OUT/versions.txt.tmp" "$OUT/versions.txt"

	VMLINUZ=$(compgen -G "$OUT/kernel/boot/vmlinuz-*" | head -n1)
	[[ -n $VMLINUZ ]] || die "no boot/vmlinuz-* in ${kdeb##*/}"
	STUB=$OUT/systemd-boot/usr/lib/systemd/boot/efi/linuxx64.efi.stub
	[[ -f $STUB ]] || die "no linuxx64.efi.stub in ${stubdeb##*/}"
}

write_os_release() {
	printf 'NAME="Debian GNU/Linux"\nID=debian\nVERSION_ID="12"\nPRETTY_NAME="Solo bench peer: Linux %s"\n' \
		"$1" >"$OUT/os-release"
}

# The apps image: one UKI whose command line names the workloads; the ESP
# grows with the initramfs (the driver's inputs are tens of MiB).
main_apps() {
	local kver uki_mib

	[[ -d $APPS_TREE ]] || die "--apps: $APPS_TREE is not a directory"
	[[ -x $APPS_TREE/appbench ]] || die "--apps: $APPS_TREE/appbench is missing"
	apps_up_to_date && return 0
	fetch_kernel
	kver=$(build_apps_initramfs "$OUT/kernel" "$OUT/busybox" "$OUT/initrd-apps.cpio")
	write_os_release "$kver"
	printf '%s' "$APPS_CMDLINE" >"$OUT/cmdline-apps"
	make_uki "$STUB" "$VMLINUZ" "$OUT/initrd-apps.cpio" "$OUT/cmdline-apps" "$OUT/os-release" \
		"$OUT/linux-apps.efi"
	uki_mib=$((($(stat -c%s "$OUT/linux-apps.efi") + (1 << 20) - 1) >> 20))
	IMG_MIB=$((uki_mib + 16 > 64 ? uki_mib + 16 : 64))
	make_esp_image "$OUT/linux-apps.efi" "$OUT/linux-apps.img"
	rm -f "$OUT/initrd-apps.cpio" "$OUT/linux-apps.efi"
	echo "$PROG: wrote $OUT/linux-apps.img (Linux $kver, apps=${APPS_CMDLINE##*apps=})" >&2
}

main() {
	local kver s workloads=

	APPS_TREE=
	while (($# > 0)); do
		case $1 in
		-h | --help) usage; exit 0 ;;
		--apps) [[ $# -ge 2 ]] || die "--apps needs a directory"; APPS_TREE=$2; shift 2 ;;
		--workloads) [[ $# -ge 2 ]] || die "--workloads needs a list"; workloads=$2; shift 2 ;;
		-*) die "unknown option '$1' (try --help)" ;;
		*) break ;;
		esac
	done
	(($# <= 1)) || die "one OUT_DIR at most (try --help)"
	OUT=${1:-$ROOT/build/bench/linux}
	mkdir -p "$OUT"
	OUT=$(cd "$OUT" && pwd)
	DEBS=$OUT/debs
	mkdir -p "$DEBS"
	if [[ -n $APPS_TREE || -n $workloads ]]; then
		[[ -n $APPS_TREE && -n $workloads ]] || die "--apps and --workloads go together"
		[[ $workloads =~ ^[a-z0-9]+([ ,][a-z0-9]+)*$ ]] ||
			die "--workloads: names of [a-z0-9], separated by spaces or commas"
		APPS_TREE=$(cd "$APPS_TREE" && pwd)
		APPS_CMDLINE="console=ttyS0,115200 loglevel=4 panic=-1 apps=${workloads// /,}"
		main_apps
		return 0
	fi
	for s in "${SERVERS[@]}"; do
		[[ -x $ROOT/build/real/$s ]] || die "build/real/$s is missing: make real-programs"
	done
	up_to_date && return 0
	fetch_kernel
	kver=$(build_initramfs "$OUT/kernel" "$OUT/busybox" "$OUT/initrd.cpio")
	write_os_release "$kver"
	for s in "${SERVERS[@]}"; do
		printf 'console=ttyS0,115200 loglevel=4 panic=-1 server=%s' "$s" >"$OUT/cmdline-$s"
		make_uki "$STUB" "$VMLINUZ" "$OUT/initrd.cpio" "$OUT/cmdline-$s" "$OUT/os-release" \
			"$OUT/linux-$s.efi"
		make_esp_image "$OUT/linux-$s.efi" "$OUT/linux-$s.img"
		echo "$PROG: wrote $OUT/linux-$s.img (Linux $kver, server $s)" >&2
	done
}

main "$@"
