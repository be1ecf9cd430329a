/*
 * ring.c - a byte ring buffer for UART receive paths.
 *
 * Single producer, single consumer; no locking.
 */

#include <stddef.h>
#include <string.h>

#define RING_SIZE 256
#define RING_MASK (RING_SIZE - 1)

struct ring {
	unsigned char buf[RING_SIZE];
	unsigned int head;
	unsigned int tail;
};

static unsigned int ring_count(const struct ring *r)
{
	return (r->head - r->tail) & RING_MASK;
}

/* Appends one byte; returns -1 when the buffer is full. */
int ring_push(struct ring *r, unsigned char byte)
{
	if (ring_count(r) == RING_MASK) {
		return -1;
	}
	r->buf[r->head] = byte;
	r->head = (r->head + 1) & RING_MASK;
	return 0;
}

/* Removes the oldest byte into *out; returns -1 when empty. */
int ring_pop(struct ring *r, unsigned char *out)
{
	if (r->head == r->tail) {
		return -1;
	}
	*out = r->buf[r->tail];
	r->tail = (r->tail + 1) & RING_MASK;
	return 0;
}

void ring_reset(struct ring *r)
{
	memset(r->buf, 0, sizeof r->buf);
	r->head = 0;
	r->tail = 0;
}
