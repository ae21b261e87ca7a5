/*
 * sealctl — the command-line client's shared state and helpers (ctl_*) and
 * its commands (cmd_*), one file per group: cmd_seal.c (sign, verify, seals,
 * health), cmd_tsa.c (timestamp), cmd_ledger.c (ledger, evidence,
 * verify-evidence), cmd_request.c (requests). main() is in sealctl.c.
 *
 * A command returns the process's exit status (SEALCTL_EXIT_*). It prints
 * its results on stdout and its errors on stderr as "sealctl: ...". Text
 * that came from the server goes through codec_print_safe/codec_safe.
 * Nothing here ever prints the client key, or anything read from it.
 */
#ifndef SB_CLIENT_SEALCTL_H
#define SB_CLIENT_SEALCTL_H

#include <stddef.h>

#include <jansson.h>

#include "clientcfg.h"
#include "http.h"

#define SEALCTL_EXIT_OK 0	/* done; for a check: it passed */
#define SEALCTL_EXIT_FAIL 1	/* it failed, or a check did not pass */
#define SEALCTL_EXIT_USAGE 2	/* bad command line or configuration */

#define SEALCTL_CMS_MAX (1024 * 1024)	/* a signature file we read */

struct ctl {
	/* From the command line; NULL when not given. */
	const char *config;
	const char *server, *cert, *key, *ca;
	unsigned timeout;		/* 0: not given */
	/* Loaded on first use by ctl_connect. */
	struct clientcfg *cfg;
	struct http *http;
	/* One more request header for ctl_call (sign-pdf's options); NULL: none. */
	const char *xname, *xvalue;
};

/* "sealctl: " + message on stderr. */
void ctl_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Usage error for a command: message, then "try sealctl --help". */
int ctl_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * One request to the appliance (loading the configuration and connecting
 * on first use). Returns SEALCTL_EXIT_OK with a 2xx answer in resp (clear
 * it with http_response_clear); otherwise prints why — the transport error,
 * or "<code>: <message>" from the API's error body — and returns
 * SEALCTL_EXIT_FAIL (SEALCTL_EXIT_USAGE for configuration errors).
 * With accept_any, any status with a body is returned as OK.
 */
int ctl_call(struct ctl *c, const char *method, const char *path,
    const char *content_type, const void *body, size_t len,
    struct http_response *resp, int accept_any);
/* Same with a JSON body (may be NULL for GET) and a JSON object answer. */
int ctl_call_json(struct ctl *c, const char *method, const char *path,
    json_t *body, json_t **out);

/* "&name=value" appended to path (len bytes), value percent-encoded but for
 * RFC 3986's unreserved characters; 0, or -1 when it does not fit. */
int ctl_query_add(char *path, size_t len, const char *name, const char *value);
/* j (taken) on stdout, indented, non-ASCII escaped; SEALCTL_EXIT_OK or _FAIL. */
int ctl_print_json(json_t *j);
/* Parses s as a decimal uint64; 0 or -1. */
int ctl_parse_u64(const char *s, unsigned long long *v);
/* Unix milliseconds as "2026-11-22T03:00:00.123Z" into buf (32 bytes). */
const char *ctl_time_ms(unsigned long long ms, char buf[32]);

int cmd_sign_pdf(struct ctl *c, int argc, char **argv);
int cmd_sign(struct ctl *c, int argc, char **argv);
int cmd_verify(struct ctl *c, int argc, char **argv);
int cmd_seals(struct ctl *c, int argc, char **argv);
int cmd_health(struct ctl *c, int argc, char **argv);
int cmd_timestamp(struct ctl *c, int argc, char **argv);
int cmd_ledger(struct ctl *c, int argc, char **argv);
int cmd_evidence(struct ctl *c, int argc, char **argv);
int cmd_verify_evidence(struct ctl *c, int argc, char **argv);
int cmd_request(struct ctl *c, int argc, char **argv);
int cmd_stats(struct ctl *c, int argc, char **argv);
int cmd_grants(struct ctl *c, int argc, char **argv);
int cmd_alerts(struct ctl *c, int argc, char **argv);

int cmd_totp(struct ctl *c, int argc, char **argv);

#endif
