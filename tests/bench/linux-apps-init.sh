#!/bin/busybox sh
# shellcheck shell=dash
# /init of the Linux peer of make bench-apps (tools/linux-peer.sh --apps packs
# it into the initramfs beside /appbench and its inputs under /bench). Busybox
# only: mount the kernel file systems (/tmp a tmpfs: sqlite's database goes
# there, as on Solo's writable root), then run each workload that apps= on
# the kernel command line names (a comma list), in that order, each as its
# own process: `/appbench WORKLOAD`, the same command line as Solo's image,
# whose "bench-apps: ..." line goes to the serial console. A workload that
# fails says so in a "bench-apps: WORKLOAD failed" line. Then
# "bench-apps: done" and power off.
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mount -t tmpfs tmp /tmp
# The loopback interface, which Solo has from boot: bench-smp's tcp job
# connects to 127.0.0.1.
ip link set lo up
exec </dev/console >/dev/console 2>&1

echo "peer: $(uname -sr), $(nproc) cpu, $(sed -n 's/^MemTotal: *//p' /proc/meminfo) memory"
apps=$(sed -n 's/.*apps=\([a-z0-9,]*\).*/\1/p' /proc/cmdline)
[ -n "$apps" ] || echo "bench-apps: no apps= on the kernel command line"
cd /tmp || poweroff -f
# Read the inputs once: the first touch of a page of the initramfs's files
# moves it on the page LRU (~5 M instructions for 32 MiB), which would land
# in whichever of read and mmap came first; every run then sees the same
# steady state. Then let the boot's deferred work (kworkers, RCU) finish
# before the first workload: under -icount with sleep=off the idle second
# costs no wall time.
cat /bench/* >/dev/null
sleep 1
for w in $(echo "$apps" | tr , ' '); do
	/appbench "$w" || echo "bench-apps: $w failed with status $?"
done
echo "bench-apps: done"
poweroff -f
