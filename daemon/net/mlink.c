/* mlink — asynchronous, id-matched requests to the monitor over lib/ipc frames. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>

#include "../../lib/err.h"
#include "../../lib/log.h"
#include "mlink.h"

#define MLINK_BUCKETS_MAX 65536

struct pend {
	uint32_t id;
	mlink_cb cb;
	void *arg;
	size_t tag;
	struct pend *next;
};

struct mlink {
	struct event_base *base;
	struct bufferevent *bev;
	unsigned max, count;
	uint32_t next_id;
	struct pend **bucket;
	size_t nbucket;		/* a power of two */
	int failed, closed;
};

static struct pend **
mlink_slot(struct mlink *l, uint32_t id)
{
	struct pend **pp = &l->bucket[(id * 2654435761u) & (l->nbucket - 1)];

	while (*pp != NULL && (*pp)->id != id)
		pp = &(*pp)->next;
	return pp;
}

/* Stop everything: the worker exits and the parent starts a fresh one. */
static void
mlink_fatal(struct mlink *l, const char *why, uint32_t id)
{
	log_err("net: monitor link: %s (request id %u); the net worker stops", why, id);
	l->failed = 1;
	l->closed = 1;
	bufferevent_disable(l->bev, EV_READ | EV_WRITE);
	event_base_loopbreak(l->base);
}

static int
mlink_dispatch(struct mlink *l, struct ipc_msg *m)
{
	struct pend **pp = mlink_slot(l, m->id), *p = *pp;
	int rc;

	if (p == NULL) {
		mlink_fatal(l, "reply to no pending request", m->id);
		return -1;
	}
	*pp = p->next;
	l->count--;
	rc = p->cb(p->arg, p->tag, m);
	free(p);
	if (rc != 0) {
		mlink_fatal(l, "malformed reply", m->id);
		return -1;
	}
	return 0;
}

static uint32_t
be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void
mlink_read_cb(struct bufferevent *bev, void *arg)
{
	struct mlink *l = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	uint8_t h[IPC_HDR_LEN];

	while (!l->closed && evbuffer_get_length(in) >= IPC_HDR_LEN) {
		struct ipc_msg m;
		size_t used, total;
		uint8_t *data;
		uint32_t blen;
		int rc;

		evbuffer_copyout(in, h, sizeof(h));
		blen = be32(h);
		if (blen > IPC_MAX_BODY || h[6] != 0 || h[7] != 0) {
			mlink_fatal(l, "bad frame header", be32(h + 8));
			return;
		}
		total = IPC_HDR_LEN + (size_t)blen;
		if (evbuffer_get_length(in) < total)
			return;
		if ((data = evbuffer_pullup(in, (ev_ssize_t)total)) == NULL) {
			mlink_fatal(l, "out of memory", be32(h + 8));
			return;
		}
		if ((rc = ipc_parse(data, total, &used, &m)) != 0 || used != total) {
			if (rc == 0)
				ipc_msg_free(&m);
			mlink_fatal(l, "unparsable frame", be32(h + 8));
			return;
		}
		evbuffer_drain(in, total);
		rc = mlink_dispatch(l, &m);
		ipc_msg_free(&m);
		if (rc != 0)
			return;
	}
}

static void
mlink_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct mlink *l = arg;

	(void)bev;
	if (what & BEV_EVENT_EOF) {
		log_info("net: the monitor closed the link (%u requests pending); stopping",
		    l->count);
		l->closed = 1;
		event_base_loopbreak(l->base);
	} else if (what & BEV_EVENT_ERROR) {
		mlink_fatal(l, "socket error", 0);
	}
}

int
mlink_new(struct event_base *base, int fd, unsigned max, struct mlink **out)
{
	struct mlink *l;

	*out = NULL;
	if (max == 0)
		return SB_EINVAL;
	if ((l = calloc(1, sizeof(*l))) == NULL)
		return SB_ENOMEM;
	l->base = base;
	l->max = max;
	l->next_id = 1;
	for (l->nbucket = 16; l->nbucket < max && l->nbucket < MLINK_BUCKETS_MAX; )
		l->nbucket *= 2;
	l->bucket = calloc(l->nbucket, sizeof(*l->bucket));
	l->bev = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (l->bucket == NULL || l->bev == NULL) {
		if (l->bev == NULL)
			close(fd);
		mlink_free(l);
		return SB_ENOMEM;
	}
	bufferevent_setcb(l->bev, mlink_read_cb, NULL, mlink_event_cb, l);
	if (bufferevent_enable(l->bev, EV_READ | EV_WRITE) != 0) {
		mlink_free(l);
		return SB_ENOMEM;
	}
	*out = l;
	return 0;
}

void
mlink_free(struct mlink *l)
{
	if (l == NULL)
		return;
	for (size_t i = 0; l->bucket != NULL && i < l->nbucket; i++) {
		while (l->bucket[i] != NULL) {
			struct pend *p = l->bucket[i];

			l->bucket[i] = p->next;
			free(p);
		}
	}
	free(l->bucket);
	if (l->bev != NULL)
		bufferevent_free(l->bev);
	free(l);
}

unsigned
mlink_room(const struct mlink *l)
{
	return l->max - l->count;
}

uint32_t
mlink_next_id(struct mlink *l)
{
	/* At most l->max ids are pending out of 2^32 - 1: this ends quickly. */
	while (l->next_id == 0 || *mlink_slot(l, l->next_id) != NULL)
		l->next_id++;
	return l->next_id;
}

int
mlink_send(struct mlink *l, const struct ipc_msg *m, mlink_cb cb, void *arg, size_t tag)
{
	struct pend **pp, *p;
	struct buf out;
	int rc;

	if (l->count >= l->max)
		return SB_ELIMIT;
	if (m->id == 0 || *(pp = mlink_slot(l, m->id)) != NULL)
		return SB_EINVAL;
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return SB_ENOMEM;
	buf_init(&out, IPC_HDR_LEN + IPC_MAX_BODY);
	if ((rc = ipc_frame(m, &out)) == 0 && bufferevent_write(l->bev, out.data, out.len) != 0)
		rc = SB_ENOMEM;
	buf_free(&out);
	if (rc != 0) {
		free(p);
		return rc;
	}
	p->id = m->id;
	p->cb = cb;
	p->arg = arg;
	p->tag = tag;
	*pp = p;
	l->count++;
	if (m->id == l->next_id)
		l->next_id++;
	return 0;
}

int
mlink_failed(const struct mlink *l)
{
	return l->failed;
}

int
mlink_closed(const struct mlink *l)
{
	return l->closed;
}
