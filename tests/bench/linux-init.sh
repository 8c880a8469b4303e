#!/bin/busybox sh
# shellcheck shell=dash
# /init of the Linux peer of make bench-net (tools/linux-peer.sh packs it
# into the initramfs). Busybox only: mount the kernel file systems, load the
# NIC drivers, set up eth0 as QEMU's user networking expects (10.0.2.15/24,
# gateway 10.0.2.2), then start the server that server= on the kernel
# command line names, with the same arguments as on Solo, and say
# "server ready" on the console once it answers on 127.0.0.1:8080 (at most
# 300 tries, 0.1 s apart). The peer runs until QEMU is stopped; if the server
# ends, so does the machine.
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mount -t tmpfs tmp /tmp
exec </dev/console >/dev/console 2>&1

for m in $(cat /lib/modules/load.list); do
	insmod "/lib/modules/$m" || echo "peer: insmod $m failed"
done
ip link set lo up
i=0
while [ ! -e /sys/class/net/eth0 ] && [ $i -lt 50 ]; do
	sleep 0.1
	i=$((i + 1))
done
ip link set eth0 up
ip addr add 10.0.2.15/24 dev eth0
ip route add default via 10.0.2.2
echo "peer: $(uname -sr), eth0 $(cat /sys/class/net/eth0/address 2>/dev/null)" \
	"driver $(basename "$(readlink /sys/class/net/eth0/device/driver 2>/dev/null)")"

server=$(sed -n 's/.*server=\([a-z]*\).*/\1/p' /proc/cmdline)
cd /
case $server in
nginx) /nginx -p / -c /etc/nginx/nginx.conf & ;;
httpd) /httpd :8080 & ;;
*) echo "peer: no server= on the command line"; poweroff -f ;;
esac
pid=$!
i=0
while [ $i -lt 300 ]; do
	if wget -q -O /dev/null http://127.0.0.1:8080/ 2>/dev/null; then
		echo "server ready: $server"
		break
	fi
	sleep 0.1
	i=$((i + 1))
done
[ $i -lt 300 ] || echo "peer: $server does not answer on 127.0.0.1:8080"
wait $pid
echo "peer: $server ended with status $?"
poweroff -f
