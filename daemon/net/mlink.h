/*
 * mlink — the net worker's asynchronous link to the monitor.
 *
 * One SOCK_STREAM socket speaking lib/ipc frames, driven by the event loop.
 * Each request gets a 32-bit id not in use; the pending table (at most
 * `max` entries, http.queue_max) maps the id to the callback that takes the
 * reply. Replies may come in any order.
 *
 * The monitor is trusted to be sane but checked anyway: a frame with a bad
 * header, a reply whose id is not pending, or a reply the callback finds
 * malformed is fatal (logged; the event loop stops with mlink_failed() set,
 * and the parent restarts the worker). A clean end of stream from the
 * monitor stops the loop without failure.
 *
 * An entry stays pending until its reply arrives even when the client has
 * gone: the callback then drops the reply. Never free an id's context before
 * its callback has run.
 */
#ifndef SB_NET_MLINK_H
#define SB_NET_MLINK_H

#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>

#include "../../lib/ipc.h"

struct mlink;

/*
 * Called once per reply with the message (freed by mlink after the call).
 * Return 0, or non-zero when the reply is malformed (fatal for the link).
 */
typedef int (*mlink_cb)(void *arg, size_t tag, struct ipc_msg *reply);

/*
 * A link over fd (taken: closed by mlink_free) on base, with at most max
 * pending requests. 0, SB_EINVAL (max is 0) or SB_ENOMEM.
 */
int mlink_new(struct event_base *base, int fd, unsigned max, struct mlink **out);
/* Accepts NULL. Pending callbacks are not called. */
void mlink_free(struct mlink *l);

/* Free slots in the pending table. */
unsigned mlink_room(const struct mlink *l);
/* An id that is not pending (never 0); valid until the next mlink_send. */
uint32_t mlink_next_id(struct mlink *l);
/*
 * Queue m (encoded with id mlink_next_id) and register cb(arg, tag) for its
 * reply. 0, SB_ELIMIT (table full: answer 503 busy), SB_EINVAL (the id is
 * pending already) or SB_ENOMEM. m stays the caller's.
 */
int mlink_send(struct mlink *l, const struct ipc_msg *m, mlink_cb cb, void *arg, size_t tag);

/* 1 when the link failed (the worker must exit non-zero), 0 otherwise. */
int mlink_failed(const struct mlink *l);
/* 1 when the monitor closed the link (or it failed): time to stop. */
int mlink_closed(const struct mlink *l);

#endif
