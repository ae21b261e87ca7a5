/*
 * derivepin — TEST TOOL ONLY, never installed: prints the user PIN derived
 * from the shares in the given files, so that integration tests can look at
 * a throwaway token with pkcs11-tool. An appliance has no such program.
 *
 *   derivepin APPLIANCE_ID SHARE_FILE...
 */
#include <stdio.h>
#include <string.h>

#include "hsm/custody.h"
#include "lib/err.h"
#include "lib/secret.h"

int
main(int argc, char **argv)
{
	struct custody_set *set;
	uint8_t *secret;
	char *pin, line[CUSTODY_SHARE_TEXT_MAX + 2];
	unsigned have, need;
	int rc = 0;

	if (argc < 3) {
		fprintf(stderr, "usage: derivepin APPLIANCE_ID SHARE_FILE...\n");
		return 2;
	}
	set = custody_set_new(argv[1], NULL);
	for (int i = 2; i < argc && rc == 0; i++) {
		FILE *f = fopen(argv[i], "r");

		rc = SB_EIO;
		while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
			if (line[0] == '#' || line[0] == '\n')
				continue;
			line[strcspn(line, "\n")] = '\0';
			rc = custody_set_add(set, line, &have, &need, NULL, 0);
			break;
		}
		if (f != NULL)
			fclose(f);
	}
	secret = secret_alloc(CUSTODY_SECRET_LEN);
	pin = secret_alloc(CUSTODY_PIN_LEN + 1);
	if (rc == 0)
		rc = custody_set_combine(set, secret);
	if (rc == 0)
		rc = custody_derive_pin(secret, argv[1], 0, pin);
	if (rc == 0)
		printf("%s\n", pin);
	else
		fprintf(stderr, "derivepin: %s\n", sb_strerror(rc));
	secret_free(&secret);
	secret_free(&pin);
	custody_set_free(set);
	return rc == 0 ? 0 : 1;
}
