/*
 * fuzz_config — libFuzzer harness for lib/config's YAML loader.
 *
 * Besides crashes, leaks and hangs, it checks the loader's promises: on
 * success a config whose values are within the schema's bounds; on failure
 * no config and one non-empty line naming the input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/config.h"
#include "lib/err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config *cfg = NULL;
	char err[CONFIG_ERR_MAX];
	int rc;

	rc = config_load_buffer("fuzz.yaml", (const char *)data, size, &cfg,
	    err, sizeof(err));
	if (rc == 0) {
		if (cfg == NULL || cfg->appliance.id == NULL ||
		    cfg->appliance.state_dir == NULL || cfg->hsm.module == NULL ||
		    cfg->hsm.token == NULL || cfg->listen.address == NULL ||
		    cfg->admin_socket == NULL)
			abort();
		if (strlen(cfg->appliance.id) > CONFIG_ID_MAX ||
		    strlen(cfg->hsm.token) > 32 || cfg->appliance.state_dir[0] != '/' ||
		    cfg->quorum.threshold < 2 || cfg->quorum.threshold > cfg->quorum.shares ||
		    cfg->quorum.shares > CONFIG_MAX_SHARES ||
		    cfg->listen.port < 1 || cfg->listen.port > 65535)
			abort();
	} else {
		if (cfg != NULL || (rc != SB_ECONFIG && rc != SB_ENOMEM))
			abort();
		if (strncmp(err, "fuzz.yaml", 9) != 0 || strchr(err, '\n') != NULL)
			abort();
	}
	config_free(cfg);
	return 0;
}
