/*
 * mon_words — the sensitive-word library (issue 4, "Risk controls";
 * docs/policy.md, "Sensitive words"): the secadmin's words, managed over the
 * admin socket (ADM_WORD_*), and their check on a text/plain document in
 * the sign path (mon_sign_check_words, called from sign_check).
 *
 * Words and documents are compared in one normal form (mon_words_normalise):
 * whitespace, control and invisible format characters are dropped, ASCII
 * letters (and their full-width forms) folded to lower case. The words are
 * matched in one pass over the document with Aho-Corasick over the bytes of
 * that form; as both are valid UTF-8, a match always starts and ends on
 * character boundaries (a lead byte is never a continuation byte).
 *
 * The automaton is built from LMDB once and cached, and dropped when a word
 * is added or removed (after the change is committed). What a document
 * matched is ledgered by the word's id only: never the document's text.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../lib/err.h"
#include "../../lib/log.h"
#include "../../lib/utf8.h"
#include "mon_int.h"

/* ---- UTF-8 and the normal form ------------------------------------------- */

static size_t
utf8_put(uint32_t c, uint8_t *out)
{
	if (c < 0x80) {
		out[0] = (uint8_t)c;
		return 1;
	}
	if (c < 0x800) {
		out[0] = (uint8_t)(0xc0 | c >> 6);
		out[1] = (uint8_t)(0x80 | (c & 0x3f));
		return 2;
	}
	if (c < 0x10000) {
		out[0] = (uint8_t)(0xe0 | c >> 12);
		out[1] = (uint8_t)(0x80 | (c >> 6 & 0x3f));
		out[2] = (uint8_t)(0x80 | (c & 0x3f));
		return 3;
	}
	out[0] = (uint8_t)(0xf0 | c >> 18);
	out[1] = (uint8_t)(0x80 | (c >> 12 & 0x3f));
	out[2] = (uint8_t)(0x80 | (c >> 6 & 0x3f));
	out[3] = (uint8_t)(0x80 | (c & 0x3f));
	return 4;
}

static int
is_control(uint32_t c)
{
	return c < 0x20 || (c >= 0x7f && c <= 0x9f);
}

/*
 * Characters that do not count: controls, white space (ASCII, Unicode's, the
 * ideographic space U+3000 of Chinese text) and every Default_Ignorable_Code_
 * Point of Unicode 15 (DerivedCoreProperties.txt: soft hyphen, zero-width and
 * bidi marks and isolates, variation selectors, Hangul fillers, tags, BOM).
 * Inserting one between the characters of a word does not hide it.
 */
static const struct { uint32_t lo, hi; } ignored[] = {
	{ 0x0020, 0x0020 }, { 0x00a0, 0x00a0 }, { 0x00ad, 0x00ad }, { 0x034f, 0x034f },
	{ 0x061c, 0x061c }, { 0x115f, 0x1160 }, { 0x1680, 0x1680 }, { 0x17b4, 0x17b5 },
	{ 0x180b, 0x180f }, { 0x2000, 0x200f }, { 0x2028, 0x202f }, { 0x205f, 0x206f },
	{ 0x3000, 0x3000 }, { 0x3164, 0x3164 }, { 0xfe00, 0xfe0f }, { 0xfeff, 0xfeff },
	{ 0xffa0, 0xffa0 }, { 0xfff0, 0xfff8 }, { 0x1bca0, 0x1bca3 }, { 0x1d173, 0x1d17a },
	{ 0xe0000, 0xe0fff },
};

static int
is_ignored(uint32_t c)
{
	if (is_control(c))
		return 1;
	for (size_t i = 0; i < sizeof(ignored) / sizeof(ignored[0]) && c >= ignored[i].lo; i++)
		if (c <= ignored[i].hi)
			return 1;
	return 0;
}

/* The one code point c stands for: ASCII and full-width ASCII (U+FF01..FF5E)
 * letters, digits and signs as lower-case ASCII; others as they are. */
static uint32_t
fold(uint32_t c)
{
	if (c >= 0xff01 && c <= 0xff5e)
		c -= 0xfee0;
	if (c >= 'A' && c <= 'Z')
		c += 'a' - 'A';
	return c;
}

int
mon_words_normalise(const uint8_t *in, size_t n, char *out, size_t cap, size_t *len)
{
	size_t o = 0, k;
	uint32_t c;

	*len = 0;
	if (cap == 0)
		return SB_ELIMIT;
	for (size_t i = 0; i < n; i += k) {
		uint8_t b[4];
		size_t bl;

		if ((k = utf8_next(in + i, n - i, &c)) == 0)
			return SB_EINVAL;
		if (is_ignored(c))
			continue;
		bl = utf8_put(fold(c), b);
		if (o + bl >= cap)
			return SB_ELIMIT;
		memcpy(out + o, b, bl);
		o += bl;
	}
	out[o] = '\0';
	*len = o;
	return 0;
}

int
mon_words_check(const char *word, const char *category, char norm[STORE_WORD_MAX + 1],
    char *why, size_t whylen)
{
	size_t n = strlen(word), cn = strlen(category), nl, k;
	uint32_t c;

	if (n == 0 || n > STORE_WORD_MAX) {
		snprintf(why, whylen, "a word is 1 to %d bytes of UTF-8 (this one is %zu)",
		    STORE_WORD_MAX, n);
		return SB_EINVAL;
	}
	for (size_t i = 0; i < n; i += k) {
		if ((k = utf8_next((const uint8_t *)word + i, n - i, &c)) == 0) {
			snprintf(why, whylen, "the word is not valid UTF-8 (at byte %zu)", i);
			return SB_EINVAL;
		}
		if (is_control(c)) {
			snprintf(why, whylen, "the word holds a control character (at byte %zu)",
			    i);
			return SB_EINVAL;
		}
	}
	if (mon_words_normalise((const uint8_t *)word, n, norm, STORE_WORD_MAX + 1, &nl) != 0 ||
	    nl == 0) {
		snprintf(why, whylen, "the word is only whitespace or invisible characters");
		return SB_EINVAL;
	}
	if (cn >= STORE_WORD_CAT_MAX) {
		snprintf(why, whylen, "a category is at most %d bytes", STORE_WORD_CAT_MAX - 1);
		return SB_EINVAL;
	}
	for (size_t i = 0; i < cn; i += k)
		if ((k = utf8_next((const uint8_t *)category + i, cn - i, &c)) == 0 ||
		    is_control(c)) {
			snprintf(why, whylen, "a category is UTF-8 without control characters");
			return SB_EINVAL;
		}
	return 0;
}

/* ---- the matcher: Aho-Corasick over the bytes of the normal form ---------- */

struct ac_node {
	uint32_t child;			/* first child; 0: none (the root is 0) */
	uint32_t sib;			/* next sibling, in byte order; 0: none */
	uint32_t fail;
	uint32_t out;			/* 1 + the word that ends here; 0: none */
	uint32_t dict;			/* nearest node on the fail chain with out; 0 */
	uint8_t byte;
};

struct mon_words_set {
	struct ac_node *node;
	size_t n_nodes;
	uint32_t root[256];		/* the root's transitions: 0 stays at the root */
	uint64_t *ids;			/* word i is w-ids[i] */
	char (*cats)[STORE_WORD_CAT_MAX];
	size_t n_words;
	unsigned refs;			/* the cache's reference and the users' */
};

static uint32_t
ac_child(const struct mon_words_set *ws, uint32_t s, uint8_t b)
{
	if (s == 0)
		return ws->root[b];
	for (uint32_t c = ws->node[s].child; c != 0; c = ws->node[c].sib)
		if (ws->node[c].byte >= b)
			return ws->node[c].byte == b ? c : 0;
	return 0;
}

/* Insert norm as word w: the trie's children stay in byte order. */
static void
ac_insert(struct mon_words_set *ws, const char *norm, uint32_t w)
{
	uint32_t s = 0;

	for (const uint8_t *p = (const uint8_t *)norm; *p != '\0'; p++) {
		uint32_t c = ac_child(ws, s, *p), *link;

		if (c == 0) {
			c = (uint32_t)ws->n_nodes++;
			ws->node[c].byte = *p;
			if (s == 0)
				ws->root[*p] = c;
			link = &ws->node[s].child;
			while (*link != 0 && ws->node[*link].byte < *p)
				link = &ws->node[*link].sib;
			ws->node[c].sib = *link;
			*link = c;
		}
		s = c;
	}
	if (ws->node[s].out == 0)
		ws->node[s].out = w + 1;
}

/* Breadth first: each node's fail link and dictionary link. */
static int
ac_links(struct mon_words_set *ws)
{
	uint32_t *queue = malloc(ws->n_nodes * sizeof(*queue));
	size_t head = 0, tail = 0;

	if (queue == NULL)
		return SB_ENOMEM;
	for (uint32_t c = ws->node[0].child; c != 0; c = ws->node[c].sib)
		queue[tail++] = c;	/* depth 1: fail to the root */
	while (head < tail) {
		uint32_t s = queue[head++];

		for (uint32_t c = ws->node[s].child; c != 0; c = ws->node[c].sib) {
			uint32_t f = ws->node[s].fail, t;

			while (f != 0 && ac_child(ws, f, ws->node[c].byte) == 0)
				f = ws->node[f].fail;
			t = ac_child(ws, f, ws->node[c].byte);
			ws->node[c].fail = t != c ? t : 0;
			t = ws->node[c].fail;
			ws->node[c].dict = ws->node[t].out != 0 ? t : ws->node[t].dict;
			queue[tail++] = c;
		}
	}
	free(queue);
	return 0;
}

void
mon_words_free(struct mon_words_set *ws)
{
	if (ws == NULL)
		return;
	free(ws->node);
	free(ws->ids);
	free(ws->cats);
	free(ws);
}

int
mon_words_build(const char *const *norms, const char *const *cats, const uint64_t *ids,
    size_t n, struct mon_words_set **out)
{
	struct mon_words_set *ws;
	size_t total = 1;
	int rc;

	*out = NULL;
	if (n > STORE_WORDS_MAX)
		return SB_ELIMIT;
	for (size_t i = 0; i < n; i++) {
		size_t l = strlen(norms[i]);

		if (l == 0 || l > STORE_WORD_MAX)
			return SB_EINVAL;
		total += l;
	}
	if ((ws = calloc(1, sizeof(*ws))) == NULL)
		return SB_ENOMEM;
	ws->node = calloc(total, sizeof(*ws->node));
	ws->ids = calloc(n ? n : 1, sizeof(*ws->ids));
	ws->cats = calloc(n ? n : 1, sizeof(*ws->cats));
	if (ws->node == NULL || ws->ids == NULL || ws->cats == NULL) {
		mon_words_free(ws);
		return SB_ENOMEM;
	}
	ws->n_nodes = 1;
	ws->n_words = n;
	for (size_t i = 0; i < n; i++) {
		ws->ids[i] = ids[i];
		snprintf(ws->cats[i], sizeof(ws->cats[i]), "%s", cats ? cats[i] : "");
		ac_insert(ws, norms[i], (uint32_t)i);
	}
	if ((rc = ac_links(ws)) != 0) {
		mon_words_free(ws);
		return rc;
	}
	*out = ws;
	return 0;
}

int
mon_words_scan(const struct mon_words_set *ws, const uint8_t *text, size_t n, size_t *word)
{
	uint32_t s = 0, c;
	size_t k, found = SIZE_MAX;

	for (size_t i = 0; i < n; i += k) {
		uint8_t b[4];
		size_t bl;

		if ((k = utf8_next(text + i, n - i, &c)) == 0)
			return SB_EINVAL;
		if (is_ignored(c) || found != SIZE_MAX)
			continue;	/* after a match: only the rest's UTF-8 is checked */
		bl = utf8_put(fold(c), b);
		for (size_t j = 0; j < bl && found == SIZE_MAX; j++) {
			uint32_t t;

			while (s != 0 && (t = ac_child(ws, s, b[j])) == 0)
				s = ws->node[s].fail;
			s = ac_child(ws, s, b[j]);
			if (ws->node[s].out != 0)
				found = ws->node[s].out - 1;
			else if (ws->node[s].dict != 0)
				found = ws->node[ws->node[s].dict].out - 1;
		}
	}
	if (found == SIZE_MAX)
		return 0;
	*word = found;
	return 1;
}

uint64_t
mon_words_id(const struct mon_words_set *ws, size_t word)
{
	return word < ws->n_words ? ws->ids[word] : 0;
}

/* ---- the cache: built from LMDB on first use, dropped on a change --------- */

static struct {
	pthread_mutex_t lock;
	struct mon_words_set *cur;	/* NULL: build it on next use */
} cache = { PTHREAD_MUTEX_INITIALIZER, NULL };

static void
set_put(struct mon_words_set *ws)
{
	int last;

	if (ws == NULL)
		return;
	pthread_mutex_lock(&cache.lock);
	last = --ws->refs == 0;
	pthread_mutex_unlock(&cache.lock);
	if (last)
		mon_words_free(ws);
}

void
mon_words_invalidate(void)
{
	struct mon_words_set *old;

	pthread_mutex_lock(&cache.lock);
	old = cache.cur;
	cache.cur = NULL;
	pthread_mutex_unlock(&cache.lock);
	set_put(old);
}

struct load_ctx {
	char (*norm)[STORE_WORD_MAX + 1];
	char (*cat)[STORE_WORD_CAT_MAX];
	uint64_t *ids;
	size_t n;
};

static int
load_one(void *arg, const struct store_word *w)
{
	struct load_ctx *l = arg;

	if (l->n >= STORE_WORDS_MAX)
		return SB_ELIMIT;
	memcpy(l->norm[l->n], w->norm, sizeof(l->norm[0]));
	memcpy(l->cat[l->n], w->category, sizeof(l->cat[0]));
	l->ids[l->n++] = w->n;
	return 0;
}

/* The library's automaton, with a reference for the caller (set_put). */
static int
set_get(struct mon *mon, struct mon_words_set **out)
{
	struct load_ctx l = { 0 };
	const char **np = NULL, **cp = NULL;
	int rc = 0;

	pthread_mutex_lock(&cache.lock);
	if (cache.cur == NULL) {
		/* Built under the lock: a change commits, then invalidates (which
		 * waits for this), so no stale set outlives a change. */
		l.norm = malloc(STORE_WORDS_MAX * sizeof(*l.norm));
		l.cat = malloc(STORE_WORDS_MAX * sizeof(*l.cat));
		l.ids = malloc(STORE_WORDS_MAX * sizeof(*l.ids));
		np = malloc(STORE_WORDS_MAX * sizeof(*np));
		cp = malloc(STORE_WORDS_MAX * sizeof(*cp));
		if (l.norm == NULL || l.cat == NULL || l.ids == NULL || np == NULL || cp == NULL)
			rc = SB_ENOMEM;
		if (rc == 0)
			rc = store_word_each(mon->store, load_one, &l);
		for (size_t i = 0; rc == 0 && i < l.n; i++) {
			np[i] = l.norm[i];
			cp[i] = l.cat[i];
		}
		if (rc == 0 && (rc = mon_words_build(np, cp, l.ids, l.n, &cache.cur)) == 0)
			cache.cur->refs = 1;
		free(l.norm);
		free(l.cat);
		free(l.ids);
		free(np);
		free(cp);
	}
	if (rc == 0) {
		cache.cur->refs++;
		*out = cache.cur;
	}
	pthread_mutex_unlock(&cache.lock);
	if (rc != 0)
		log_err("monitor: the sensitive-word library cannot be loaded: %s",
		    sb_strerror(rc));
	return rc;
}

/* ---- the sign path --------------------------------------------------------- */

/* What the grant that applies says about a match: the person's grant when an
 * application acts on behalf of one who holds a grant on the seal, else the
 * caller's (as policy_grant_check picks it). No grant: "block" (the grant
 * check refuses it next anyway). */
static int
grant_wants_approval(struct mon *mon, const struct msg_sign *v, const char *actor)
{
	struct store_grant g;
	int rc = SB_ENOTFOUND;

	if (v->who.on_behalf_of[0] != '\0')
		rc = store_grant_get(mon->store, v->seal, v->who.on_behalf_of, &g);
	if (rc == SB_ENOTFOUND)
		rc = store_grant_get(mon->store, v->seal, actor, &g);
	return rc == 0 && strcmp(g.on_sensitive, "approval") == 0;
}

/*
 * A PDF whose text could not be read: never clean. With no word in the
 * library there is nothing to look for; else it is refused as a match is
 * (cannot_check, or approval_required under an "approval" grant). Takes ws.
 */
static int
check_unreadable(struct mon *mon, const struct msg_sign *v, const char *actor, uint32_t id,
    struct ipc_msg *reply, struct mon_words_set *ws, const char *why, int *need_approval)
{
	char text[MSG_TEXT_MAX];
	size_t words = ws->n_words;
	int approval;

	set_put(ws);
	if (words == 0)
		return 0;
	approval = grant_wants_approval(mon, v, actor);
	*need_approval = approval;
	if (approval && v->approval[0] != '\0')
		return 0;	/* the approval is checked with the grant */
	snprintf(text, sizeof(text), "the document's text cannot be checked for sensitive "
	    "words (%s): %s", why, approval ? "sealing it needs an approved use "
	    "request" : "it cannot be sealed");
	return mon_sign_refuse_extra(mon, v, actor, id, reply, 403,
	    approval ? "approval_required" : "cannot_check", text,
	    json_pack("{s:s}", "text_check", "cannot_check"));
}

int
mon_sign_check_words(struct mon *mon, const struct msg_sign *v, const char *actor,
    uint32_t id, struct ipc_msg *reply, int *need_approval)
{
	struct mon_words_set *ws;
	char wid[32], text[MSG_TEXT_MAX];
	const char *why = v->text_unreadable;
	int rc, approval = 0;
	size_t word;

	*need_approval = 0;
	/* A PDF comes with its text or why there is none: neither is not clean. */
	if (v->profile == MSG_PROFILE_PADES && v->text == NULL && v->text_unreadable[0] == '\0')
		why = "its text was not passed on";
	else if (v->text == NULL && v->text_unreadable[0] == '\0')
		return 0;	/* a digest only: nothing to check (docs/policy.md) */
	if (set_get(mon, &ws) != 0)
		return mon_sign_refuse_extra(mon, v, actor, id, reply, 503, "ledger_unavailable",
		    "the sensitive-word library cannot be read; retry later", NULL);
	if (v->text == NULL)
		return check_unreadable(mon, v, actor, id, reply, ws, why, need_approval);
	rc = mon_words_scan(ws, v->text, v->text_len, &word);
	if (rc == 1) {
		snprintf(wid, sizeof(wid), "w-%llu", (unsigned long long)ws->ids[word]);
		if ((approval = grant_wants_approval(mon, v, actor)) != 0)
			snprintf(text, sizeof(text), "the document contains sensitive word %s%s%s%s: "
			    "sealing it needs an approved use request", wid,
			    ws->cats[word][0] ? " (" : "", ws->cats[word],
			    ws->cats[word][0] ? ")" : "");
		else
			snprintf(text, sizeof(text), "the document contains sensitive word %s%s%s%s "
			    "and cannot be sealed", wid, ws->cats[word][0] ? " (" : "",
			    ws->cats[word], ws->cats[word][0] ? ")" : "");
	}
	set_put(ws);
	*need_approval = rc == 1 && approval;
	if (rc == 0 || (*need_approval && v->approval[0] != '\0'))
		return 0;	/* clean, or an approval to check (policy_grant_check) */
	if (rc < 0)	/* the net worker checks it: a broken child, refused anyway */
		return mon_sign_refuse_extra(mon, v, actor, id, reply, 400, "bad_request",
		    "the document's text is not valid UTF-8", NULL);
	return mon_sign_refuse_extra(mon, v, actor, id, reply, 403,
	    approval ? "approval_required" : "sensitive_word", text,
	    json_pack("{s:s}", "sensitive_word", wid));
}

/* ---- the admin socket: words add, list, remove ------------------------------ */

static json_t *
word_entry(struct mon *mon, const char *action, const char *wid, const char *category)
{
	return json_pack("{s:s,s:s,s:s,s:s,s:s}", "action", action, "actor", mon->admin_actor,
	    "result", "ok", "word_id", wid, "category", category);
}

struct word_change {
	struct mon *mon;
	const struct store_word *w;	/* add */
	uint64_t n;			/* remove */
};

/* The change is committed, then the cached automaton dropped. */
static int
word_add_apply(void *arg)
{
	const struct word_change *c = arg;
	int rc = store_word_add(c->mon->store, c->w);

	mon_words_invalidate();
	return rc;
}

int
mon_adm_word_add(struct mon *mon, struct ipc_msg *m, struct ipc_msg *reply)
{
	struct adm_word_add v;
	struct store_word w;
	char why[MSG_TEXT_MAX], wid[32];
	struct word_change c = { mon, &w, 0 };
	size_t count;
	uint64_t n;
	json_t *e;
	int rc;

	memset(&w, 0, sizeof(w));
	if (adm_word_add_dec(m, &v) != 0)
		return mon_reply_err(reply, m->id, 400, "bad_request", "malformed request");
	if (mon_words_check(v.word, v.category, w.norm, why, sizeof(why)) != 0)
		return mon_reply_err(reply, m->id, 400, "bad_word", "%s", why);
	if ((rc = store_word_find(mon->store, w.norm, &n)) == 0)
		return mon_reply_err(reply, m->id, 409, "exists", "the library has this word "
		    "already, as w-%llu (words are compared without whitespace and ASCII case)",
		    (unsigned long long)n);
	if (rc == SB_ENOTFOUND)
		rc = store_word_next(mon->store, &w.n, &count);
	if (rc != 0)
		return mon_reply_err(reply, m->id, 503, "ledger_unavailable", "policy store: %s",
		    sb_strerror(rc));
	if (count >= STORE_WORDS_MAX)
		return mon_reply_err(reply, m->id, 409, "too_many_words", "the library holds "
		    "%d words, its most: remove one first", STORE_WORDS_MAX);
	/* Lengths checked by mon_words_check. */
	memcpy(w.word, v.word, strlen(v.word) + 1);
	memcpy(w.category, v.category, strlen(v.category) + 1);
	w.created_ms = (long long)time(NULL) * 1000;
	snprintf(wid, sizeof(wid), "w-%llu", (unsigned long long)w.n);
	/* The word itself is ledgered when it is added: it is the secadmin's
	 * policy, which the auditor must be able to read back; a sign-time
	 * match carries only the id. */
	if ((e = word_entry(mon, "word.add", wid, w.category)) != NULL)
		json_object_set_new(e, "word", json_string(w.word));
	if ((rc = mon_ledgered_change(mon, e, word_add_apply, &c)) == SB_EEXIST ||
	    rc == SB_ESTATE || rc == SB_ELIMIT)
		return mon_reply_err(reply, m->id, 409, "conflict", "the library changed while "
		    "this word was added; nothing was added: retry");
	if (rc != 0)
		return mon_reply_err(reply, m->id, 503, "ledger_unavailable", "%s", sb_strerror(rc));
	return mon_reply_json(reply, m->id, 200, json_pack("{s:s,s:s,s:s}", "id", wid,
	    "word", w.word, "category", w.category));
}

static int
word_json_one(void *arg, const struct store_word *w)
{
	char wid[32];

	snprintf(wid, sizeof(wid), "w-%llu", (unsigned long long)w->n);
	return json_array_append_new(arg, json_pack("{s:s,s:s,s:s,s:I}", "id", wid,
	    "word", w->word, "category", w->category, "created_ms",
	    (json_int_t)w->created_ms)) != 0 ? SB_ENOMEM : 0;
}

int
mon_adm_word_list(struct mon *mon, struct ipc_msg *m, struct ipc_msg *reply)
{
	json_t *arr;
	int rc;

	if (ipc_get_end(m) != 0)
		return mon_reply_err(reply, m->id, 400, "bad_request", "malformed request");
	if ((arr = json_array()) == NULL)
		return SB_ENOMEM;
	if ((rc = store_word_each(mon->store, word_json_one, arr)) != 0) {
		json_decref(arr);
		return mon_reply_err(reply, m->id, 503, "ledger_unavailable", "policy store: %s",
		    sb_strerror(rc));
	}
	return mon_reply_json(reply, m->id, 200, json_pack("{s:I,s:o}", "count",
	    (json_int_t)json_array_size(arr), "words", arr));
}

/* "w-N": N 1..2^63 in decimal without leading zeros; 0 when it is not one. */
static uint64_t
word_number(const char *s)
{
	uint64_t n = 0;

	if (strncmp(s, "w-", 2) != 0 || s[2] < '1' || s[2] > '9' || strlen(s) > 2 + 18)
		return 0;
	for (s += 2; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return 0;
		n = n * 10 + (uint64_t)(*s - '0');
	}
	return n;
}

static int
word_remove_apply(void *arg)
{
	const struct word_change *c = arg;
	int rc = store_word_remove(c->mon->store, c->n);

	mon_words_invalidate();
	return rc;
}

int
mon_adm_word_remove(struct mon *mon, struct ipc_msg *m, struct ipc_msg *reply)
{
	struct adm_word_remove v;
	struct word_change c = { mon, NULL, 0 };
	struct store_word w;
	uint64_t n;
	json_t *e;
	int rc;

	if (adm_word_remove_dec(m, &v) != 0)
		return mon_reply_err(reply, m->id, 400, "bad_request", "malformed request");
	if ((n = word_number(v.id)) == 0)
		return mon_reply_err(reply, m->id, 400, "bad_request", "a word's id is w-N, "
		    "as `sealadm words list` shows it");
	if ((rc = store_word_get(mon->store, n, &w)) == SB_ENOTFOUND)
		return mon_reply_err(reply, m->id, 404, "unknown_word", "no word %s in the library",
		    v.id);
	if (rc != 0)
		return mon_reply_err(reply, m->id, 503, "ledger_unavailable", "policy store: %s",
		    sb_strerror(rc));
	e = word_entry(mon, "word.remove", v.id, w.category);
	c.n = n;
	if ((rc = mon_ledgered_change(mon, e, word_remove_apply, &c)) == SB_ENOTFOUND)
		return mon_reply_err(reply, m->id, 404, "unknown_word", "no word %s in the library",
		    v.id);
	if (rc != 0)
		return mon_reply_err(reply, m->id, 503, "ledger_unavailable", "%s", sb_strerror(rc));
	return mon_reply_json(reply, m->id, 200, json_pack("{s:s,s:b}", "id", v.id,
	    "removed", 1));
}
