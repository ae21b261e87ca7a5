/*
 * inject — TEST TOOL: make a running process execute one system call, the
 * way a takeover would, so that tests can show what the monitor's seccomp
 * filter does without any test-only code in seald.
 *
 *   inject PID NAME [ARG...]   (up to 6 integer arguments)
 *
 * PID must be a thread blocked in a system call (seald-monitor's main thread
 * waits in recvmsg on its control link). It is stopped with ptrace, its
 * interrupted call is replaced by NAME(ARG...) at the same syscall
 * instruction, single-stepped, and put back as it was. Prints the call's
 * return value (-errno on failure), or "killed by signal N" when the call
 * ended the process. Exit status 0 for either; 2 when it could not inject
 * (no ptrace permission: the caller needs CAP_SYS_PTRACE for a non-dumpable
 * process), 3 on an architecture other than x86_64.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/types.h>
#include <sys/user.h>
#include <sys/wait.h>

#include <seccomp.h>

#if defined(__x86_64__)
static int
stopped(pid_t pid, int *st)
{
	while (waitpid(pid, st, __WALL) < 0)
		if (errno != EINTR)
			return -1;
	return 0;
}

static int
inject(pid_t pid, long nr, const long a[6])
{
	struct user_regs_struct saved, r;
	long word;
	int st;

	if (ptrace(PTRACE_SEIZE, pid, 0, 0) != 0 || ptrace(PTRACE_INTERRUPT, pid, 0, 0) != 0) {
		fprintf(stderr, "inject: ptrace %d: %s\n", (int)pid, strerror(errno));
		return 2;
	}
	if (stopped(pid, &st) != 0 || !WIFSTOPPED(st) ||
	    ptrace(PTRACE_GETREGS, pid, 0, &saved) != 0) {
		fprintf(stderr, "inject: cannot stop %d: %s\n", (int)pid, strerror(errno));
		return 2;
	}
	/* Interrupted in a call: rip is just past its "syscall" (0f 05). */
	errno = 0;
	word = ptrace(PTRACE_PEEKTEXT, pid, saved.rip - 2, 0);
	if (errno != 0 || (word & 0xffff) != 0x050f || (long)saved.orig_rax < 0) {
		fprintf(stderr, "inject: %d is not waiting in a system call\n", (int)pid);
		ptrace(PTRACE_DETACH, pid, 0, 0);
		return 2;
	}
	r = saved;
	r.rip = saved.rip - 2;
	r.orig_rax = (unsigned long long)-1;	/* no restart of the interrupted call */
	r.rax = (unsigned long long)nr;
	r.rdi = (unsigned long long)a[0];
	r.rsi = (unsigned long long)a[1];
	r.rdx = (unsigned long long)a[2];
	r.r10 = (unsigned long long)a[3];
	r.r8 = (unsigned long long)a[4];
	r.r9 = (unsigned long long)a[5];
	if (ptrace(PTRACE_SETREGS, pid, 0, &r) != 0 ||
	    ptrace(PTRACE_SINGLESTEP, pid, 0, 0) != 0 || stopped(pid, &st) != 0) {
		fprintf(stderr, "inject: %s\n", strerror(errno));
		return 2;
	}
	if (WIFSIGNALED(st)) {
		printf("killed by signal %d\n", WTERMSIG(st));
		return 0;
	}
	if (WIFEXITED(st)) {
		printf("exited with status %d\n", WEXITSTATUS(st));
		return 0;
	}
	if (ptrace(PTRACE_GETREGS, pid, 0, &r) != 0) {
		fprintf(stderr, "inject: %s\n", strerror(errno));
		return 2;
	}
	printf("%lld\n", (long long)r.rax);
	/* As it was: the kernel restarts the interrupted call on resume. */
	ptrace(PTRACE_SETREGS, pid, 0, &saved);
	ptrace(PTRACE_DETACH, pid, 0, 0);
	return 0;
}
#endif

int
main(int argc, char **argv)
{
	long a[6] = { 0 };
	int nr;

	if (argc < 3 || argc > 9) {
		fprintf(stderr, "usage: inject PID SYSCALL [ARG...]\n");
		return 2;
	}
	if ((nr = seccomp_syscall_resolve_name(argv[2])) == __NR_SCMP_ERROR) {
		fprintf(stderr, "inject: unknown system call %s\n", argv[2]);
		return 2;
	}
	for (int i = 3; i < argc; i++)
		a[i - 3] = strtol(argv[i], NULL, 0);
#if defined(__x86_64__)
	return inject((pid_t)atoi(argv[1]), nr, a);
#else
	(void)a;
	fprintf(stderr, "inject: only on x86_64\n");
	return 3;
#endif
}
