/*
 * seccomp-probe: what a container's seccomp filter does to a few calls, as the kernel answers.
 *   seccomp-probe personality V...   personality(V) for each V: "V ok" or "V ERRNO-NAME"
 *   seccomp-probe call NR [ARG]      syscall(NR, ARG, 0, ...): "ok" or the errno's number
 *   seccomp-probe trap NR            with a SIGSYS handler: "SIGSYS syscall=N code=C" if trapped
 * Built static by the tests (SeccompIT) and copied into the busybox rootfs.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/syscall.h>
#include <unistd.h>

static void on_sigsys(int sig, siginfo_t *si, void *ctx)
{
	(void)sig;
	(void)ctx;
	printf("SIGSYS syscall=%d code=%d\n", si->si_syscall, si->si_code);
	fflush(stdout);
	_exit(0);
}

int main(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "personality")) {
		for (int k = 2; k < argc; k++) {
			unsigned long v = strtoul(argv[k], NULL, 0);
			long r = syscall(SYS_personality, v);
			printf("%s %s\n", argv[k], r < 0 ? strerrorname_np(errno) : "ok");
			if (r >= 0 && v != 0xffffffffUL)
				syscall(SYS_personality, 0UL);
		}
		return 0;
	}
	if (argc >= 3 && !strcmp(argv[1], "call")) {
		long r = syscall(strtol(argv[2], NULL, 0), argc > 3 ? strtoul(argv[3], NULL, 0) : 0UL, 0UL, 0UL, 0UL);
		printf("%s\n", r < 0 ? strerrorname_np(errno) : "ok");
		return 0;
	}
	if (argc >= 3 && !strcmp(argv[1], "trap")) {
		struct sigaction sa = { .sa_sigaction = on_sigsys, .sa_flags = SA_SIGINFO };
		sigaction(SIGSYS, &sa, NULL);
		long r = syscall(strtol(argv[2], NULL, 0), 0UL, 0UL, 0UL);
		printf("returned %ld %s\n", r, r < 0 ? strerrorname_np(errno) : "");
		return 0;
	}
	fprintf(stderr, "usage: seccomp-probe personality V... | call NR [ARG] | trap NR\n");
	return 2;
}
