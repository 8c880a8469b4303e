#!/usr/bin/env bash
# keys.sh - make your own Secure Boot keys for signing Solo images, and the
# files a PC's firmware (or shim's MokManager) enrolls.
#
#   tools/keys.sh [--name NAME] DIR
#   tools/keys.sh [--name NAME] --enroll-image OUT.img DIR
#   tools/keys.sh [--name NAME] --ovmf-vars OUT.fd DIR
#
# Without options: makes the keys. With --enroll-image: also (using DIR's
# keys when it has them) writes OUT.img, a small disk image whose UEFI
# application enrolls db, KEK and PK into a PC's firmware in setup mode:
# write it to a USB stick, clear the PC's Secure Boot keys in its setup,
# boot the stick once (it says "enroll: done" and restarts). With
# --ovmf-vars: boots that image under QEMU with blank OVMF variables and
# writes the enrolled variables to OUT.fd, for
# tools/qemu.sh --secure-boot OUT.fd.
#
# Writes into DIR (created; refused if it holds keys already):
#   db.key db.crt        the signing key and its certificate (PEM):
#                        tools/mkimg.sh --sign DIR/db.key --cert DIR/db.crt
#   db.cer               the same certificate in DER: for firmware menus that
#                        enroll a certificate file, and for shim's MOK list
#                        (MokManager "Enroll key from disk", or mokutil --import)
#   PK.* KEK.* db.*      for taking a PC over with your own keys: each key
#                        (.key, .crt, .cer), its EFI signature list (.esl) and
#                        an authenticated update (.auth): PK.auth signed by PK,
#                        KEK.auth by PK, db.auth by KEK
#   GUID                 the owner GUID written into the signature lists
#
# The keys are RSA 2048 / SHA-256 (what UEFI firmware is required to
# accept), self-signed, valid 10 years, without a passphrase: keep DIR
# private (it is created mode 0700). Needs openssl and efitools
# (tools/deps.sh installs both).
set -euo pipefail

readonly PROG=keys.sh

usage() {
	sed -n '2,35p' "$0" | sed 's/^# \{0,1\}//'
}

die() {
	echo "$PROG: $*" >&2
	exit 1
}

ROOT=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)
readonly ROOT

name="Solo image signing"
dir=
enroll_image=
ovmf_vars=
while (($#)); do
	case $1 in
	-h | --help) usage; exit 0 ;;
	--enroll-image | --ovmf-vars)
		(($# >= 2)) || { echo "$PROG: $1 needs a value" >&2; exit 2; }
		if [[ $1 == --enroll-image ]]; then enroll_image=$2; else ovmf_vars=$2; fi
		shift 2
		;;
	--name)
		(($# >= 2)) || { echo "$PROG: --name needs a value" >&2; exit 2; }
		name=$2
		shift 2
		;;
	--name=*) name=${1#--name=}; shift ;;
	-*) echo "$PROG: unknown option '$1'" >&2; usage >&2; exit 2 ;;
	*)
		[[ -z $dir ]] || { echo "$PROG: one DIR only" >&2; exit 2; }
		dir=$1
		shift
		;;
	esac
done
[[ -n $dir ]] || { usage >&2; exit 2; }
[[ $name != */* ]] || die "--name must not contain '/' (it goes into a certificate subject)"
for tool in openssl cert-to-efi-sig-list sign-efi-sig-list; do
	command -v "$tool" >/dev/null || die "$tool not found: install openssl and efitools (make deps)"
done

# ---------------------------------------------------------------- enrollment

# OUT.img: \EFI\BOOT\BOOTX64.EFI is build/ENROLL.EFI (efi/enroll/enroll.c),
# \keys\ holds the three .auth files.
write_enroll_image() {
	local out=$1 efi=$ROOT/build/ENROLL.EFI tmp

	if [[ ! -s $efi ]]; then
		make -s -C "$ROOT" build/ENROLL.EFI >&2 || die "cannot build build/ENROLL.EFI"
	fi
	for f in db KEK PK; do
		[[ -s $dir/$f.auth ]] || die "$dir/$f.auth is missing (make the keys with tools/keys.sh DIR)"
	done
	command -v mformat >/dev/null || die "mformat not found: install mtools (make deps)"
	tmp=$(mktemp "$out.XXXXXX") || die "cannot create a file next to $out"
	truncate -s 8M -- "$tmp"
	export MTOOLS_SKIP_CHECK=1
	if ! { mformat -i "$tmp" -v ENROLL :: &&
		mmd -i "$tmp" ::/EFI ::/EFI/BOOT ::/keys &&
		mcopy -i "$tmp" -- "$efi" ::/EFI/BOOT/BOOTX64.EFI &&
		mcopy -i "$tmp" -- "$dir/db.auth" "$dir/KEK.auth" "$dir/PK.auth" ::/keys/; } \
		>"$tmp.log" 2>&1; then
		rm -f -- "$tmp"
		die "mtools failed: $(cat "$tmp.log")"
	fi
	rm -f -- "$tmp.log"
	mv -f -- "$tmp" "$out"
}

# The image booted under QEMU with OVMF's blank variables (setup mode), in
# its Secure Boot build; the variables it leaves are OUT.fd.
enroll_into_ovmf_vars() {
	local out=$1 tmpdir status=0

	tmpdir=$(mktemp -d) || die "cannot create a temporary directory"
	write_enroll_image "$tmpdir/enroll.img"
	"$ROOT/tools/qemu.sh" "$tmpdir/enroll.img" --format raw \
		--secure-boot "${OVMF_DIR:-/usr/share/OVMF}/OVMF_VARS_4M.fd" \
		--keep-vars "$tmpdir/vars.fd" --serial "$tmpdir/serial.log" --timeout 120 \
		>"$tmpdir/qemu.log" 2>&1 || status=$?
	if ! grep -qa 'enroll: done' "$tmpdir/serial.log"; then
		echo "$PROG: the enrollment under QEMU failed (qemu.sh status $status):" >&2
		tr -d '\r' <"$tmpdir/serial.log" | grep -a 'enroll:' >&2 || cat "$tmpdir/qemu.log" >&2
		rm -rf -- "$tmpdir"
		exit 1
	fi
	mv -f -- "$tmpdir/vars.fd" "$out"
	rm -rf -- "$tmpdir"
}

if [[ -n $enroll_image || -n $ovmf_vars ]] && [[ -e $dir/db.key ]]; then
	[[ -z $enroll_image ]] || write_enroll_image "$enroll_image"
	[[ -z $ovmf_vars ]] || enroll_into_ovmf_vars "$ovmf_vars"
	echo "$PROG: enrollment from $dir's keys:${enroll_image:+ image $enroll_image}${ovmf_vars:+ OVMF variables $ovmf_vars}"
	exit 0
fi

# ---------------------------------------------------------------- the keys

if [[ -e $dir/db.key || -e $dir/PK.key ]]; then
	die "$dir holds keys already; refusing to overwrite them"
fi
(umask 077 && mkdir -p -- "$dir") || die "cannot create $dir"

log=$dir/.keys.log
: >"$log"
run() {
	"$@" >>"$log" 2>&1 || die "$1 failed: $(tail -n 5 "$log")"
}

guid=$(cat /proc/sys/kernel/random/uuid)
echo "$guid" >"$dir/GUID"
for k in PK KEK db; do
	(umask 077 && run openssl req -new -x509 -newkey rsa:2048 -nodes -sha256 -days 3650 \
		-subj "/CN=$name $k/" -keyout "$dir/$k.key" -out "$dir/$k.crt")
	run openssl x509 -in "$dir/$k.crt" -outform DER -out "$dir/$k.cer"
	run cert-to-efi-sig-list -g "$guid" "$dir/$k.crt" "$dir/$k.esl"
done
# Each list is signed by the key above it; PK signs itself.
run sign-efi-sig-list -g "$guid" -k "$dir/PK.key" -c "$dir/PK.crt" PK "$dir/PK.esl" "$dir/PK.auth"
run sign-efi-sig-list -g "$guid" -k "$dir/PK.key" -c "$dir/PK.crt" KEK "$dir/KEK.esl" "$dir/KEK.auth"
run sign-efi-sig-list -g "$guid" -k "$dir/KEK.key" -c "$dir/KEK.crt" db "$dir/db.esl" "$dir/db.auth"
rm -f -- "$log"

echo "$PROG: wrote $dir: sign with --sign $dir/db.key --cert $dir/db.crt;" \
	"enroll db.auth, KEK.auth, PK.auth (in that order) or db.cer"
[[ -z $enroll_image ]] || write_enroll_image "$enroll_image"
[[ -z $ovmf_vars ]] || enroll_into_ovmf_vars "$ovmf_vars"
