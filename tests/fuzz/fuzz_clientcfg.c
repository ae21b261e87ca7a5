/*
 * fuzz_clientcfg — libFuzzer harness for sealctl's client.yaml loader
 * (daemon/client/clientcfg.c on lib/cfg's engine, the same engine as
 * fuzz_config's, under another table: flat keys, checked host:port).
 *
 * Besides crashes, leaks and hangs, it checks the loader's promises: on
 * success a config whose values are within the schema's bounds (a server
 * that clientcfg_split_server() accepts, a timeout of 1..3600); on failure
 * no config and one non-empty line naming the input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/client/clientcfg.h"
#include "lib/err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
bad_string(const char *s)
{
	if (s == NULL)
		return 0;
	if (*s == '\0')
		return 1;
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 1;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct clientcfg *c = NULL;
	char err[CLIENTCFG_ERR_MAX], host[256];
	unsigned port;
	int rc;

	rc = clientcfg_load_buffer("fuzz.yaml", (const char *)data, size, &c,
	    err, sizeof(err));
	if (rc == 0) {
		if (c == NULL || err[0] != '\0' || c->timeout < 1 || c->timeout > 3600)
			abort();
		if (c->server != NULL &&
		    clientcfg_split_server(c->server, host, sizeof(host), &port) != 0)
			abort();
		if (bad_string(c->server) || bad_string(c->cert) || bad_string(c->key) ||
		    bad_string(c->ca))
			abort();
	} else {
		if (c != NULL || (rc != SB_ECONFIG && rc != SB_ENOMEM))
			abort();
		if (strncmp(err, "fuzz.yaml", 9) != 0 || strchr(err, '\n') != NULL)
			abort();
	}
	clientcfg_free(c);
	return 0;
}
