/*
 * bin/brig: the brig command, as a native program (no shell in front of it).
 *
 * The warm path: it connects to the resident Brig server (brig.server.Server) over a unix
 * socket found by its euid, sends its argv, environment, umask and working directory (an
 * O_PATH fd), and writes what the server sends back to its own fds 1 and 2: the caller's
 * stdio never leaves this process. With no server it starts one, under a lock, and that
 * server answers this first call. The frames are documented in brig.server.Protocol.
 *
 * The cold path is what bin/brig always did: exec the helper's supervisor (brig-helper
 * launch), which runs brig's JVM as its child. Taken when BRIG_SERVER=off or --no-server,
 * when the server answers "cold" (a verb it does not serve, a caller with other powers),
 * and whenever no acknowledgement came. Never after one: the server may have acted, so a
 * second run could act twice; a server lost after it says exit status 125.
 *
 * For run, create and exec the server plans and this process supervises: on ACK 2 it execs
 * the supervisor on the connection (brig-helper launch --server FD), which starts the helper
 * when the server asks, so the container is the caller's descendant with the caller's stdio.
 *
 * It decides nothing about commands; it finds its home from /proc/self/exe.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <dirent.h>
#include <sys/auxv.h>
#include <sys/file.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

enum { HELLO = 1, READY = 2, STALE = 3, REQUEST = 4, COLD = 9, ACK = 10, OUT = 11, ERR = 12, EXIT = 13,
       IN_WANT = 14, IN = 15 };
enum { NONE = -1, REFUSED = -2 }; /* try_connect: no server (start one); a socket not to trust */

extern char **environ;
static char home[PATH_MAX], java[PATH_MAX + 32], aot[PATH_MAX + 32], home_prop[PATH_MAX + 16],
	jar[PATH_MAX + 16], build[256];
static int dfd = -1; /* the server's directory, checked */
/* This installation's names in it (server-HASH.sock, .lock, .log; HASH of the home's path), so
 * that two installations (two build trees) each keep a server instead of making each other's
 * step aside on every call; an upgrade in place keeps its names and the handshake decides. */
static char sdir[64], sockname[48], lockname[48], logname[48];

static void name_files(void)
{
	uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a, as brig.server.Protocol */
	for (const char *c = home; *c; c++)
		h = (h ^ (unsigned char)*c) * 0x100000001b3ULL;
	snprintf(sockname, sizeof sockname, "server-%016llx.sock", (unsigned long long)h);
	snprintf(lockname, sizeof lockname, "server-%016llx.lock", (unsigned long long)h);
	snprintf(logname, sizeof logname, "server-%016llx.log", (unsigned long long)h);
}

static const char *verb = ""; /* the command, after runc's global flags (main) */

/* runc's verbs but events: a cold JVM answers them in 50-110 ms, too soon for its JIT to pay
 * back: C1 compiled on a second CPU meanwhile, and took 3-8 ms more of a cold run and 40% more
 * CPU time (measured side by side: run 106 vs 98 ms, state 57 vs 54). Pulls and unpacks, with
 * their SHA-256 and tar code in Java, keep it. */
static int interpret_only(void)
{
	static const char *const verbs[] = { "create", "start", "run", "state", "kill", "delete", "exec", "list",
					     "ps", "pause", "resume", "update", "features", "spec", NULL };
	for (int k = 0; verbs[k]; k++)
		if (!strcmp(verb, verbs[k]))
			return 1;
	return 0;
}

/* The AOT cache of a light verb engines call often, trained on that verb alone
 * (src/build/train-verbs.sh, which has the figures): JDK 25 loads every class of a cache at
 * start, and the full one holds ~2530. Named from a fixed list, never from argv. Else the
 * full cache, if any. */
static const char *verb_cache(void)
{
	static const char *const verbs[] = { "state", "kill", "delete", NULL };
	static char path[PATH_MAX + 48], opt[PATH_MAX + 64];
	for (int k = 0; verbs[k]; k++) {
		if (strcmp(verb, verbs[k]))
			continue;
		snprintf(path, sizeof path, "%s/lib/aot/%s.aot", home, verbs[k]);
		if (access(path, R_OK) != 0)
			break;
		snprintf(opt, sizeof opt, "-XX:AOTCache=%s", path);
		return opt;
	}
	return aot;
}

static void cold(int argc, char **argv)
{
	char helper[PATH_MAX + 32];
	char *fixed[] = { helper, "launch", java, interpret_only() ? "-Xint" : "", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC",
			  "-XX:-UsePerfData", "-Xlog:disable", "-Xlog:all=error:stderr", (char *)verb_cache(),
			  "--enable-native-access=ALL-UNNAMED", home_prop, "-cp", jar, "brig.cli.Main" };
	size_t n = sizeof fixed / sizeof *fixed;
	char **av = calloc(n + (size_t)argc, sizeof *av);
	size_t k = 0;
	snprintf(helper, sizeof helper, "%s/libexec/brig-helper", home);
	for (size_t j = 0; j < n && av; j++)
		if (fixed[j][0])
			av[k++] = fixed[j];
	for (int j = 1; j < argc && av; j++)
		av[k++] = argv[j];
	if (av)
		execve(helper, av, environ);
	dprintf(2, "brig: cannot run %s: %s\n", helper, strerror(errno));
	exit(125);
}

static int write_all(int fd, const void *buf, size_t n)
{
	for (size_t off = 0; off < n;) {
		ssize_t w = write(fd, (const char *)buf + off, n - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		off += (size_t)w;
	}
	return 0;
}

static int read_all(int fd, void *buf, size_t n)
{
	for (size_t off = 0; off < n;) {
		ssize_t r = read(fd, (char *)buf + off, n - off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		off += (size_t)r;
	}
	return 0;
}

static int send_frame(int s, uint32_t type, const void *data, uint32_t len)
{
	uint32_t hdr[2] = { type, len };
	return write_all(s, hdr, sizeof hdr) < 0 || write_all(s, data, len) < 0 ? -1 : 0;
}

/* The next frame; its payload (NUL-terminated) in *data, to free. -1 at the end of the stream. */
static int get_frame(int s, uint32_t *type, char **data, uint32_t *len)
{
	uint32_t hdr[2];
	if (read_all(s, hdr, sizeof hdr) < 0 || hdr[1] > (4u << 20) || !(*data = malloc(hdr[1] + 1)))
		return -1;
	if (read_all(s, *data, hdr[1]) < 0) {
		free(*data);
		return -1;
	}
	(*data)[hdr[1]] = 0;
	*type = hdr[0];
	*len = hdr[1];
	return 0;
}

static void sock_name(struct sockaddr_un *a)
{
	memset(a, 0, sizeof *a);
	a->sun_family = AF_UNIX;
	snprintf(a->sun_path, sizeof a->sun_path, "/proc/self/fd/%d/%s", dfd, sockname);
}

/* The server's directory, by euid (never from the environment: `su` keeps XDG_RUNTIME_DIR):
 * a real directory (no symlink) of this uid that no one else may enter. */
static int open_dir(int make)
{
	struct stat st;
	uid_t u = geteuid();
	if (u == 0)
		strcpy(sdir, "/run/brig/.server");
	else
		snprintf(sdir, sizeof sdir, "/run/user/%u/brig", (unsigned)u);
	if (make) {
		if (u == 0)
			mkdir("/run/brig", 0711); /* as brig.runtime.StateStore makes it */
		mkdir(sdir, 0700);
	}
	dfd = open(sdir, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0 || fstat(dfd, &st) < 0 || st.st_uid != u || (st.st_mode & 077)) {
		if (dfd >= 0)
			close(dfd);
		dfd = -1;
		return -1;
	}
	return 0;
}

/* A connection to a server of this build, after the handshake; NONE or REFUSED. */
static int try_connect(void)
{
	struct stat st;
	struct sockaddr_un a;
	struct ucred cr;
	socklen_t crlen = sizeof cr;
	/* A server that hangs before acknowledging: go cold. BRIG_TEST_PATIENCE (seconds) is for
	 * tests only: a shorter wait is never unsafe (no ACK, nothing done). */
	const char *t = getenv("BRIG_TEST_PATIENCE");
	struct timeval patience = { t && atoi(t) > 0 ? atoi(t) : 30, 0 };
	if (fstatat(dfd, sockname, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return NONE;
	if (!S_ISSOCK(st.st_mode) || st.st_uid != geteuid())
		return REFUSED;
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	sock_name(&a);
	if (s < 0 || connect(s, (struct sockaddr *)&a, sizeof a) < 0) {
		if (s >= 0)
			close(s);
		return NONE;
	}
	/* SO_PASSCRED before the first frame: the supervisor a served run execs checks who sent
	 * each one (brig-helper launch --server). */
	int one = 1;
	if (getsockopt(s, SOL_SOCKET, SO_PEERCRED, &cr, &crlen) < 0 || cr.uid != geteuid() ||
	    setsockopt(s, SOL_SOCKET, SO_PASSCRED, &one, sizeof one) < 0) {
		close(s);
		return REFUSED;
	}
	setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &patience, sizeof patience);
	uint32_t type = 0, len;
	char *p = NULL;
	if (send_frame(s, HELLO, build, (uint32_t)strlen(build)) < 0 || get_frame(s, &type, &p, &len) < 0 ||
	    type != READY) {
		/* STALE: a server of another build, which now steps aside; or one that died. */
		free(p);
		close(s);
		return NONE;
	}
	free(p);
	return s;
}

/* Starts a server, under the lock beside its socket, unless another caller just did; then
 * connects to it. The server gets the listening socket as fd 3, so this call is queued on it
 * at once and answered as soon as its JVM is up. */
static int start_server(void)
{
	int lock = openat(dfd, lockname, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (lock < 0 || flock(lock, LOCK_EX) < 0)
		return NONE;
	int s = try_connect();
	if (s != NONE) {
		close(lock);
		return s;
	}
	struct sockaddr_un a;
	sock_name(&a);
	unlinkat(dfd, sockname, 0);
	int l = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int log = openat(dfd, logname, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0600);
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (l < 0 || log < 0 || null < 0 || bind(l, (struct sockaddr *)&a, sizeof a) < 0 || listen(l, 128) < 0) {
		close(l);
		close(log);
		close(null);
		close(lock);
		return NONE;
	}
	pid_t pid = fork();
	if (pid == 0) {
		/* A session of its own, and not our child: it outlives this call. */
		sigset_t none;
		sigemptyset(&none);
		setsid();
		if (fork() != 0)
			_exit(0);
		/* The cold path's flags, so the AOT cache serves it too (first call ~0.14 s, not
		 * ~0.4 s); C1 alone answers these calls as fast as C2 did (1.7 ms for `list`) in
		 * less memory; the heap bounded: 67 MB resident after 200 calls, 81 MB without.
		 * A run's planning code runs once a call: at the default thresholds it was still
		 * partly interpreted after 200 runs (request to plan 2.1 ms); compiled 10x sooner,
		 * 1.6-1.8 ms from the 80th run on, +1 MB resident. Full tiered C2 was slower here
		 * (3.1 ms after 500 runs, its profiling tier) and 97 MB resident. */
		char *av[] = { java, "-XX:TieredStopAtLevel=1", "-XX:CompileThresholdScaling=0.1", "-XX:+UseSerialGC", "-Xmx64m", "-XX:-UsePerfData",
			       "-XX:+DisableAttachMechanism", "-Xlog:disable", "-Xlog:all=error:stderr",
			       "--enable-native-access=ALL-UNNAMED", home_prop, "-cp", jar, "brig.server.Server", "3",
			       getenv("BRIG_TEST_IDLE"), NULL, NULL }; /* idle seconds: for tests only */
		if (aot[0]) { /* before the class path, where the JVM's options are */
			memmove(av + 10, av + 9, 7 * sizeof *av);
			av[9] = aot;
		}
		char *env[] = { NULL };
		if (dup2(null, 0) < 0 || dup2(log, 1) < 0 || dup2(log, 2) < 0 ||
		    (l == 3 ? fcntl(3, F_SETFD, 0) : dup2(l, 3)) < 0 ||
		    syscall(SYS_close_range, 4, ~0u, 0) < 0 || chdir("/") < 0)
			_exit(127);
		umask(022);
		sigprocmask(SIG_SETMASK, &none, NULL);
		execve(java, av, env);
		_exit(127);
	}
	if (pid > 0)
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
	close(l);
	close(log);
	close(null);
	s = pid > 0 ? try_connect() : NONE;
	close(lock);
	return s;
}

/* BRIG_FDS: the fds from 3 up the caller really passed ("3,4"), noted before this process opens
 * anything: only these may reach a container (--preserve-fds, LISTEN_FDS). The supervisor
 * notes them again on the cold path; served, the server reads them from the request. */
static void note_inherited_fds(void)
{
	char list[4096] = "";
	size_t used = 0;
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	while (d && (e = readdir(d))) {
		int fd = atoi(e->d_name);
		if (e->d_name[0] < '0' || e->d_name[0] > '9' || fd < 3 || fd == dirfd(d) || used + 16 > sizeof list)
			continue;
		used += (size_t)sprintf(list + used, "%s%d", used ? "," : "", fd);
	}
	if (d)
		closedir(d);
	setenv("BRIG_FDS", list, 1);
}

/* The request: umask, argv, environment, and the working directory as an O_PATH fd. */
static int send_request(int s, int argc, char **argv)
{
	uint32_t envc = 0;
	size_t size = 12;
	for (int k = 1; k < argc; k++)
		size += strlen(argv[k]) + 1;
	for (char **e = environ; *e; e++, envc++)
		size += strlen(*e) + 1;
	if (size > (4u << 20) - 8)
		return -1;
	char *buf = malloc(8 + size), *p = buf + 20;
	int cwd = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (!buf || cwd < 0) {
		free(buf);
		return -1;
	}
	mode_t mask = umask(0);
	umask(mask);
	uint32_t head[5] = { REQUEST, (uint32_t)size, mask, (uint32_t)argc - 1, envc };
	memcpy(buf, head, sizeof head);
	for (int k = 1; k < argc; k++)
		p = stpcpy(p, argv[k]) + 1;
	for (char **e = environ; *e; e++)
		p = stpcpy(p, *e) + 1;
	char cbuf[CMSG_SPACE(sizeof(int))] = { 0 };
	struct iovec iov = { buf, 8 + size };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf };
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &cwd, sizeof cwd);
	ssize_t n;
	while ((n = sendmsg(s, &m, MSG_NOSIGNAL)) < 0 && errno == EINTR)
		;
	int ok = n > 0 && write_all(s, buf + n, 8 + size - (size_t)n) == 0;
	close(cwd);
	free(buf);
	return ok ? 0 : -1;
}

/* Relays the answer after the acknowledgement; returns the command's exit status. */
static int relay(int s, int sfd, int forward)
{
	struct timeval forever = { 0, 0 };
	setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &forever, sizeof forever);
	for (;;) {
		struct pollfd p[2] = { { s, POLLIN, 0 }, { sfd, POLLIN, 0 } };
		if (poll(p, 2, -1) < 0)
			continue;
		if (p[1].revents & POLLIN) {
			struct signalfd_siginfo si;
			int sig = read(sfd, &si, sizeof si) == sizeof si ? (int)si.ssi_signo : 0;
			/* A command that runs until stopped (events) ends with the caller's signal, as
			 * its JVM would; our going away tells the server. Quick ones finish first. */
			if (forward && (sig == SIGINT || sig == SIGTERM || sig == SIGHUP))
				return 128 + sig;
		}
		if (!p[0].revents)
			continue;
		uint32_t type, len;
		char *d;
		if (get_frame(s, &type, &d, &len) < 0) {
			dprintf(2, "brig: the brig server ended the call before it finished (it may have done part of it); "
				   "see `brig server status` and %s/%s\n",
				sdir, logname);
			return 125;
		}
		if (type == OUT || type == ERR) {
			write_all(type == OUT ? 1 : 2, d, len); /* a closed stdout is the caller's business */
		} else if (type == IN_WANT && len == 4) {
			uint32_t want;
			memcpy(&want, d, 4);
			char *in = malloc(want ? want : 1);
			ssize_t n;
			while (in && (n = read(0, in, want)) < 0 && errno == EINTR)
				;
			if (!in || n < 0)
				n = 0;
			send_frame(s, IN, in, (uint32_t)n);
			free(in);
		} else if (type == EXIT && len == 4) {
			int status;
			memcpy(&status, d, 4);
			return status;
		}
		free(d);
	}
}

int main(int argc, char **argv)
{
	/* Set-user-ID or with file capabilities: the caller is not who it runs as. */
	if (getauxval(AT_SECURE)) {
		dprintf(2, "brig: refusing to run set-user-ID or with file capabilities\n");
		return 125;
	}
	/* Closed stdio becomes /dev/null, as the supervisor does (the server's frames must not
	 * land in a socket or file opened here). */
	for (int fd = 0; fd < 3; fd++)
		if (fcntl(fd, F_GETFD) < 0 && open("/dev/null", O_RDWR) != fd)
			return 125;
	ssize_t n = readlink("/proc/self/exe", home, sizeof home - 1);
	char *slash;
	for (int k = 0; k < 2 && n > 0; k++) {
		home[n] = 0;
		slash = strrchr(home, '/');
		n = slash ? slash - home : -1;
	}
	if (n <= 0) {
		dprintf(2, "brig: cannot find brig's home from /proc/self/exe: %s\n", strerror(errno));
		return 125;
	}
	home[n] = 0;
	name_files();
	snprintf(java, sizeof java, "%s/runtime/bin/java", home);
	snprintf(home_prop, sizeof home_prop, "-Dbrig.home=%s", home);
	snprintf(jar, sizeof jar, "%s/lib/brig.jar", home);
	snprintf(aot, sizeof aot, "%s/lib/brig.aot", home);
	if (access(aot, R_OK) == 0)
		snprintf(aot, sizeof aot, "-XX:AOTCache=%s/lib/brig.aot", home);
	else
		aot[0] = 0;

	note_inherited_fds();
	/* Signals wait from here on, as under the supervisor (which takes over any pending). */
	sigset_t all;
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, NULL);

	/* The verb, after runc's global flags (those that take a value skip it): whether a server
	 * may be started for this call (not to ask about or stop one), and --no-server. */
	const char *off = getenv("BRIG_SERVER");
	for (int k = 1; k < argc; k++) {
		const char *a = argv[k];
		if (!strcmp(a, "--no-server") || !strcmp(a, "-no-server"))
			off = "off";
		if (a[0] != '-' || !strcmp(a, "--") || !strcmp(a, "-")) {
			verb = a;
			break;
		}
		a += a[1] == '-' ? 2 : 1;
		if (!strchr(a, '=') && (!strcmp(a, "root") || !strcmp(a, "log") || !strcmp(a, "log-format") ||
					!strcmp(a, "rootless") || !strcmp(a, "criu")))
			k++;
	}
	if (off && !strcmp(off, "off")) {
		/* The supervisor's clean-up runs bin/brig again: it must not start a server either. */
		setenv("BRIG_SERVER", "off", 1);
		cold(argc, argv);
	}
	int fd = open(home, O_RDONLY | O_CLOEXEC), len = -1;
	if (fd >= 0) {
		int b = openat(fd, "lib/brig.build", O_RDONLY | O_CLOEXEC);
		len = b < 0 ? -1 : (int)read(b, build, sizeof build - 1);
		if (b >= 0)
			close(b);
		close(fd);
	}
	if (len <= 0)
		cold(argc, argv); /* no build id: a build without the server */
	build[len] = 0;
	build[strcspn(build, "\n")] = 0;

	int may_start = strcmp(verb, "server") != 0;
	if (open_dir(may_start) < 0)
		cold(argc, argv);
	int s = try_connect();
	if (s == NONE && may_start)
		s = start_server();
	if (s < 0 || send_request(s, argc, argv) < 0) {
		if (s >= 0)
			close(s);
		close(dfd);
		cold(argc, argv);
	}
	uint32_t type, flen;
	char *d = NULL;
	if (get_frame(s, &type, &d, &flen) < 0 || type != ACK) {
		/* COLD (it did nothing), or no answer at all: nothing was done, run it here. */
		free(d);
		close(s);
		close(dfd);
		cold(argc, argv);
	}
	int forward = flen >= 1 && d[0] == 1, supervise = flen >= 1 && d[0] == 2;
	free(d);
	if (supervise) {
		/* run, create, exec: the server plans, the supervisor on this connection carries out. */
		char helper[PATH_MAX + 32], fdstr[16];
		struct timeval forever = { 0, 0 };
		snprintf(helper, sizeof helper, "%s/libexec/brig-helper", home);
		snprintf(fdstr, sizeof fdstr, "%d", s);
		/* The caller's arguments after "--" only for ps: whose call this process supervises. */
		char **av = calloc((size_t)argc + 5, sizeof *av);
		if (!av)
			return 125;
		av[0] = helper;
		av[1] = "launch";
		av[2] = "--server";
		av[3] = fdstr;
		av[4] = "--";
		for (int k = 1; k < argc; k++)
			av[4 + k] = argv[k];
		close(dfd);
		if (setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &forever, sizeof forever) == 0 && fcntl(s, F_SETFD, 0) == 0)
			execve(helper, av, environ);
		dprintf(2, "brig: cannot run %s: %s (the call was acknowledged: not run again)\n", helper, strerror(errno));
		return 125;
	}
	int sfd = signalfd(-1, &all, SFD_CLOEXEC);
	return relay(s, sfd, forward);
}
