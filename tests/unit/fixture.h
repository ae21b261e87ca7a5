/*
 * fixture — a throwaway SoftHSM token directory per test run.
 *
 * fixture_softhsm_new() makes a fresh directory under $TMPDIR (or /tmp) with
 * an empty tokens/ folder and a softhsm2.conf pointing at it, and sets
 * SOFTHSM2_CONF so that the module loaded afterwards uses it. Call it before
 * loading the module. fixture_softhsm_free() removes the directory.
 */
#ifndef SB_TEST_FIXTURE_H
#define SB_TEST_FIXTURE_H

#define _GNU_SOURCE 1
#include <ftw.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/capability.h>

#define FIXTURE_MODULE "/usr/lib/softhsm/libsofthsm2.so"

struct fixture {
	char dir[PATH_MAX - 64];	/* room for the names below */
	char tokens[PATH_MAX];
	char conf[PATH_MAX];
};

static inline int
fixture_softhsm_new(struct fixture *fx)
{
	const char *tmp = getenv("TMPDIR");
	FILE *f;

	snprintf(fx->dir, sizeof(fx->dir), "%s/sbx-test-XXXXXX", tmp ? tmp : "/tmp");
	if (mkdtemp(fx->dir) == NULL)
		return -1;
	snprintf(fx->tokens, sizeof(fx->tokens), "%s/tokens", fx->dir);
	snprintf(fx->conf, sizeof(fx->conf), "%s/softhsm2.conf", fx->dir);
	if (mkdir(fx->tokens, 0700) != 0)
		return -1;
	if ((f = fopen(fx->conf, "w")) == NULL)
		return -1;
	fprintf(f, "directories.tokendir = %s\nobjectstore.backend = file\n"
	    "log.level = ERROR\nslots.removable = false\n", fx->tokens);
	fclose(f);
	return setenv("SOFTHSM2_CONF", fx->conf, 1);
}

static int
fixture_rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st; (void)flag; (void)ftw;
	return remove(path);
}

static inline void
fixture_softhsm_free(struct fixture *fx)
{
	if (fx->dir[0] != '\0') {
		chmod(fx->tokens, 0700);
		nftw(fx->dir, fixture_rm_one, 16, FTW_DEPTH | FTW_PHYS);
	}
	fx->dir[0] = '\0';
}

/*
 * Tests run as root, and root reads a chmod-000 directory anyway. Drop
 * CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH from this process (effective,
 * permitted, inheritable and bounding sets) so that making the token
 * directory unreadable really makes it unreadable. 0 or -1.
 */
static inline int
fixture_drop_dac_caps(void)
{
	struct __user_cap_header_struct hd = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];
	const uint32_t drop = (1u << CAP_DAC_OVERRIDE) | (1u << CAP_DAC_READ_SEARCH);

	if (syscall(SYS_capget, &hd, d) != 0)
		return -1;
	/* EPERM when unprivileged: then there is nothing to drop anyway. */
	(void)prctl(PR_CAPBSET_DROP, CAP_DAC_OVERRIDE, 0, 0, 0);
	(void)prctl(PR_CAPBSET_DROP, CAP_DAC_READ_SEARCH, 0, 0, 0);
	d[0].effective &= ~drop;
	d[0].permitted &= ~drop;
	d[0].inheritable &= ~drop;
	return (int)syscall(SYS_capset, &hd, d);
}

#endif
