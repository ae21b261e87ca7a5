#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "err.h"
#include "secret.h"

/*
 * Each allocation is its own anonymous mapping: whole pages, so mlock and
 * MADV_DONTDUMP cover exactly the secret and never a neighbour's data.
 * The first 16 bytes hold the mapping's size.
 */
#define SECRET_HDR 16

void *
secret_alloc(size_t n)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t total;
	uint8_t *m;

	if (n == 0 || n > SIZE_MAX - SECRET_HDR - page)
		return NULL;
	total = (n + SECRET_HDR + page - 1) / page * page;
	m = mmap(NULL, total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		return NULL;
	/* Best effort: an unprivileged process may have a small RLIMIT_MEMLOCK. */
	(void)mlock(m, total);
	(void)madvise(m, total, MADV_DONTDUMP);
	memcpy(m, &total, sizeof(total));
	return m + SECRET_HDR;
}

void
secret_wipe(void *p, size_t n)
{
	if (p != NULL && n > 0)
		OPENSSL_cleanse(p, n);
}

void
secret_free(void *pp)
{
	void **slot = pp;
	uint8_t *m;
	size_t total;

	if (slot == NULL || *slot == NULL)
		return;
	m = (uint8_t *)*slot - SECRET_HDR;
	memcpy(&total, m, sizeof(total));
	OPENSSL_cleanse(m, total);
	(void)munlock(m, total);
	(void)munmap(m, total);
	*slot = NULL;
}

char *
secret_strdup(const char *s)
{
	size_t n = strlen(s);
	char *d = secret_alloc(n + 1);

	if (d != NULL)
		memcpy(d, s, n + 1);
	return d;
}

int
secret_harden_process(void)
{
	struct rlimit rl = { 0, 0 };

	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0)
		return SB_EIO;
	if (setrlimit(RLIMIT_CORE, &rl) != 0)
		return SB_EIO;
	return 0;
}
