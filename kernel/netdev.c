/*
 * The network-device registry (see netdev.h): a fixed table, filled at boot
 * by the drivers' probes, read by the stack.
 */
#include "kernel/netdev.h"

#include "kernel/abi/errno.h"

static struct netdev *devices[NETDEV_MAX];
static unsigned count;
static void (*notify_hook)(struct netdev *nd);

int netdev_register(struct netdev *nd)
{
	if (count == NETDEV_MAX)
		return -ENOSPC;
	nd->index = count;
	devices[count++] = nd;
	return 0;
}

unsigned netdev_count(void)
{
	return count;
}

struct netdev *netdev_get(unsigned index)
{
	return index < count ? devices[index] : NULL;
}

void netdev_notify(struct netdev *nd)
{
	if (notify_hook)
		notify_hook(nd);
}

void netdev_set_notify(void (*hook)(struct netdev *nd))
{
	notify_hook = hook;
}
