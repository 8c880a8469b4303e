/*
 * The console registry (see console.h). Sinks and input sources are
 * linked in the order they register; the serial port registers first, at
 * the very start of the boot, so every line reaches it.
 */
#include "kernel/console.h"

#include "kernel/klib.h"
#include "kernel/spinlock.h"

static struct console_sink *sinks;
static struct console_input *inputs;
static enum console_colour colour = CONSOLE_NORMAL;
static struct spinlock lock = SPINLOCK_INIT("console", LOCK_CONSOLE);
static unsigned long lock_flags; /* the holder's */
static int locking;

/* What was logged before the screen registered (its mapping needs the
 * kernel heap, which comes after the first lines), replayed to it once. */
static char early_log[4096];
static size_t early_len;

static void append(void *list_head, void *node, size_t next_offset)
{
	void **pp = list_head;

	while (*pp)
		pp = (void **)((char *)*pp + next_offset);
	*pp = node;
}

void console_start_locking(void)
{
	__atomic_store_n(&locking, 1, __ATOMIC_RELEASE);
}

void console_stop_locking(void)
{
	__atomic_store_n(&locking, 0, __ATOMIC_RELEASE);
}

int console_lock(void)
{
	if (!__atomic_load_n(&locking, __ATOMIC_ACQUIRE) || spin_is_held_by_me(&lock))
		return 0;
	unsigned long flags = spin_lock_irqsave(&lock);
	lock_flags = flags;
	return 1;
}

void console_unlock(int taken)
{
	if (taken)
		spin_unlock_irqrestore(&lock, lock_flags);
}

void console_register(struct console_sink *sink, int replay)
{
	int taken = console_lock();

	sink->next = NULL;
	append(&sinks, sink, offsetof(struct console_sink, next));
	if (replay && early_len) {
		if (sink->set_colour)
			sink->set_colour(CONSOLE_INFO);
		sink->write(early_log, early_len);
		if (sink->set_colour)
			sink->set_colour(colour);
	}
	console_unlock(taken);
}

void console_write(const char *buf, size_t len)
{
	int taken = console_lock();
	size_t room = sizeof(early_log) - early_len;

	memcpy(early_log + early_len, buf, MIN(len, room));
	early_len += MIN(len, room);
	for (struct console_sink *s = sinks; s; s = s->next)
		s->write(buf, len);
	console_unlock(taken);
}

void console_set_colour(enum console_colour c)
{
	int taken = console_lock();

	colour = c;
	for (struct console_sink *s = sinks; s; s = s->next) {
		if (s->set_colour)
			s->set_colour(c);
	}
	console_unlock(taken);
}

void console_set_cursor(int on)
{
	int taken = console_lock();

	for (struct console_sink *s = sinks; s; s = s->next) {
		if (s->set_cursor)
			s->set_cursor(on);
	}
	console_unlock(taken);
}

int console_size(unsigned *cols, unsigned *rows)
{
	for (struct console_sink *s = sinks; s; s = s->next) {
		if (s->size && s->size(cols, rows))
			return 1;
	}
	return 0;
}

void console_register_input(struct console_input *in)
{
	in->next = NULL;
	append(&inputs, in, offsetof(struct console_input, next));
}

int console_has_input(void)
{
	return inputs != NULL;
}

int console_read_byte(void)
{
	for (struct console_input *in = inputs; in; in = in->next) {
		int c = in->read_byte();
		if (c >= 0)
			return c;
	}
	return -1;
}
