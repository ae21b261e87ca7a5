/*
 * lib/caps: capabilities given up for good, in every set, and in the
 * threads started afterwards. Each case runs in a child of its own (the
 * test keeps its own capabilities); the kernel's word is /proc's status.
 * As root (make check) the effects are checked with a call that needs the
 * capability; as another user there is nothing to give up, which is
 * checked too.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/capability.h>

#include "lib/caps.h"
#include "check.h"

/* The mask of /proc/self/task/TID/status's line "name:", or ~0 if none. */
static unsigned long long
cap_mask(pid_t tid, const char *name)
{
	char path[64], line[256];
	unsigned long long v = ~0ULL;
	size_t n = strlen(name);
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/task/%d/status", (int)tid);
	if ((f = fopen(path, "re")) == NULL)
		return v;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, name, n) == 0 && line[n] == ':')
			v = strtoull(line + n + 1, NULL, 16);
	fclose(f);
	return v;
}

static pid_t
tid(void)
{
	return (pid_t)syscall(SYS_gettid);
}

/* All five sets of thread t are empty (the bounding set when want_bnd). */
static int
all_empty(pid_t t, int want_bnd)
{
	return cap_mask(t, "CapInh") == 0 && cap_mask(t, "CapPrm") == 0 &&
	    cap_mask(t, "CapEff") == 0 && cap_mask(t, "CapAmb") == 0 &&
	    (!want_bnd || cap_mask(t, "CapBnd") == 0);
}

static pid_t thread_tid;

static void *
thread_main(void *arg)
{
	(void)arg;
	thread_tid = tid();
	sleep(2);	/* alive while the parent thread reads its status */
	return NULL;
}

/* Runs fn in a child; its exit status (0: the child's checks held). */
static int
in_child(int (*fn)(void))
{
	pid_t pid = fork();
	int st;

	if (pid == 0)
		_exit(fn());
	if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

static char owned[64];

static int
drop_all_child(void)
{
	int root = geteuid() == 0, kept = -1;
	pthread_t th;

	if (caps_drop_all(&kept) != 0)
		return 10;
	if (root && kept != 0)
		return 11;	/* root here has CAP_SETPCAP: the bounding set goes */
	if (!all_empty(tid(), root))
		return 12;
	/* A thread started afterwards has nothing either. */
	if (pthread_create(&th, NULL, thread_main, NULL) != 0)
		return 13;
	while (thread_tid == 0)
		usleep(1000);
	if (!all_empty(thread_tid, root))
		return 14;
	pthread_join(th, NULL);
	/* Giving a file to another user needs CAP_CHOWN: gone, even as root. */
	if (chown(owned, 4242, 4242) == 0 || errno != EPERM)
		return 15;
	return 0;
}

static void
test_drop_all(void)
{
	int fd;

	snprintf(owned, sizeof(owned), "/tmp/sbx-caps-XXXXXX");
	CHECK((fd = mkstemp(owned)) >= 0);
	close(fd);
	fd = in_child(drop_all_child);
	unlink(owned);
	CHECK_RC(fd, 0);
}

static int
drop_one_child(void)
{
	int root = geteuid() == 0;
	unsigned long long bit = 1ULL << CAP_CHOWN, keep = 1ULL << CAP_SETUID;

	if (caps_drop_one(CAP_CHOWN) != 0)
		return 20;
	if ((cap_mask(tid(), "CapEff") & bit) || (cap_mask(tid(), "CapPrm") & bit) ||
	    (root && (cap_mask(tid(), "CapBnd") & bit)))
		return 21;
	if (root && (!(cap_mask(tid(), "CapEff") & keep) || !(cap_mask(tid(), "CapBnd") & keep)))
		return 22;	/* only that one */
	if (chown(owned, 4242, 4242) == 0 || errno != EPERM)
		return 23;
	/* Again: nothing left to drop is no error. */
	if (caps_drop_one(CAP_CHOWN) != 0)
		return 24;
	return 0;
}

static void
test_drop_one(void)
{
	int fd;

	snprintf(owned, sizeof(owned), "/tmp/sbx-caps-XXXXXX");
	CHECK((fd = mkstemp(owned)) >= 0);
	close(fd);
	fd = in_child(drop_one_child);
	unlink(owned);
	CHECK_RC(fd, 0);
}

static int
bounding_child(void)
{
	int kept = -1;

	if (caps_drop_bounding(&kept) != 0)
		return 30;
	if (geteuid() == 0) {
		/* The bounding set is empty; the others are as they were. */
		if (kept != 0 || cap_mask(tid(), "CapBnd") != 0 ||
		    !(cap_mask(tid(), "CapEff") & (1ULL << CAP_SETUID)))
			return 31;
		/* Without CAP_SETPCAP, which went with it, a second drop
		 * finds nothing to drop. */
		if (caps_drop_bounding(&kept) != 0 || kept != 0)
			return 32;
	} else if (cap_mask(tid(), "CapEff") != 0) {
		return 33;
	}
	return 0;
}

static void
test_drop_bounding(void)
{
	CHECK_RC(in_child(bounding_child), 0);
}

int
main(void)
{
	if (geteuid() != 0)
		printf("# not root: only that nothing is left to give up is checked\n");
	RUN(test_drop_all, "caps_drop_all empties every set, threads started afterwards "
	    "inherit nothing, and chown to another user fails (EPERM) even as root");
	RUN(test_drop_one, "caps_drop_one removes one capability from every set and no other");
	RUN(test_drop_bounding, "caps_drop_bounding empties the bounding set and leaves the "
	    "effective set to the uid change");
	return check_done();
}
