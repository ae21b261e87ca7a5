/*
 * cmd_ledger — sealctl ledger sth|entries|verify, evidence and
 * verify-evidence: GET /v1/ledger/sth, GET /v1/ledger/entries,
 * GET /v1/evidence/{seq}, and the offline check of a bundle.
 *
 * `ledger verify` trusts nothing the appliance computed: it reads every
 * entry up to the signed tree head, checks each is canonical and at its
 * sequence number, rehashes them (SHA-256(0x00 || leaf_input)) into the
 * RFC 9162 root, compares that with the tree head's, and checks the tree
 * head's signature. The key for that
 * comes, in order of preference, from --audit-cert (pinned by the user), or
 * from an evidence bundle's audit certificate that chains to --trust; the
 * API has no endpoint of its own for the audit certificate.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "codec.h"
#include "daemon/ledger/ledger.h"
#include "daemon/ledger/merkle.h"
#include "evidence.h"
#include "lib/err.h"
#include "sealctl.h"

#define PAGE 1000		/* entries per request: the API's maximum count */
#define PATH_BUF 256

static int
get_sth(struct ctl *c, struct ledger_sth *sth)
{
	json_t *j;
	int rc;

	if ((rc = ctl_call_json(c, "GET", "/v1/ledger/sth", NULL, &j)) != 0)
		return rc;
	rc = ledger_sth_from_json(j, sth);
	json_decref(j);
	if (rc != 0) {
		ctl_err("the appliance's tree head is not {tree_size, timestamp, "
		    "root_hash, signature}");
		return SEALCTL_EXIT_FAIL;
	}
	return 0;
}

static int
ledger_sth_cmd(struct ctl *c)
{
	struct ledger_sth sth;
	char *root = NULL, *sig = NULL, t[32];
	int rc;

	if ((rc = get_sth(c, &sth)) != 0)
		return rc;
	if (codec_b64_encode(sth.root, sizeof(sth.root), &root) != 0 ||
	    codec_b64_encode(sth.sig, sth.sig_len, &sig) != 0) {
		free(root);
		return SEALCTL_EXIT_FAIL;
	}
	printf("tree_size: %llu\ntimestamp: %llu (%s)\nroot_hash: %s\nsignature: %s\n",
	    (unsigned long long)sth.tree_size, (unsigned long long)sth.timestamp,
	    ctl_time_ms(sth.timestamp, t), root, sig);
	free(root);
	free(sig);
	return SEALCTL_EXIT_OK;
}

/*
 * The stored bytes of one listed entry: "leaf_input", base64 of them. The
 * parsed "entry" beside it is for reading only: a re-serialisation need not
 * give the hashed bytes back.
 */
static int
entry_bytes(const json_t *item, uint8_t **out, size_t *len)
{
	const json_t *li = json_object_get(item, "leaf_input");

	*out = NULL;
	if (!json_is_string(li) || codec_b64_decode(json_string_value(li),
	    json_string_length(li), LEDGER_ENTRY_MAX, out, len) != 0 || *len == 0) {
		free(*out);
		*out = NULL;
		return -1;
	}
	return 0;
}

/* One page of entries from start (at most PAGE); *items is the array. */
static int
get_page(struct ctl *c, unsigned long long start, unsigned long long count, json_t **resp,
    json_t **items)
{
	char path[PATH_BUF];
	int rc;

	snprintf(path, sizeof(path), "/v1/ledger/entries?start=%llu&count=%llu", start, count);
	if ((rc = ctl_call_json(c, "GET", path, NULL, resp)) != 0)
		return rc;
	if (!json_is_array(*items = json_object_get(*resp, "entries"))) {
		ctl_err("the appliance's answer has no entries list");
		json_decref(*resp);
		*resp = NULL;
		return SEALCTL_EXIT_FAIL;
	}
	return 0;
}

static int
ledger_entries_cmd(struct ctl *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "start", required_argument, NULL, 's' },
		{ "count", required_argument, NULL, 'n' },
		{ "seal", required_argument, NULL, 'S' },
		{ "principal", required_argument, NULL, 'p' },
		{ "from", required_argument, NULL, 'f' },
		{ "to", required_argument, NULL, 't' },
		{ "unit", required_argument, NULL, 'u' },
		{ "document-name", required_argument, NULL, 'd' },
		{ NULL, 0, NULL, 0 },
	};
	static const char opt_of[6] = { 'S', 'p', 'f', 't', 'u', 'd' };
	static const char *const fname[6] = { "seal", "principal", "from", "to", "unit",
	    "document_name" };
	const char *filter[6] = { NULL, NULL, NULL, NULL, NULL, NULL };
	unsigned long long start = 0, count = 100;
	char path[PATH_BUF * 4];
	json_t *resp, *items, *it, *next;
	size_t i;
	int ch, rc;

	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (ch == 's' && ctl_parse_u64(optarg, &start) == 0)
			continue;
		if (ch == 'n' && ctl_parse_u64(optarg, &count) == 0 && count >= 1 &&
		    count <= PAGE)
			continue;
		for (i = 0; i < 6 && ch != opt_of[i]; i++)
			;
		if (i < 6) {
			filter[i] = optarg;
			continue;
		}
		return ctl_usage("ledger entries: --start N (0 or more), --count M (1 to %d), "
		    "--seal ID, --principal NAME, --from TIME, --to TIME, --unit ID, "
		    "--document-name TEXT", PAGE);
	}
	if (optind != argc)
		return ctl_usage("ledger entries: unexpected argument");
	snprintf(path, sizeof(path), "/v1/ledger/entries?start=%llu&count=%llu", start, count);
	for (int f = 0; f < 6; f++)
		if (filter[f] != NULL && ctl_query_add(path, sizeof(path), fname[f], filter[f]) != 0)
			return ctl_usage("ledger entries: --%s is too long", fname[f]);
	if ((rc = ctl_call_json(c, "GET", path, NULL, &resp)) != 0)
		return rc;
	if (!json_is_array(items = json_object_get(resp, "entries"))) {
		ctl_err("the appliance's answer has no entries list");
		json_decref(resp);
		return SEALCTL_EXIT_FAIL;
	}
	json_array_foreach(items, i, it) {
		uint8_t *e = NULL;
		size_t n;

		if (!json_is_integer(json_object_get(it, "seq")) || entry_bytes(it, &e, &n) != 0 ||
		    memchr(e, '\0', n) != NULL) {
			free(e);
			ctl_err("entry %zu of the answer is malformed", i);
			json_decref(resp);
			return SEALCTL_EXIT_FAIL;
		}
		printf("%lld\t", (long long)json_integer_value(json_object_get(it, "seq")));
		codec_print_safe(stdout, (const char *)e);
		putchar('\n');
		free(e);
	}
	/* Where to go on, on stderr: stdout stays one entry a line. */
	next = json_object_get(resp, "next");
	if (json_is_true(json_object_get(resp, "more")) && json_is_integer(next))
		fprintf(stderr, "sealctl: more entries may match: go on with --start %lld\n",
		    (long long)json_integer_value(next));
	json_decref(resp);
	return SEALCTL_EXIT_OK;
}

/* Reads entries 0..sth->tree_size-1, checking each, into the tree edge. */
static int
rehash_all(struct ctl *c, const struct ledger_sth *sth, struct merkle_edge *edge,
    unsigned long long *first_sign)
{
	unsigned long long next = 0;
	json_t *resp, *items, *it;
	size_t i;
	int rc;

	merkle_edge_init(edge);
	*first_sign = ~0ULL;
	while (next < sth->tree_size) {
		unsigned long long want = sth->tree_size - next < PAGE ? sth->tree_size - next : PAGE;

		if ((rc = get_page(c, next, want, &resp, &items)) != 0)
			return rc;
		if (json_array_size(items) == 0) {
			ctl_err("the ledger lists no entry %llu, but its tree head has %llu",
			    next, (unsigned long long)sth->tree_size);
			json_decref(resp);
			return SEALCTL_EXIT_FAIL;
		}
		json_array_foreach(items, i, it) {
			uint8_t *e, leaf[MERKLE_HASH_LEN], given[MERKLE_HASH_LEN], *g;
			json_t *obj = NULL;
			uint64_t seq;
			size_t n, gn;
			const char *lh = json_string_value(json_object_get(it, "leaf_hash"));
			int bad;

			if (next >= sth->tree_size)
				break;	/* the ledger grew past the tree head */
			if (entry_bytes(it, &e, &n) != 0) {
				ctl_err("entry %llu: the answer does not carry its stored bytes", next);
				json_decref(resp);
				return SEALCTL_EXIT_FAIL;
			}
			bad = ledger_entry_parse(e, n, &seq, NULL, &obj) != 0 || seq != next;
			if (!bad && merkle_leaf_hash(e, n, leaf) != 0)
				bad = 1;
			if (!bad && lh != NULL) {
				bad = codec_b64_decode(lh, strlen(lh), MERKLE_HASH_LEN, &g, &gn) != 0;
				if (!bad) {
					memcpy(given, g, gn);
					bad = gn != MERKLE_HASH_LEN || memcmp(given, leaf, gn) != 0;
					free(g);
				}
			}
			if (!bad && *first_sign == ~0ULL &&
			    json_is_string(json_object_get(obj, "action")) &&
			    strcmp(json_string_value(json_object_get(obj, "action")), "sign") == 0 &&
			    json_is_string(json_object_get(obj, "result")) &&
			    strcmp(json_string_value(json_object_get(obj, "result")), "ok") == 0)
				*first_sign = next;
			json_decref(obj);
			free(e);
			if (bad) {
				printf("entry %llu: FAILED: not a canonical entry at its sequence "
				    "number, or its leaf hash is wrong\n", next);
				json_decref(resp);
				return SEALCTL_EXIT_FAIL;
			}
			if (merkle_edge_append(edge, leaf, NULL, NULL) != 0) {
				json_decref(resp);
				return SEALCTL_EXIT_FAIL;
			}
			next++;
		}
		json_decref(resp);
	}
	return 0;
}

/* The audit key: --audit-cert, else the audit certificate of an evidence
 * bundle, which must chain to --trust. *how says which. */
static int
audit_key(struct ctl *c, const char *audit_cert, const char *trust,
    unsigned long long sign_seq, EVP_PKEY **pub, char *how, size_t howlen)
{
	STACK_OF(X509) *certs = NULL;
	char err[512], path[PATH_BUF], *text, subj[256];
	struct evidence_result *r;
	json_t *bundle, *pem;
	BIO *bio;
	X509 *x;
	int rc;

	*pub = NULL;
	if (audit_cert != NULL) {
		if (evidence_load_pem_certs(audit_cert, &certs, err, sizeof(err)) != 0) {
			ctl_err("%s", err);
			return SEALCTL_EXIT_USAGE;
		}
		x = sk_X509_value(certs, 0);
		X509_NAME_oneline(X509_get_subject_name(x), subj, sizeof(subj));
		snprintf(how, howlen, "%s from %s", subj, audit_cert);
		*pub = X509_get_pubkey(x);
		sk_X509_pop_free(certs, X509_free);
		return *pub ? 0 : SEALCTL_EXIT_FAIL;
	}
	if (sign_seq == ~0ULL) {
		ctl_err("the ledger holds no signature whose evidence bundle carries the "
		    "audit certificate: give --audit-cert PEM");
		return SEALCTL_EXIT_USAGE;
	}
	if (evidence_load_pem_certs(trust, &certs, err, sizeof(err)) != 0) {
		ctl_err("%s", err);
		return SEALCTL_EXIT_USAGE;
	}
	snprintf(path, sizeof(path), "/v1/evidence/%llu", sign_seq);
	if ((rc = ctl_call_json(c, "GET", path, NULL, &bundle)) != 0) {
		sk_X509_pop_free(certs, X509_free);
		return rc;
	}
	/* The whole bundle must check out, certificates included. */
	text = json_dumps(bundle, JSON_COMPACT);
	r = calloc(1, sizeof(*r));
	rc = text && r ? evidence_verify(text, strlen(text), certs, r) : SB_ENOMEM;
	free(text);
	sk_X509_pop_free(certs, X509_free);
	if (rc != 0 || !r->ok[EVIDENCE_CERTS]) {
		ctl_err("the audit certificate of evidence %llu does not chain to %s%s%s",
		    sign_seq, trust, rc == 0 ? ": " : "", rc == 0 ? r->detail[EVIDENCE_CERTS] :
		    r->detail[EVIDENCE_FORMAT]);
		free(r);
		json_decref(bundle);
		return SEALCTL_EXIT_FAIL;
	}
	free(r);
	pem = json_object_get(json_object_get(bundle, "certificates"), "audit");
	bio = BIO_new_mem_buf(json_string_value(pem), (int)json_string_length(pem));
	x = bio ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
	BIO_free(bio);
	json_decref(bundle);
	if (x == NULL)
		return SEALCTL_EXIT_FAIL;
	X509_NAME_oneline(X509_get_subject_name(x), subj, sizeof(subj));
	snprintf(how, howlen, "%s from evidence %llu, chained to %s", subj, sign_seq, trust);
	*pub = X509_get_pubkey(x);
	X509_free(x);
	return *pub ? 0 : SEALCTL_EXIT_FAIL;
}

static int
ledger_verify_cmd(struct ctl *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "audit-cert", required_argument, NULL, 'A' },
		{ "trust", required_argument, NULL, 'T' },
		{ NULL, 0, NULL, 0 },
	};
	const char *audit_cert = NULL, *trust = NULL;
	uint8_t root[MERKLE_HASH_LEN];
	struct merkle_edge *edge;
	unsigned long long sign_seq;
	struct ledger_sth sth;
	EVP_PKEY *pub = NULL;
	char how[512], t[32];
	int ch, rc, bad = 0;

	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'A': audit_cert = optarg; break;
		case 'T': trust = optarg; break;
		default: return ctl_usage("ledger verify: bad option");
		}
	}
	if (optind != argc)
		return ctl_usage("ledger verify: unexpected argument");
	if (audit_cert == NULL && trust == NULL)
		return ctl_usage("ledger verify: give --audit-cert PEM (the audit "
		    "certificate) or --trust PEM (the appliance CA, to check the audit "
		    "certificate of an evidence bundle)");
	if ((rc = get_sth(c, &sth)) != 0)
		return rc;
	printf("tree head: size %llu, time %s\n", (unsigned long long)sth.tree_size,
	    ctl_time_ms(sth.timestamp, t));
	if ((edge = malloc(sizeof(*edge))) == NULL)
		return SEALCTL_EXIT_FAIL;
	if ((rc = rehash_all(c, &sth, edge, &sign_seq)) != 0) {
		free(edge);
		return rc;
	}
	printf("entries 0..%llu: ok (canonical, in sequence, leaf hashes recomputed)\n",
	    (unsigned long long)sth.tree_size - (sth.tree_size > 0));
	rc = sth.tree_size == 0 ? merkle_empty_root(root) : merkle_edge_root(edge, root);
	free(edge);
	if (rc != 0)
		return SEALCTL_EXIT_FAIL;
	if (memcmp(root, sth.root, sizeof(root)) != 0) {
		printf("root: FAILED: the root recomputed from the entries is not the tree "
		    "head's\n");
		bad = 1;
	} else {
		printf("root: ok (recomputed from the entries, equal to the tree head's)\n");
	}
	if ((rc = audit_key(c, audit_cert, trust, sign_seq, &pub, how, sizeof(how))) != 0)
		return rc;
	if (ledger_sth_verify(&sth, pub) != 0) {
		printf("tree head signature: FAILED: does not verify with %s\n", how);
		bad = 1;
	} else {
		printf("tree head signature: ok (%s)\n", how);
	}
	EVP_PKEY_free(pub);
	ERR_clear_error();
	printf("ledger: %s\n", bad ? "INVALID" : "VALID");
	return bad ? SEALCTL_EXIT_FAIL : SEALCTL_EXIT_OK;
}

int
cmd_ledger(struct ctl *c, int argc, char **argv)
{
	if (argc < 2)
		return ctl_usage("ledger: expected sth, entries or verify");
	if (strcmp(argv[1], "sth") == 0) {
		if (argc != 2)
			return ctl_usage("ledger sth: takes no arguments");
		return ledger_sth_cmd(c);
	}
	if (strcmp(argv[1], "entries") == 0)
		return ledger_entries_cmd(c, argc - 1, argv + 1);
	if (strcmp(argv[1], "verify") == 0)
		return ledger_verify_cmd(c, argc - 1, argv + 1);
	return ctl_usage("ledger: expected sth, entries or verify");
}

int
cmd_evidence(struct ctl *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 },
	};
	const char *out = "-";
	struct http_response r;
	char path[PATH_BUF], err[512];
	unsigned long long seq;
	json_t *j;
	int ch, rc;

	while ((ch = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
		if (ch != 'o')
			return ctl_usage("evidence: bad option");
		out = optarg;
	}
	if (optind != argc - 1 || ctl_parse_u64(argv[optind], &seq) != 0)
		return ctl_usage("evidence: expected one sequence number");
	snprintf(path, sizeof(path), "/v1/evidence/%llu", seq);
	if ((rc = ctl_call(c, "GET", path, NULL, NULL, 0, &r, 0)) != 0)
		return rc;
	/* Written as received (it is what the appliance vouches for), once it
	 * is known to be a JSON object; verify-evidence checks the rest. */
	j = json_loadb((const char *)r.body, r.len, JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_object(j)) {
		ctl_err("the appliance's answer is not a JSON object");
		rc = SEALCTL_EXIT_FAIL;
	} else if (codec_write_file(out, r.body, r.len, err, sizeof(err)) != 0) {
		ctl_err("%s", err);
		rc = SEALCTL_EXIT_FAIL;
	} else if (strcmp(out, "-") != 0) {
		printf("evidence for seq %llu in ", seq);
		codec_print_safe(stdout, out);
		putchar('\n');
	}
	json_decref(j);
	http_response_clear(&r);
	return rc;
}

int
cmd_verify_evidence(struct ctl *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "trust", required_argument, NULL, 'T' },
		{ NULL, 0, NULL, 0 },
	};
	const char *trust = NULL;
	STACK_OF(X509) *anchors = NULL;
	struct evidence_result *r;
	char err[512], t[32];
	uint8_t *data;
	size_t len;
	int ch, rc;

	(void)c;	/* offline: no configuration, no connection */
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (ch != 'T')
			return ctl_usage("verify-evidence: bad option");
		trust = optarg;
	}
	if (optind != argc - 1)
		return ctl_usage("verify-evidence: expected one bundle file");
	if (trust == NULL)
		return ctl_usage("verify-evidence: --trust PEM (the trust anchor) is required");
	if (evidence_load_pem_certs(trust, &anchors, err, sizeof(err)) != 0) {
		ctl_err("%s", err);
		return SEALCTL_EXIT_USAGE;
	}
	if (codec_read_file(argv[optind], EVIDENCE_MAX_BYTES, &data, &len, err,
	    sizeof(err)) != 0) {
		ctl_err("%s", err);
		sk_X509_pop_free(anchors, X509_free);
		return SEALCTL_EXIT_FAIL;
	}
	if ((r = calloc(1, sizeof(*r))) == NULL ||
	    evidence_verify((const char *)data, len, anchors, r) != 0) {
		ctl_err("out of memory");
		free(r);
		free(data);
		sk_X509_pop_free(anchors, X509_free);
		return SEALCTL_EXIT_FAIL;
	}
	free(data);
	sk_X509_pop_free(anchors, X509_free);
	if (r->ok[EVIDENCE_FORMAT]) {
		printf("seq %llu, seal %s, document %s (%s), recorded %s\n",
		    (unsigned long long)r->seq, r->seal, r->document_name, r->document_digest,
		    ctl_time_ms(r->entry_time, t));
		printf("tree head: size %llu, time %s\n", (unsigned long long)r->tree_size,
		    ctl_time_ms(r->sth_timestamp, t));
	}
	for (int i = 0; i < EVIDENCE_NCHECKS; i++) {
		if (!r->ran[i])
			printf("%s: not checked\n", evidence_check_name(i));
		else if (r->ok[i])
			printf("%s: ok\n", evidence_check_name(i));
		else
			printf("%s: FAILED: %s\n", evidence_check_name(i), r->detail[i]);
	}
	printf("evidence: %s\n", r->all_ok ? "VALID" : "INVALID");
	rc = r->all_ok ? SEALCTL_EXIT_OK : SEALCTL_EXIT_FAIL;
	free(r);
	return rc;
}
