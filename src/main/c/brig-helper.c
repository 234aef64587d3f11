/*
 * brig-helper: the small single-threaded process that does, for Brig's Java side, what a JVM
 * cannot do itself (a JVM has many threads: it cannot unshare a user namespace, join a mount
 * namespace, or fork safely). It decides nothing: Java sends a plan, a list of steps, and this
 * program executes them in order, reporting the first failure precisely (step, syscall, path,
 * errno). The step codes and their arguments are documented in brig.helper.Op.
 *
 *   brig-helper init FD N [KEEP] run the plan read from control socket FD; fds from N up
 *                            other than FD are closed first, and those from 3 below N not
 *                            in the list KEEP (e.g. "3,4") if it is given
 *   brig-helper launch JAVA ARGS...  start brig's JVM, relay signals to it or to the
 *                            container it started, and return that one's exit status
 *   brig-helper launch --server FD [-- ARGS]  the same for a call the resident server plans
 *                            (bin/brig execs it on the call's connection FD, ARGS its own
 *                            for ps): start the helper when the server asks, write the
 *                            server's output frames
 *   brig-helper monitor --log F --exit F [--cgroup DIR]... PROGRAM ARGS...  the same
 *                            supervisor for a detached container: see monitor()
 *
 * Mechanism that must happen at the moment of the syscall also lives here: every path inside
 * the container is resolved at the moment it is used, with openat2(RESOLVE_IN_ROOT), because
 * earlier mounts change the tree and the container's own files may be hostile symlinks.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <linux/sched.h>
#include <linux/keyctl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <net/if.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>
#include <grp.h>
#include <spawn.h>
#include <dirent.h>

/* Step codes: keep in sync with brig.helper.Op (a unit test compares them). */
enum op {
	OP_SETNS = 1, OP_CLONE = 2, OP_AWAIT = 3, OP_UNSHARE = 4, OP_ROOT = 5,
	OP_MKDIRS = 6, OP_MKFILE = 7, OP_MOUNT = 8, OP_MKNOD = 9, OP_SYMLINK = 10,
	OP_PIVOT_ROOT = 11, OP_MOVE_ROOT = 12, OP_MASK = 13, OP_SETHOSTNAME = 14,
	OP_SETDOMAINNAME = 15, OP_SYSCTL = 16, OP_RLIMIT = 17, OP_PRCTL = 18, OP_UMASK = 19,
	OP_CHDIR = 20, OP_CAPBSET = 21, OP_SETGROUPS = 22, OP_SETRESGID = 23, OP_SETRESUID = 24,
	OP_CAPSET = 25, OP_PTY = 26, OP_PTY_ATTACH = 27, OP_OPEN_FIFO = 28, OP_WAIT_START = 29,
	OP_CLOSE_FDS = 30, OP_FIND_EXEC = 31, OP_EXEC = 32, OP_READY = 33, OP_HOME = 34,
	OP_OPEN_CGROUP = 35, OP_OPEN_TASKS = 36, OP_JOIN_TASKS = 37,
	OP_KEYRING = 40,
	/* brig exec: join a running container's namespaces, then fork into its pid namespace */
	OP_JOIN_NS = 42, OP_FORK = 43,
	OP_HOOK = 50,
	OP_SECCOMP = 48,
	OP_OVERLAY = 56, OP_LOOPBACK_UP = 57, OP_STDIN = 58,
	OP_CHROOT = 51,
};

#define PROC_SUPER_MAGIC 0x9fa0
#define PROC_ROOT_INO 1
#ifndef SYS_fchmodat2
#define SYS_fchmodat2 452 /* Linux 6.6; glibc 2.36 does not name it */
#endif

/* Step flags (brig.helper.Step.Flag). */
#define F_SRC_HOST    0x01 /* s0 is a host path, used as it is */
#define F_SRC_ROOT    0x02 /* s0 is a path inside the root: resolve it there */
#define F_TGT_HOST    0x04 /* s1 is a host path (used before the root exists) */
#define F_OPTIONAL    0x08 /* a missing path is not an error: skip the step */
#define F_KEEP_LOCKED 0x10 /* remount: keep the mount's current nosuid/nodev/noexec/atime flags */
#define F_DEFER       0x20 /* chdir: EACCES now is not an error (retried after setuid) */
#define F_IF_DEFERRED 0x40 /* chdir: only if the earlier chdir was deferred */
#define F_ON_PROC     0x80 /* mount: the target may be on procfs (the config put it there) */
#define F_NO_SYMLINKS 0x100 /* mount: the target's path may not contain a symlink */
#define F_CGROUP_AFTER_FORK 0x200 /* join_ns: the cgroup namespace is OP_FORK's child's to join */

/* Frames on the control socket: u32 type, u32 length, payload. */
enum frame { FR_PLAN = 1, FR_PID = 2, FR_GO = 3, FR_ERROR = 4, FR_PTY = 5, FR_READY = 6,
	FR_LISTENER = 10 /* a seccomp notify listener (OP_SECCOMP) */ };

struct step {
	uint32_t op, flags, nint, nstr;
	int64_t *i;
	char **s;
};

static int sock = -1;          /* control socket to Java */
static int cur = -1;           /* index of the step being executed, for error reports */
static int rootfd = AT_FDCWD;  /* directory that paths inside the container are resolved under */
static int procfd = -1;        /* the host's procfs, opened before any mount of the container */
static int ptyslave = -1, fifofd = -1, chdir_deferred;
static int cgroupfd = -1;      /* OP_OPEN_CGROUP: the cgroup2 directory OP_CLONE creates the process in */
static int cgroupnsfd = -1;    /* OP_JOIN_NS with F_CGROUP_AFTER_FORK: joined by OP_FORK's child */
static struct step *tasks;     /* OP_OPEN_TASKS: its directories, whose tasks files are... */
static int *taskfds;           /* ...open here for OP_JOIN_TASKS */
static const char *exec_path;
static char *home_env;         /* "HOME=..." found by OP_HOME, added to the exec environment */
static char *states;           /* the go-ahead's payload: the states hooks get (OP_HOOK) */
static uint32_t states_len;
static int reportfd = -1;      /* create: the fifo `start` reads failures from (OP_OPEN_FIFO) */

/* One frame (u32 type, u32 length, data) on socket s, with fd alongside (SCM_RIGHTS) if >= 0. */
static ssize_t send_frame(int s, uint32_t type, const void *data, uint32_t len, int fd)
{
	uint32_t hdr[2] = { type, len };
	struct iovec iov[2] = { { hdr, sizeof hdr }, { (void *)data, len } };
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct msghdr m = { .msg_iov = iov, .msg_iovlen = len ? 2 : 1 };
	if (fd >= 0) {
		memset(cbuf, 0, sizeof cbuf);
		m.msg_control = cbuf;
		m.msg_controllen = sizeof cbuf;
		struct cmsghdr *c = CMSG_FIRSTHDR(&m);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
	}
	ssize_t r;
	while ((r = sendmsg(s, &m, MSG_NOSIGNAL)) < 0 && errno == EINTR)
		;
	return r;
}

static void put_frame(uint32_t type, const void *data, uint32_t len, int fd)
{
	if (send_frame(sock, type, data, len, fd) < 0 && errno == ENOTSOCK) { /* the report fifo `start` reads (OP_WAIT_START) */
		uint32_t hdr[2] = { type, len };
		struct iovec iov[2] = { { hdr, sizeof hdr }, { (void *)data, len } };
		(void)!writev(sock, iov, len ? 2 : 1);
	}
}

/* Report the failing step to Java and stop. Java turns this into one clear line. */
static void __attribute__((noreturn)) fail(const char *syscall_name, const char *path, int err)
{
	char buf[8192];
	int32_t head[2] = { cur, err };
	size_t a = strlen(syscall_name) + 1, b = strlen(path ? path : "") + 1;
	if (a + b > sizeof buf - sizeof head)
		b = sizeof buf - sizeof head - a;
	memcpy(buf, head, sizeof head);
	memcpy(buf + sizeof head, syscall_name, a);
	memcpy(buf + sizeof head + a, path ? path : "", b);
	buf[sizeof head + a + b - 1] = 0;
	put_frame(FR_ERROR, buf, sizeof head + a + b, -1);
	_exit(1);
}

static int read_full(int fd, void *buf, size_t n)
{
	char *p = buf;
	while (n > 0) {
		ssize_t r = read(fd, p, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

/* Read one frame; returns its payload (malloc'd) and sets *type and *len. */
static char *get_frame(uint32_t *type, uint32_t *len)
{
	uint32_t hdr[2];
	if (read_full(sock, hdr, sizeof hdr) < 0)
		_exit(1); /* Java went away: nothing to report to */
	if (hdr[1] > (64u << 20))
		fail("read", "control frame too large", EMSGSIZE);
	char *p = malloc(hdr[1] + 1);
	if (!p || read_full(sock, p, hdr[1]) < 0)
		fail("read", "control socket", p ? EPIPE : ENOMEM);
	*type = hdr[0];
	*len = hdr[1];
	return p;
}

/* Decode the plan: u32 count, then per step u32 op, flags, nint, nstr, nint * i64,
 * nstr * (u32 length, bytes, NUL). Strings point into the buffer. */
static struct step *parse_plan(char *p, uint32_t len, uint32_t *count)
{
	char *end = p + len;
#define TAKE(dst, n) do { if ((size_t)(end - p) < (n)) fail("plan", "truncated plan", EPROTO); \
                          memcpy(dst, p, n); p += n; } while (0)
	TAKE(count, 4);
	struct step *steps = calloc(*count ? *count : 1, sizeof *steps);
	if (!steps)
		fail("plan", "calloc", ENOMEM);
	for (uint32_t k = 0; k < *count; k++) {
		struct step *s = &steps[k];
		TAKE(&s->op, 4);
		TAKE(&s->flags, 4);
		TAKE(&s->nint, 4);
		TAKE(&s->nstr, 4);
		s->i = calloc(s->nint + 1, sizeof *s->i);
		s->s = calloc(s->nstr + 1, sizeof *s->s);
		if (!s->i || !s->s)
			fail("plan", "calloc", ENOMEM);
		for (uint32_t j = 0; j < s->nint; j++)
			TAKE(&s->i[j], 8);
		for (uint32_t j = 0; j < s->nstr; j++) {
			uint32_t n;
			TAKE(&n, 4);
			if ((size_t)(end - p) < (size_t)n + 1 || p[n] != 0)
				fail("plan", "bad string", EPROTO);
			s->s[j] = p;
			p += n + 1;
		}
	}
#undef TAKE
	return steps;
}

/* Open a path inside the container's root as the container would see it: symlinks are
 * followed but never out of the root, and magic links (/proc/self/...) are refused. */
static int in_root_how(const char *path, int oflags, uint64_t resolve)
{
	struct open_how how = { .flags = (uint64_t)oflags | O_CLOEXEC,
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | resolve };
	while (*path == '/')
		path++;
	if (!*path)
		path = ".";
	long fd;
	do
		fd = syscall(SYS_openat2, rootfd, path, &how, sizeof how);
	while (fd < 0 && errno == EAGAIN);
	return (int)fd;
}

static int in_root(const char *path, int oflags)
{
	return in_root_how(path, oflags, 0);
}

/* Split "a/b/c" into the parent fd (resolved in the root) and the last name. */
static int parent_in_root(const char *path, char *name, size_t size)
{
	char dir[4096];
	const char *slash = strrchr(path, '/');
	snprintf(dir, sizeof dir, "%.*s", slash ? (int)(slash - path) : 0, path);
	snprintf(name, size, "%s", slash ? slash + 1 : path);
	return in_root(dir, O_PATH | O_DIRECTORY);
}

/* "sub" exists as "name" in "parent" but did not resolve: a dangling symlink, which a
 * hostile image may point anywhere ("/tmp/x", "../../tmp/x"). Sets "out" to what it points
 * to, followed by "rest", to be created instead; openat2 resolves that inside the root too.
 * Returns 0 if "name" is not a symlink (something else made it meanwhile). */
static int relink(int parent, const char *name, const char *sub, const char *rest, char *out,
		  size_t size, int depth)
{
	char target[4096];
	ssize_t len = readlinkat(parent, name, target, sizeof target - 1);
	if (len < 0) {
		if (errno == EINVAL)
			return 0;
		fail("readlinkat", sub, errno);
	}
	target[len] = 0;
	if (depth >= 40)
		fail("openat2", sub, ELOOP);
	const char *slash = strrchr(sub, '/');
	int dir = target[0] == '/' || !slash ? 0 : (int)(slash - sub);
	if (snprintf(out, size, "%.*s/%s%s", dir, sub, target, rest) >= (int)size)
		fail("readlinkat", sub, ENAMETOOLONG);
	return 1;
}

static void mkdirs_from(const char *path, mode_t mode, int depth)
{
	char sub[4096], name[256], next[4096];
	size_t n = strlen(path);
	if (n >= sizeof sub)
		fail("mkdir", path, ENAMETOOLONG);
	for (size_t k = 1; k <= n; k++) {
		if (k < n && path[k] != '/')
			continue;
		memcpy(sub, path, k);
		sub[k] = 0;
		int fd = in_root(sub, O_PATH | O_DIRECTORY);
		if (fd >= 0) {
			close(fd);
			continue;
		}
		if (errno != ENOENT)
			fail("openat2", sub, errno);
		int parent = parent_in_root(sub, name, sizeof name);
		if (parent < 0)
			fail("openat2", sub, errno);
		if (mkdirat(parent, name, mode) < 0) {
			if (errno != EEXIST)
				fail("mkdirat", sub, errno);
			if (relink(parent, name, sub, path + k, next, sizeof next, depth)) {
				close(parent);
				mkdirs_from(next, mode, depth + 1);
				return;
			}
		}
		close(parent);
	}
}

static void mkdirs(const char *path, mode_t mode)
{
	mkdirs_from(path, mode, 0);
}

static void mkfile_from(const char *path, mode_t mode, int depth)
{
	char name[256], next[4096];
	int fd = in_root(path, O_PATH);
	if (fd >= 0) {
		close(fd);
		return;
	}
	if (errno != ENOENT)
		fail("openat2", path, errno);
	int parent = parent_in_root(path, name, sizeof name);
	if (parent < 0)
		fail("openat2", path, errno);
	fd = openat(parent, name, O_CREAT | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, mode);
	if (fd < 0 && errno == ELOOP && relink(parent, name, path, "", next, sizeof next, depth)) {
		close(parent);
		*strrchr(next, '/') = 0;
		mkdirs_from(next, 0755, depth + 1);
		next[strlen(next)] = '/';
		mkfile_from(next, mode, depth + 1);
		return;
	}
	if (fd < 0)
		fail("openat", path, errno);
	close(fd);
	close(parent);
}

static void mkfile(const char *path, mode_t mode)
{
	mkfile_from(path, mode, 0);
}

/* "self/fd/N" under the procfs opened at start, for calls that take a path rather than an fd
 * (mount(2)); the working directory moves there, and OP_CHDIR sets the container's later.
 * Never the container's /proc: the rootfs or a config mount over /proc/self/... could steer
 * the call elsewhere (CVE-2025-52881). */
static const char *fd_path(int fd, char *buf, size_t size)
{
	if (fchdir(procfd) < 0)
		fail("fchdir", "/proc", errno);
	snprintf(buf, size, "self/fd/%d", fd);
	return buf;
}

/* The host's /proc, opened before the plan runs: no mount of the container can cover it or
 * anything under it. It must be the root of a procfs, not a bind of some part of one. */
static void open_proc(void)
{
	struct statfs sf;
	struct stat st;
	procfd = open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (procfd < 0)
		fail("open", "/proc", errno);
	if (fstatfs(procfd, &sf) < 0 || sf.f_type != PROC_SUPER_MAGIC || fstat(procfd, &st) < 0 ||
	    st.st_ino != PROC_ROOT_INO)
		fail("procfs", "/proc", EXDEV);
}

/* A path mount(2) can take: a host path as given (it is Brig's own, e.g. the rootfs), or a
 * path in the container resolved now to an fd and named by fd_path. Returns that fd
 * (-1 for a host path) to close afterwards; sets *skip for a missing optional path. */
static int mount_path(const char *path, int host, char *buf, size_t size, const char **out,
		      int optional, int *skip, uint64_t resolve)
{
	if (host) {
		*out = path;
		return -1;
	}
	int fd = in_root_how(path, O_PATH, resolve);
	if (fd < 0) {
		if (optional && errno == ENOENT) {
			*skip = 1;
			return -1;
		}
		fail("openat2", path, errno);
	}
	*out = fd_path(fd, buf, size);
	return fd;
}

static unsigned long locked_flags(const char *target)
{
	struct statvfs st;
	unsigned long f = 0;
	if (statvfs(target, &st) < 0)
		fail("statvfs", target, errno);
	if (st.f_flag & ST_NOSUID) f |= MS_NOSUID;
	if (st.f_flag & ST_NODEV) f |= MS_NODEV;
	if (st.f_flag & ST_NOEXEC) f |= MS_NOEXEC;
	if (st.f_flag & ST_NOATIME) f |= MS_NOATIME;
	if (st.f_flag & ST_NODIRATIME) f |= MS_NODIRATIME;
	if (st.f_flag & ST_RELATIME) f |= MS_RELATIME;
	return f;
}

#define ATTR_FLAGS (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME | MS_NODIRATIME | \
		    MS_RELATIME | MS_STRICTATIME | MS_NOSYMFOLLOW)

/* A bind mount with flags (ro, nosuid, ...) gets them before it is attached, in one step with
 * the target resolved once: a bind and then a remount would resolve the target twice, and a
 * symlink swapped in between (CVE-2021-30465) could leave the bind writable and make another
 * mount read-only. Flags are only added, as a remount would not clear a locked one either. */
static void bind_with_flags(struct step *s, int sfd, const char *source, int tfd,
			    const char *target, unsigned long flags)
{
	unsigned rec = flags & MS_REC ? AT_RECURSIVE : 0;
	struct mount_attr attr = { 0 };
	int tree = sfd >= 0 ? open_tree(sfd, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH | rec)
			    : open_tree(AT_FDCWD, source, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | rec);
	if (tree < 0)
		fail("open_tree", s->s[0], errno);
	if (flags & MS_RDONLY) attr.attr_set |= MOUNT_ATTR_RDONLY;
	if (flags & MS_NOSUID) attr.attr_set |= MOUNT_ATTR_NOSUID;
	if (flags & MS_NODEV) attr.attr_set |= MOUNT_ATTR_NODEV;
	if (flags & MS_NOEXEC) attr.attr_set |= MOUNT_ATTR_NOEXEC;
	if (flags & MS_NODIRATIME) attr.attr_set |= MOUNT_ATTR_NODIRATIME;
	if (flags & MS_NOSYMFOLLOW) attr.attr_set |= MOUNT_ATTR_NOSYMFOLLOW;
	if (flags & (MS_NOATIME | MS_RELATIME | MS_STRICTATIME)) {
		attr.attr_clr |= MOUNT_ATTR__ATIME;
		attr.attr_set |= flags & MS_NOATIME ? MOUNT_ATTR_NOATIME
			       : flags & MS_STRICTATIME ? MOUNT_ATTR_STRICTATIME : MOUNT_ATTR_RELATIME;
	}
	if (mount_setattr(tree, "", AT_EMPTY_PATH | rec, &attr, sizeof attr) < 0)
		fail("mount_setattr", s->s[1], errno);
	if ((tfd >= 0 ? move_mount(tree, "", tfd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH)
		      : move_mount(tree, "", AT_FDCWD, target, MOVE_MOUNT_F_EMPTY_PATH)) < 0)
		fail("move_mount", s->s[1], errno);
	close(tree);
}

/* OP_MOUNT: s0 source, s1 target, s2 fstype, s3 data, i0 mount flags. */
static void do_mount(struct step *s)
{
	char sbuf[64], tbuf[64];
	const char *source = s->s[0], *target;
	int skip = 0, sfd = -1, tfd;
	tfd = mount_path(s->s[1], s->flags & F_TGT_HOST, tbuf, sizeof tbuf, &target,
			 s->flags & F_OPTIONAL, &skip, s->flags & F_NO_SYMLINKS ? RESOLVE_NO_SYMLINKS : 0);
	if (skip)
		return;
	if ((s->flags & F_SRC_ROOT) && tfd >= 0 && !strcmp(s->s[0], s->s[1])) {
		/* A path bound onto itself (read-only paths): resolved once, so both are one. */
		sfd = dup(tfd);
		if (sfd < 0)
			fail("dup", s->s[0], errno);
		source = fd_path(sfd, sbuf, sizeof sbuf);
	} else if (s->flags & (F_SRC_HOST | F_SRC_ROOT)) {
		sfd = mount_path(s->s[0], s->flags & F_SRC_HOST, sbuf, sizeof sbuf, &source,
				 s->flags & F_OPTIONAL, &skip, 0);
		if (skip) {
			if (tfd >= 0)
				close(tfd);
			return;
		}
	}
	/* A rootfs symlink must not lead a mount onto the container's /proc. */
	struct statfs sf;
	if (tfd >= 0 && !(s->flags & F_ON_PROC) && fstatfs(tfd, &sf) == 0 && sf.f_type == PROC_SUPER_MAGIC)
		fail("procfs", s->s[1], EPERM);
	unsigned long flags = (unsigned long)s->i[0];
	if (s->flags & F_KEEP_LOCKED)
		flags |= locked_flags(target);
	if ((flags & MS_BIND) && !(flags & MS_REMOUNT) && (flags & ATTR_FLAGS))
		bind_with_flags(s, sfd, source, tfd, target, flags);
	else if (mount(*source ? source : NULL, target, *s->s[2] ? s->s[2] : NULL, flags,
		       *s->s[3] ? s->s[3] : NULL) < 0)
		fail("mount", s->s[1], errno);
	if (tfd >= 0)
		close(tfd);
	if (sfd >= 0)
		close(sfd);
}

/* OP_OVERLAY: s0 target (a host path), s1 upper, s2 work, s3 mount(2) options where the
 * kernel lacks lowerdir+ ("" otherwise), then i0 lower directories, top first. upper and
 * work are made if missing: on a tmpfs mounted just before, they are not there yet. */
static void do_overlay(struct step *s)
{
	if (s->nstr < 4 + s->i[0])
		fail("plan", "bad overlay step", EPROTO);
	if (mkdir(s->s[1], 0755) < 0 && errno != EEXIST)
		fail("mkdir", s->s[1], errno);
	if (mkdir(s->s[2], 0700) < 0 && errno != EEXIST)
		fail("mkdir", s->s[2], errno);
	if (*s->s[3]) {
		if (mount("overlay", s->s[0], "overlay", 0, s->s[3]) < 0)
			fail("mount", s->s[0], errno);
		return;
	}
	int fs = fsopen("overlay", FSOPEN_CLOEXEC);
	if (fs < 0)
		fail("fsopen", "overlay", errno);
	for (uint32_t k = 0; k < s->i[0]; k++)
		if (fsconfig(fs, FSCONFIG_SET_STRING, "lowerdir+", s->s[4 + k], 0) < 0)
			fail("fsconfig lowerdir+", s->s[4 + k], errno);
	if (fsconfig(fs, FSCONFIG_SET_STRING, "upperdir", s->s[1], 0) < 0)
		fail("fsconfig upperdir", s->s[1], errno);
	if (fsconfig(fs, FSCONFIG_SET_STRING, "workdir", s->s[2], 0) < 0)
		fail("fsconfig workdir", s->s[2], errno);
	if (fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
		fail("fsconfig create", s->s[0], errno);
	int mnt = fsmount(fs, FSMOUNT_CLOEXEC, 0);
	if (mnt < 0)
		fail("fsmount", s->s[0], errno);
	if (move_mount(mnt, "", AT_FDCWD, s->s[0], MOVE_MOUNT_F_EMPTY_PATH) < 0)
		fail("move_mount", s->s[0], errno);
	close(mnt);
	close(fs);
}

/* OP_MASK: s0 path, s1 the null device path. Directories get an empty read-only tmpfs, files
 * the container's /dev/null, after checking that it really is the null device (char 1:3). */
static void do_mask(struct step *s)
{
	struct stat st;
	char tgt[64], src[64];
	int fd = in_root(s->s[0], O_PATH);
	if (fd < 0) {
		if (errno == ENOENT)
			return;
		fail("openat2", s->s[0], errno);
	}
	if (fstat(fd, &st) < 0)
		fail("fstat", s->s[0], errno);
	fd_path(fd, tgt, sizeof tgt);
	if (S_ISDIR(st.st_mode)) {
		if (mount("tmpfs", tgt, "tmpfs", MS_RDONLY, NULL) < 0)
			fail("mount", s->s[0], errno);
	} else {
		int null = in_root(s->s[1], O_PATH);
		if (null < 0)
			fail("openat2", s->s[1], errno);
		if (fstat(null, &st) < 0)
			fail("fstat", s->s[1], errno);
		if (!S_ISCHR(st.st_mode) || st.st_rdev != makedev(1, 3))
			fail("mask", s->s[1], ENODEV);
		fd_path(null, src, sizeof src);
		if (mount(src, tgt, NULL, MS_BIND, NULL) < 0)
			fail("mount", s->s[0], errno);
		close(null);
	}
	close(fd);
}

/* OP_LOOPBACK_UP: "lo" up in the process's network namespace (a new one has it down). */
static void do_loopback_up(void)
{
	struct ifreq ifr = { .ifr_name = "lo" };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		fail("socket", "lo", errno);
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
		fail("ioctl SIOCGIFFLAGS", "lo", errno);
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
		fail("ioctl SIOCSIFFLAGS", "lo", errno);
	close(fd);
}

/* OP_MKNOD: s0 path, i0 mode (type and permissions), i1 major, i2 minor, i3 uid, i4 gid. */
static void do_mknod(struct step *s)
{
	char name[256];
	int parent = parent_in_root(s->s[0], name, sizeof name);
	if (parent < 0)
		fail("openat2", s->s[0], errno);
	dev_t dev = makedev((unsigned)s->i[1], (unsigned)s->i[2]);
	if (mknodat(parent, name, (mode_t)s->i[0], dev) < 0) {
		/* A node left by an earlier run in a rootfs without a /dev tmpfs: replace it. */
		if (errno != EEXIST || unlinkat(parent, name, 0) < 0 ||
		    mknodat(parent, name, (mode_t)s->i[0], dev) < 0)
			fail("mknodat", s->s[0], errno);
	}
	/* Mode and owner go to the node just made, through an fd and never through a symlink:
	 * in a /dev shared with others it could be swapped for a link to a host file meanwhile. */
	struct stat st;
	int fd = openat(parent, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		fail("openat", s->s[0], errno);
	if (fstat(fd, &st) < 0)
		fail("fstat", s->s[0], errno);
	if ((st.st_mode & S_IFMT) != ((mode_t)s->i[0] & S_IFMT) ||
	    ((S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) && st.st_rdev != dev))
		fail("mknodat", s->s[0], EEXIST); /* replaced meanwhile */
	if (syscall(SYS_fchmodat2, fd, "", (mode_t)s->i[0] & 07777, AT_EMPTY_PATH) < 0)
		fail("fchmodat2", s->s[0], errno);
	if (fchownat(fd, "", (uid_t)s->i[3], (gid_t)s->i[4], AT_EMPTY_PATH) < 0)
		fail("fchownat", s->s[0], errno);
	close(fd);
	close(parent);
}

static void do_symlink(struct step *s)
{
	char name[256];
	int parent = parent_in_root(s->s[1], name, sizeof name);
	if (parent < 0)
		fail("openat2", s->s[1], errno);
	if (symlinkat(s->s[0], parent, name) < 0 && errno != EEXIST)
		fail("symlinkat", s->s[1], errno);
	close(parent);
}

static void reopen_root(void)
{
	if (rootfd >= 0)
		close(rootfd);
	rootfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		fail("open", "/", errno);
}

static void do_pivot_root(void)
{
	if (fchdir(rootfd) < 0)
		fail("fchdir", "rootfs", errno);
	/* Stack the old root under the new one, then detach it: no put_old directory needed. */
	if (syscall(SYS_pivot_root, ".", ".") < 0)
		fail("pivot_root", ".", errno);
	if (umount2(".", MNT_DETACH) < 0)
		fail("umount2", "old root", errno);
	if (chdir("/") < 0)
		fail("chdir", "/", errno);
	reopen_root();
}

static void do_chroot(void)
{
	if (fchdir(rootfd) < 0)
		fail("fchdir", "rootfs", errno);
	if (chroot(".") < 0)
		fail("chroot", ".", errno);
	if (chdir("/") < 0)
		fail("chdir", "/", errno);
	reopen_root();
}

static void do_move_root(void)
{
	if (fchdir(rootfd) < 0)
		fail("fchdir", "rootfs", errno);
	if (mount(".", "/", NULL, MS_MOVE, NULL) < 0)
		fail("mount", "MS_MOVE rootfs to /", errno);
	if (chroot(".") < 0)
		fail("chroot", ".", errno);
	if (chdir("/") < 0)
		fail("chdir", "/", errno);
	reopen_root();
}

/* OP_SYSCTL: s0 path under /proc/sys, s1 value. Written through the procfs opened at start,
 * never the container's /proc, where a config mount could put another file (CVE-2025-52881);
 * a sysctl file means the writer's namespaces whichever procfs it is opened in. */
static void do_sysctl(struct step *s)
{
	struct open_how how = { .flags = O_WRONLY | O_CLOEXEC | O_TRUNC,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV };
	char path[4096];
	snprintf(path, sizeof path, "sys/%s", s->s[0]);
	int fd = (int)syscall(SYS_openat2, procfd, path, &how, sizeof how);
	if (fd < 0)
		fail("openat2", path, errno);
	size_t n = strlen(s->s[1]);
	if (write(fd, s->s[1], n) != (ssize_t)n)
		fail("write", path, errno);
	close(fd);
}

/* OP_HOME: i0 uid. HOME from /etc/passwd as the container sees it, after its mounts. Only a
 * regular file is opened (a FIFO would block, opening a device has side effects), through the
 * fd it was checked on, and at most 1 MiB of it is read; "/" if the user is not there. */
static void do_home(struct step *s)
{
	static char buf[(1 << 20) + 1];
	char path[64], uid[24], *home = "/";
	struct stat st;
	size_t len = 0;
	int fd = in_root("etc/passwd", O_PATH), rd = -1;
	if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
		snprintf(path, sizeof path, "self/fd/%d", fd);
		rd = openat(procfd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	}
	while (rd >= 0 && len < sizeof buf - 1) {
		ssize_t r = read(rd, buf + len, sizeof buf - 1 - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		len += (size_t)r;
	}
	buf[len] = 0;
	snprintf(uid, sizeof uid, "%lld", (long long)s->i[0]);
	/* name:password:uid:gid:gecos:home:shell */
	for (char *line = buf, *next; rd >= 0 && line < buf + len; line = next) {
		char *f[7] = { line }, *nl = strchr(line, '\n');
		next = nl ? nl + 1 : buf + len;
		if (nl)
			*nl = 0;
		int n = 1;
		for (char *c = line; *c && n < 7; c++)
			if (*c == ':') {
				*c = 0;
				f[n++] = c + 1;
			}
		if (n == 7 && !strcmp(f[2], uid) && *f[5]) {
			home = f[5];
			break;
		}
	}
	if (asprintf(&home_env, "HOME=%s", home) < 0)
		fail("home", "asprintf", ENOMEM);
	if (rd >= 0)
		close(rd);
	if (fd >= 0)
		close(fd);
}

static void do_capset(struct step *s)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];
	for (int k = 0; k < 2; k++) {
		d[k].effective = (uint32_t)((uint64_t)s->i[0] >> (32 * k));
		d[k].permitted = (uint32_t)((uint64_t)s->i[1] >> (32 * k));
		d[k].inheritable = (uint32_t)((uint64_t)s->i[2] >> (32 * k));
	}
	if (syscall(SYS_capset, &h, d) < 0)
		fail("capset", "", errno);
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		fail("prctl", "PR_CAP_AMBIENT_CLEAR_ALL", errno);
	for (int cap = 0; cap < 64; cap++)
		if (((uint64_t)s->i[3] >> cap) & 1)
			if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) < 0)
				fail("prctl", "PR_CAP_AMBIENT_RAISE", errno);
}

/* OP_PTY: s0 the ptmx path, s1 where to bind the terminal as the console ("" for none),
 * i0 rows, i1 columns. The master goes to Java; the slave is kept for OP_PTY_ATTACH. */
static void do_pty(struct step *s)
{
	struct stat st;
	int zero = 0;
	int master = in_root(s->s[0], O_RDWR | O_NOCTTY);
	if (master < 0)
		fail("openat2", s->s[0], errno);
	if (fstat(master, &st) < 0 || !S_ISCHR(st.st_mode) || major(st.st_rdev) != 5)
		fail("open", s->s[0], ENOTTY);
	if (ioctl(master, TIOCSPTLCK, &zero) < 0)
		fail("ioctl", "TIOCSPTLCK", errno);
	ptyslave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (ptyslave < 0)
		fail("ioctl", "TIOCGPTPEER", errno);
	if (s->i[0] > 0 && s->i[1] > 0) {
		struct winsize ws = { .ws_row = (unsigned short)s->i[0], .ws_col = (unsigned short)s->i[1] };
		if (ioctl(ptyslave, TIOCSWINSZ, &ws) < 0)
			fail("ioctl", "TIOCSWINSZ", errno);
	}
	if (*s->s[1]) {
		/* The console itself must not be a symlink: the bind would land where it points. */
		char src[64], tgt[64], name[256];
		int parent = parent_in_root(s->s[1], name, sizeof name);
		if (parent < 0)
			fail("openat2", s->s[1], errno);
		int fd = openat(parent, name, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0666);
		if (fd < 0 && errno != EEXIST)
			fail("openat", s->s[1], errno);
		if (fd >= 0)
			close(fd);
		fd = openat(parent, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			fail("openat", s->s[1], errno);
		if (fstat(fd, &st) < 0)
			fail("fstat", s->s[1], errno);
		if (S_ISLNK(st.st_mode))
			fail("console", s->s[1], ELOOP);
		close(parent);
		fd_path(ptyslave, src, sizeof src);
		fd_path(fd, tgt, sizeof tgt);
		if (mount(src, tgt, NULL, MS_BIND, NULL) < 0)
			fail("mount", s->s[1], errno);
		close(fd);
	}
	put_frame(FR_PTY, NULL, 0, master);
	close(master);
}

/* OP_KEYRING: s0 the name, i0 the permissions (none: left as they are, for exec joining the
 * container's). A kernel without keyrings (ENOSYS) has no keyring of the caller's to share either. */
static void do_keyring(struct step *s)
{
	long key = syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, s->s[0], 0, 0, 0);
	if (key < 0 && errno == ENOSYS)
		return;
	if (key < 0)
		fail("keyctl", "KEYCTL_JOIN_SESSION_KEYRING", errno);
	if (s->nint > 0 && syscall(SYS_keyctl, KEYCTL_SETPERM, key, (unsigned long)s->i[0], 0, 0) < 0)
		fail("keyctl", "KEYCTL_SETPERM", errno);
}

/* The process leads a session of its own since OP_CLONE: the terminal becomes its
 * controlling tty. */
static void do_pty_attach(void)
{
	if (ioctl(ptyslave, TIOCSCTTY, 0) < 0)
		fail("ioctl", "TIOCSCTTY", errno);
	for (int fd = 0; fd < 3; fd++)
		if (dup2(ptyslave, fd) < 0)
			fail("dup2", "terminal", errno);
	close(ptyslave);
}

/* OP_STDIN: s0 a file in the container (its /dev/null), read-only as fd 0 in place of the
 * caller's stdin. in_root's fd is close-on-exec: dup2 clears that on fd 0; if the open itself
 * got fd 0 (stdin was closed), the flag is cleared by hand. */
static void do_stdin(struct step *s)
{
	int fd = in_root(s->s[0], O_RDONLY | O_NOCTTY);
	if (fd < 0)
		fail("open", s->s[0], errno);
	if (fd == 0 ? fcntl(0, F_SETFD, 0) < 0 : dup2(fd, 0) < 0)
		fail("dup2", s->s[0], errno);
	if (fd != 0)
		close(fd);
}

/* For a seccomp profile that refuses getcwd (runtime-tools' linux_seccomp): whether the working
 * directory is under the root, walking ".." up. The kernel stops ".." at the process's root; from
 * a directory outside it the walk ends at the top of the mount tree, whose ".." is itself.
 * 1 if under the root, 0 if not, -1 if it cannot tell. */
static int cwd_under_root(void)
{
	struct stat root, st, up;
	int fd = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC), r = -1;
	if (stat("/", &root) < 0)
		r = -1;
	else
		for (int depth = 0; fd >= 0 && depth < 4096 && fstat(fd, &st) == 0; depth++) {
			if (st.st_dev == root.st_dev && st.st_ino == root.st_ino) {
				r = 1;
				break;
			}
			int parent = openat(fd, "..", O_PATH | O_DIRECTORY | O_CLOEXEC);
			close(fd);
			fd = parent;
			if (fd >= 0 && fstat(fd, &up) == 0 && up.st_dev == st.st_dev && up.st_ino == st.st_ino) {
				r = 0;
				break;
			}
		}
	if (fd >= 0)
		close(fd);
	return r;
}

/* OP_CLOSE_FDS: every fd from first up closes at execve. A seccomp profile that predates
 * close_range (runtime-tools' default) refuses it with EPERM: then each open fd is marked
 * through /proc/self/fd, as runc does. */
static void do_cloexec_from(unsigned first)
{
	if (syscall(SYS_close_range, first, ~0u, CLOSE_RANGE_CLOEXEC) == 0)
		return;
	if (errno != EPERM && errno != ENOSYS)
		fail("close_range", "", errno);
	DIR *d = opendir("/proc/self/fd");
	if (!d)
		fail("opendir", "/proc/self/fd", errno);
	for (struct dirent *e; (e = readdir(d));) {
		int fd = atoi(e->d_name);
		if (e->d_name[0] != '.' && fd >= (int)first && fd != dirfd(d) && fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
			fail("fcntl", e->d_name, errno);
	}
	closedir(d);
}

/* OP_FIND_EXEC: the candidates, in order, as execvp would try them. The first regular
 * executable file wins; EACCES is reported only if no candidate is usable. */
static void do_find_exec(struct step *s)
{
	int err = ENOENT;
	const char *bad = s->nstr ? s->s[0] : "";
	for (uint32_t k = 0; k < s->nstr; k++) {
		struct stat st;
		if (stat(s->s[k], &st) < 0) {
			if (errno != ENOENT && errno != ENOTDIR && err == ENOENT) {
				err = errno;
				bad = s->s[k];
			}
			continue;
		}
		/* A seccomp profile without faccessat2 (runtime-tools' default) answers EPERM or
		 * ENOSYS: then the mode bits decide, as Go's LookPath in runc does. */
		int x = S_ISREG(st.st_mode) ? faccessat(AT_FDCWD, s->s[k], X_OK, AT_EACCESS) : -1;
		if (x < 0 && S_ISREG(st.st_mode) && (errno == EPERM || errno == ENOSYS))
			x = (st.st_mode & 0111) ? 0 : -1;
		if (x < 0) {
			err = S_ISDIR(st.st_mode) ? EISDIR : EACCES;
			bad = s->s[k];
			continue;
		}
		exec_path = s->s[k];
		return;
	}
	fail("exec", bad, err);
}

/* OP_HOOK: s0 names the hook for errors, s1 is the program, then i0 arguments (argv) and its
 * whole environment; i1 timeout in seconds (0: none); i2 which of the states in the go-ahead
 * goes to its stdin; i3 start it in the root. The state is an in-memory file, so nothing
 * blocks on a hook that does not read it. On timeout its process group is killed. Failures
 * are reported as "exit", "signal" or "timeout" with the number in place of an errno. */
static void do_hook(struct step *s)
{
	int argc = (int)s->i[0], errpipe[2], err, st, r;
	const char *state = states ? states : "";
	if (s->i[2] && state + strlen(state) + 1 < states + states_len)
		state += strlen(state) + 1;
	char **argv = calloc((size_t)argc + 1, sizeof *argv), **envp = calloc(s->nstr, sizeof *envp);
	int in = memfd_create("state", MFD_CLOEXEC);
	if (!argv || !envp || in < 0 || write(in, state, strlen(state)) < 0 || lseek(in, 0, SEEK_SET) < 0)
		fail("memfd_create", s->s[0], argv && envp ? errno : ENOMEM);
	memcpy(argv, s->s + 2, (size_t)argc * sizeof *argv);
	memcpy(envp, s->s + 2 + argc, (s->nstr - 2 - (size_t)argc) * sizeof *envp);
	if (pipe2(errpipe, O_CLOEXEC) < 0)
		fail("pipe2", s->s[0], errno);
	pid_t pid = fork();
	if (pid < 0)
		fail("fork", s->s[0], errno);
	if (pid == 0) {
		if (setpgid(0, 0) == 0 && dup2(in, 0) == 0 && (!s->i[3] || fchdir(rootfd) == 0) &&
		    syscall(SYS_close_range, 3, ~0u, CLOSE_RANGE_CLOEXEC) == 0)
			execve(s->s[1], argv, envp);
		err = errno; /* the pipe closes at a successful execve; else it carries the errno */
		(void)!write(errpipe[1], &err, sizeof err);
		_exit(127);
	}
	close(errpipe[1]);
	close(in);
	if (read(errpipe[0], &err, sizeof err) == sizeof err) {
		waitpid(pid, NULL, 0);
		fail("execve", s->s[0], err);
	}
	close(errpipe[0]);
	struct pollfd p = { (int)syscall(SYS_pidfd_open, pid, 0), POLLIN, 0 };
	if (p.fd < 0)
		fail("pidfd_open", s->s[0], errno);
	while ((r = poll(&p, 1, s->i[1] > 0 ? (int)s->i[1] * 1000 : -1)) < 0 && errno == EINTR)
		;
	if (r == 0)
		kill(-pid, SIGKILL);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	close(p.fd);
	if (r == 0)
		fail("timeout", s->s[0], (int)s->i[1]);
	if (WIFSIGNALED(st))
		fail("signal", s->s[0], WTERMSIG(st));
	if (WEXITSTATUS(st))
		fail("exit", s->s[0], WEXITSTATUS(st));
	free(argv);
	free(envp);
}

/* OP_EXEC: i0 argc; strings: argv then environment. */
static void do_exec(struct step *s)
{
	int argc = (int)s->i[0];
	char **argv = calloc((size_t)argc + 1, sizeof *argv);
	char **envp = calloc(s->nstr - (size_t)argc + 2, sizeof *envp);
	if (!argv || !envp)
		fail("exec", "calloc", ENOMEM);
	memcpy(argv, s->s, (size_t)argc * sizeof *argv);
	memcpy(envp, s->s + argc, (s->nstr - (size_t)argc) * sizeof *envp);
	if (home_env)
		envp[s->nstr - (size_t)argc] = home_env;
	execve(exec_path ? exec_path : argv[0], argv, envp);
	fail("execve", exec_path ? exec_path : argv[0], errno);
}

/* ---- brig exec: entering a running container ---- */

/* OP_JOIN_NS: i0 the container's first process, i1 its start time (field 22 of /proc/PID/stat),
 * i2.. the CLONE_NEW* flag of each namespace to join, in the order to join them; s0.. their
 * names under /proc/PID/ns. Everything is opened through one fd of the host's /proc/PID, on
 * which the start time is checked first: a reused pid fails here, and once the checked process
 * is gone that fd opens nothing. All namespaces are opened before the first setns (after
 * joining a user namespace, the others could no longer be opened). */
static void do_join_ns(struct step *s)
{
	char name[64], stat[1024];
	int fds[16], n = (int)s->nint - 2;
	if (n < 0 || n > 16 || (uint32_t)n != s->nstr)
		fail("plan", "bad namespace list", EPROTO);
	snprintf(name, sizeof name, "%lld", (long long)s->i[0]);
	int dir = openat(procfd, name, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dir < 0)
		fail("open", "/proc/PID", errno);
	int fd = openat(dir, "stat", O_RDONLY | O_CLOEXEC);
	ssize_t len = fd < 0 ? -1 : read(fd, stat, sizeof stat - 1);
	if (len <= 0)
		fail("read", "/proc/PID/stat", fd < 0 || len < 0 ? errno : ESRCH);
	close(fd);
	stat[len] = 0;
	/* After the command's ")" (field 2): the state (field 3), ..., the start time (field 22).
	 * A zombie is as gone as a reused pid. */
	char *state = strrchr(stat, ')'), *p = state;
	for (int field = 2; p && field < 22; field++)
		p = strchr(p + 1, ' ');
	if (!p || state[1] != ' ' || state[2] == 'Z' || strtoll(p + 1, NULL, 10) != s->i[1])
		fail("stat", "/proc/PID/stat", ESRCH);
	for (int k = 0; k < n; k++) {
		snprintf(name, sizeof name, "ns/%s", s->s[k]);
		fds[k] = openat(dir, name, O_RDONLY | O_CLOEXEC);
		if (fds[k] < 0)
			fail("open", name, errno);
	}
	close(dir);
	for (int k = 0; k < n; k++) {
		if ((s->flags & F_CGROUP_AFTER_FORK) && s->i[2 + k] == CLONE_NEWCGROUP) {
			cgroupnsfd = fds[k];
			continue;
		}
		if (setns(fds[k], (int)s->i[2 + k]) < 0) {
			snprintf(name, sizeof name, "ns/%s", s->s[k]);
			fail("setns", name, errno);
		}
		close(fds[k]);
	}
}

/* OP_FORK: the process that runs the program, born in the pid namespace joined above, as a
 * child of brig's own process (CLONE_PARENT), which waits for it; this helper exits. It gets a
 * session of its own, like a container's first process (see OP_CLONE). */
static void do_fork(void)
{
	/* Into the container's cgroup2 directory when OP_OPEN_CGROUP opened it: then nothing moves
	 * the process by pid, a move whose kernel lock waits out an RCU grace period after a quiet
	 * spell (5-19 ms here). Whatever clone3 refuses (an old kernel, a seccomp filter, a full
	 * pids.max, which a move ignores, as runc's exec does) gets a plain fork; Java moves it. */
	int32_t report[2] = { 0, 0 }; /* pid, born in the cgroup */
	long pid = -1;
	if (cgroupfd >= 0) {
		struct clone_args a = { .flags = CLONE_PARENT | CLONE_INTO_CGROUP, .cgroup = (uint64_t)cgroupfd };
		pid = syscall(SYS_clone3, &a, sizeof a);
		report[1] = pid >= 0;
	}
	if (pid < 0)
		pid = syscall(SYS_clone, CLONE_PARENT | SIGCHLD, 0, 0, 0, 0);
	if (pid < 0)
		fail("clone", "", errno);
	if (pid > 0) {
		report[0] = (int32_t)pid;
		put_frame(FR_PID, report, sizeof report, -1);
		_exit(0);
	}
	if (cgroupfd >= 0)
		close(cgroupfd);
	/* In its cgroup now: the container's cgroup namespace, whose root that cgroup is. */
	if (cgroupnsfd >= 0) {
		if (setns(cgroupnsfd, CLONE_NEWCGROUP) < 0)
			fail("setns", "ns/cgroup", errno);
		close(cgroupnsfd);
	}
	if (setsid() < 0)
		fail("setsid", "", errno);
}

/* OP_SECCOMP: i0 the seccomp(2) flags, then the filter Java compiled, one instruction per
 * integer (code bits 0-15, jt 16-23, jf 24-31, k 32-63). no_new_privs, if wanted, is a step of
 * its own before this one; without it the kernel asks for CAP_SYS_ADMIN. With
 * SECCOMP_FILTER_FLAG_NEW_LISTENER the listener goes to Java, which sends it on to the notify
 * agent: sendmsg is the only call between the filter and the hand-over (Java refuses a profile
 * that notifies it: nobody could answer yet); the message holds the listener from then on. */
static void do_seccomp(struct step *s)
{
	unsigned short n = (unsigned short)(s->nint - 1);
	struct sock_filter *f = calloc(n ? n : 1, sizeof *f);
	if (!f || s->nint < 2 || s->nint - 1 > BPF_MAXINSNS)
		fail("seccomp", "filter", f ? EINVAL : ENOMEM);
	for (unsigned k = 0; k < n; k++) {
		uint64_t v = (uint64_t)s->i[k + 1];
		f[k] = (struct sock_filter){ (uint16_t)v, (uint8_t)(v >> 16), (uint8_t)(v >> 24), (uint32_t)(v >> 32) };
	}
	struct sock_fprog prog = { .len = n, .filter = f };
	long listener = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, (unsigned)s->i[0], &prog);
	if (listener < 0)
		fail("seccomp", "", errno);
	if ((unsigned)s->i[0] & SECCOMP_FILTER_FLAG_NEW_LISTENER) {
		put_frame(FR_LISTENER, NULL, 0, (int)listener);
		close((int)listener);
	}
}

/* OP_WAIT_START: a signal sent to the waiting process ends it, as its default would. */
static void end_by_signal(int sig)
{
	_exit(128 + sig);
}

static void run(struct step *s)
{
	char *p;
	uint32_t type, len;
	switch (s->op) {
	case OP_SETNS: {
		int fd = open(s->s[0], O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			fail("open", s->s[0], errno);
		if (setns(fd, (int)s->i[0]) < 0)
			fail("setns", s->s[0], errno);
		close(fd);
		break;
	}
	case OP_OPEN_CGROUP:
		cgroupfd = open(s->s[0], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (cgroupfd < 0)
			fail("open", s->s[0], errno);
		break;
	case OP_OPEN_TASKS: /* s: v1 cgroup directories; opened before any namespace is joined */
		taskfds = calloc(s->nstr ? s->nstr : 1, sizeof *taskfds);
		if (!taskfds)
			fail("calloc", "", ENOMEM);
		for (uint32_t k = 0; k < s->nstr; k++) {
			char path[PATH_MAX];
			snprintf(path, sizeof path, "%s/tasks", s->s[k]);
			taskfds[k] = open(path, O_WRONLY | O_CLOEXEC);
			if (taskfds[k] < 0)
				fail("open", s->s[k], errno);
		}
		tasks = s;
		break;
	case OP_JOIN_TASKS:
		/* "0" moves the writing thread alone: the kernel skips its global lock for that, whose
		 * grace period cost 5-19 ms when Brig wrote the pid to cgroup.procs (measured here). */
		for (uint32_t k = 0; tasks && k < tasks->nstr; k++) {
			if (write(taskfds[k], "0", 1) != 1)
				fail("write", tasks->s[k], errno);
			close(taskfds[k]);
		}
		break;
	case OP_CLONE: {
		/* The child becomes the container's first process. CLONE_PARENT makes it a child of
		 * Brig's own process (our parent), which waits for it; this helper process exits.
		 * With a cgroup it is created there (clone3, CLONE_INTO_CGROUP); a kernel that does
		 * not know clone3 or the flag gets a plain clone, and Java moves the process. */
		uint64_t flags = (uint64_t)s->i[0] | CLONE_PARENT;
		int32_t report[2] = { 0, 0 }; /* pid, created in the cgroup */
		long pid = -1;
		if (cgroupfd >= 0) {
			/* No exit_signal: clone3 refuses one with CLONE_PARENT (EINVAL), and the
			 * child inherits ours, SIGCHLD, as with clone. */
			struct clone_args a = { .flags = flags | CLONE_INTO_CGROUP, .cgroup = (uint64_t)cgroupfd };
			pid = syscall(SYS_clone3, &a, sizeof a);
			if (pid < 0 && errno != ENOSYS && errno != EINVAL && errno != E2BIG)
				fail("clone3", "", errno);
			report[1] = pid >= 0;
		}
		if (pid < 0)
			pid = syscall(SYS_clone, flags | SIGCHLD, 0, 0, 0, 0);
		if (pid < 0)
			fail("clone", "", errno);
		if (pid > 0) {
			report[0] = (int32_t)pid;
			put_frame(FR_PID, report, sizeof report, -1);
			_exit(0);
		}
		if (cgroupfd >= 0)
			close(cgroupfd);
		/* A session and process group of its own, terminal or not: else the container
		 * could signal brig's whole process group (kill 0) or use the caller's tty. */
		if (setsid() < 0)
			fail("setsid", "", errno);
		break;
	}
	case OP_AWAIT:
		p = get_frame(&type, &len);
		if (type != FR_GO)
			_exit(1);
		if (len && !states) { /* the hooks' states, NUL-terminated */
			states = p;
			states_len = len;
		} else
			free(p);
		break;
	case OP_UNSHARE:
		if (unshare((int)s->i[0]) < 0)
			fail("unshare", "", errno);
		break;
	case OP_ROOT:
		if (rootfd >= 0)
			close(rootfd);
		rootfd = open(s->s[0], O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (rootfd < 0)
			fail("open", s->s[0], errno);
		break;
	case OP_MKDIRS:
		mkdirs(s->s[0], (mode_t)s->i[0]);
		break;
	case OP_MKFILE:
		mkfile(s->s[0], (mode_t)s->i[0]);
		break;
	case OP_MOUNT:
		do_mount(s);
		break;
	case OP_MKNOD:
		do_mknod(s);
		break;
	case OP_SYMLINK:
		do_symlink(s);
		break;
	case OP_PIVOT_ROOT:
		do_pivot_root();
		break;
	case OP_MOVE_ROOT:
		do_move_root();
		break;
	case OP_OVERLAY:
		do_overlay(s);
		break;
	case OP_LOOPBACK_UP:
		do_loopback_up();
		break;
	case OP_CHROOT:
		do_chroot();
		break;
	case OP_MASK:
		do_mask(s);
		break;
	case OP_SETHOSTNAME:
		if (sethostname(s->s[0], strlen(s->s[0])) < 0)
			fail("sethostname", s->s[0], errno);
		break;
	case OP_SETDOMAINNAME:
		if (setdomainname(s->s[0], strlen(s->s[0])) < 0)
			fail("setdomainname", s->s[0], errno);
		break;
	case OP_SYSCTL:
		do_sysctl(s);
		break;
	case OP_RLIMIT: {
		struct rlimit rl = { (rlim_t)s->i[1], (rlim_t)s->i[2] };
		if (setrlimit((int)s->i[0], &rl) < 0)
			fail("setrlimit", "", errno);
		break;
	}
	case OP_PRCTL:
		if (prctl((int)s->i[0], (unsigned long)s->i[1], 0, 0, 0) < 0)
			fail("prctl", "", errno);
		break;
	case OP_UMASK:
		umask((mode_t)s->i[0]);
		break;
	case OP_SECCOMP:
		do_seccomp(s);
		break;
	case OP_CHDIR:
		if ((s->flags & F_IF_DEFERRED) && !chdir_deferred)
			break;
		if (chdir(s->s[0]) < 0) {
			if ((s->flags & F_DEFER) && errno == EACCES) {
				chdir_deferred = 1;
				break;
			}
			fail("chdir", s->s[0], errno);
		}
		chdir_deferred = 0;
		/* The working directory must be inside the container (CVE-2024-21626). */
		char cwd[4096];
		if (!getcwd(cwd, sizeof cwd)) {
			int e = errno; /* ENOENT: outside the root */
			if ((e != EPERM && e != ENOSYS) || cwd_under_root() != 1)
				fail("getcwd", s->s[0], e);
		} else if (cwd[0] != '/') {
			fail("getcwd", s->s[0], ENOENT);
		}
		break;
	case OP_CAPBSET:
		for (int cap = 0; cap <= (int)s->i[1]; cap++)
			if (!(((uint64_t)s->i[0] >> cap) & 1) && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0)
				fail("prctl", "PR_CAPBSET_DROP", errno);
		break;
	case OP_SETGROUPS: {
		gid_t *g = calloc(s->nint + 1, sizeof *g);
		for (uint32_t k = 0; g && k < s->nint; k++)
			g[k] = (gid_t)s->i[k];
		if (!g || setgroups(s->nint, g) < 0)
			fail("setgroups", "", g ? errno : ENOMEM);
		free(g);
		break;
	}
	case OP_SETRESGID:
		if (setresgid((gid_t)s->i[0], (gid_t)s->i[0], (gid_t)s->i[0]) < 0)
			fail("setresgid", "", errno);
		break;
	case OP_SETRESUID:
		if (setresuid((uid_t)s->i[0], (uid_t)s->i[0], (uid_t)s->i[0]) < 0)
			fail("setresuid", "", errno);
		break;
	case OP_CAPSET:
		do_capset(s);
		break;
	case OP_PTY:
		do_pty(s);
		break;
	case OP_PTY_ATTACH:
		do_pty_attach();
		break;
	case OP_STDIN:
		do_stdin(s);
		break;
	case OP_OPEN_FIFO: {
		/* Opened read-write so the open never blocks; OP_WAIT_START reads the byte that
		 * `start` writes. */
		struct stat st;
		int fd = open(s->s[0], O_RDWR | O_CLOEXEC);
		if (fd < 0)
			fail("open", s->s[0], errno);
		if (fstat(fd, &st) < 0 || !S_ISFIFO(st.st_mode))
			fail("open", s->s[0], EINVAL);
		*(s->nint && s->i[0] ? &reportfd : &fifofd) = fd; /* i0 1: the report fifo */
		break;
	}
	case OP_WAIT_START: {
		/* Often this process is its pid namespace's init, and the kernel drops every signal
		 * but SIGKILL and SIGSTOP sent to an init without a handler for it: `brig kill ID`
		 * (SIGTERM) of a created container would do nothing, where runc's init ends. While
		 * it waits, a signal whose default ends a process ends it; the defaults come back
		 * before anything else runs. */
		static const int ends[] = { SIGHUP, SIGINT, SIGQUIT, SIGUSR1, SIGUSR2, SIGPIPE, SIGALRM,
					    SIGTERM, SIGXCPU, SIGXFSZ, SIGVTALRM, SIGPROF, SIGIO, SIGPWR, SIGSYS };
		char c;
		ssize_t r;
		for (size_t k = 0; k < sizeof ends / sizeof ends[0]; k++)
			signal(ends[k], end_by_signal);
		while ((r = read(fifofd, &c, 1)) < 0 && errno == EINTR)
			;
		for (size_t k = 0; k < sizeof ends / sizeof ends[0]; k++)
			signal(ends[k], SIG_DFL);
		if (r != 1)
			fail("read", "exec fifo", r < 0 ? errno : EPIPE);
		close(fifofd);
		if (reportfd >= 0) /* the create's brig is gone: failures from here on go to `start` */
			sock = reportfd;
		break;
	}
	case OP_CLOSE_FDS:
		/* Everything from i0 up closes at execve: no host fd reaches the container. */
		do_cloexec_from((unsigned)s->i[0]);
		break;
	case OP_FIND_EXEC:
		do_find_exec(s);
		break;
	case OP_EXEC:
		do_exec(s);
		break;
	case OP_READY:
		put_frame(FR_READY, NULL, 0, -1);
		break;
	case OP_HOME:
		do_home(s);
		break;
	case OP_KEYRING:
		do_keyring(s);
		break;
	case OP_JOIN_NS:
		do_join_ns(s);
		break;
	case OP_FORK:
		do_fork();
		break;
	case OP_HOOK:
		do_hook(s);
		break;
	default:
		fail("plan", "unknown step", EPROTO);
	}
}

/* ---- launch: the process a user or engine started, for as long as brig and its container run ----
 *
 * The launcher script execs "brig-helper launch JAVA ARGS...": this process starts the JVM
 * as its child and from its first instruction owns the pid the caller knows, and its signals.
 * It holds them until the JVM says where they go: to the JVM itself (commands that run long),
 * or to the container it started (brig run), whose exit status then becomes this process's.
 * Quick commands finish first.
 * HotSpot keeps some signals for itself, so the JVM could not relay them; and as a child
 * subreaper this process inherits the container when the JVM exits.
 *
 * Its own fds live high and close-on-exec, so none can land in the range a container is given
 * (--preserve-fds); it tells the JVM which fds the caller really passed (BRIG_FDS). It takes
 * messages only from the JVM it started: if that JVM dies while a container is half-made, it
 * kills its children and runs the JVM again to remove the container ("delete --force"). Once a
 * container it was handed has exited, it runs that same delete: removing a container is Java's
 * (brig.runtime.Runtime.delete), in one place; this process only relays signals and reaps.
 * That delete is bin/brig's: answered by the resident server when there is one.
 *
 * With --server FD the resident server plays the JVM's part (brig.server.CallerLink): its
 * messages come on the call's connection among its output frames, and this process starts
 * the helper when asked (SPAWN), so the container is the caller's descendant as on the cold
 * path. */

/* brig.cli.Supervisor's messages, and brig.server.Protocol's frames a served call gets. */
enum { SV_FORWARD = 21, SV_CONTAINER = 22, SV_STARTING = 23, SV_FORGET = 24, SV_REMOVE = 25, SV_NOTIFY = 26, S_NOTIFIED = 27 };
enum { S_OUT = 11, S_ERR = 12, S_EXIT = 13, S_IN_WANT = 14, S_IN = 15, S_SPAWN = 16, S_SPAWNED = 17, S_TEARDOWN = 18,
       S_CONNECT = 19, S_CONNECTED = 20 };

static struct {
	pid_t jvm, container;
	int served;   /* --server: jvm is the server's pid (not our child), the helper our child */
	pid_t helper; /* --server: the helper this process started, until reaped */
	int torn;     /* --server: the server's answer to TEARDOWN came */
	char brig[PATH_MAX]; /* bin/brig, which runs the clean-up */
	int jvm_status, container_status, jvm_done, container_done;
	int ctl, master, forward, nheld, held[64];
	char *report; /* NUL-terminated pairs "--OP ARG" for the OOM report (brig.runtime.Runtime.reportArgs) */
	size_t report_len;
	char *undo; /* SV_STARTING: NUL-terminated arguments of brig.cli.Main that remove the container */
	size_t undo_len;
} sv = { .ctl = -1, .master = -1 };

/* SV_REMOVE: how this process removes the container itself once it has exited, as Java planned
 * it (brig.runtime.Teardown): u64 dev, u64 ino, the state directory, then steps, each a
 * NUL-terminated string: "T" + text the state.json must hold (the start's token: an inode
 * number may be reused), "C" + a cgroup directory of the container, "P" + a parent made for
 * it, "S" the state directory's files and itself, "E" + an empty file to make. Why: that removal was a second cold JVM
 * (`brig delete --force`, ~70 ms of a ~200 ms cold run) or, served, the server's delete after
 * a round trip (~1.3 ms of a ~9 ms warm run: container exit 6.48 ms, TEARDOWN received 6.66,
 * first rmdir 7.35, last 7.90, answer 8.08). Anything unexpected leaves it all to that delete,
 * which kills, walks and reports. */
static struct {
	int fd;    /* the state directory, opened when planned: its inode cannot be reused while held */
	char *msg; /* the message */
	char *dir; /* the directory's path in it; the steps follow it */
	char *end;
} rm = { .fd = -1 };

static void forget_removal(void)
{
	if (rm.fd >= 0)
		close(rm.fd);
	rm.fd = -1;
	free(rm.msg);
	rm.msg = NULL;
}

/* Takes the plan (p stays ours) if the directory is still the one Java saw. */
static void plan_removal(char *p, uint32_t len)
{
	uint64_t id[2];
	struct stat st;
	memcpy(id, p, sizeof id);
	rm.msg = p;
	rm.dir = p + sizeof id;
	rm.end = p + len;
	rm.fd = open(rm.dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (rm.fd >= 0 && (fstat(rm.fd, &st) < 0 || st.st_dev != id[0] || st.st_ino != id[1])) {
		close(rm.fd);
		rm.fd = -1;
	}
	if (rm.fd < 0)
		forget_removal();
}

/* brig.runtime.StateStore's remove, state.json last: a delete that finds it goes on from there. */
static int remove_state(void)
{
	int fd = openat(rm.fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd < 0 ? NULL : fdopendir(fd);
	struct dirent *e;
	if (!d) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") && strcmp(e->d_name, "state.json") &&
		    unlinkat(rm.fd, e->d_name, 0) < 0 && errno != ENOENT) {
			closedir(d);
			return -1;
		}
	closedir(d);
	if (unlinkat(rm.fd, "state.json", 0) < 0 && errno != ENOENT)
		return -1;
	if (rmdir(rm.dir) < 0) /* state.json is gone: nothing else would remove it */
		dprintf(2, "brig: rmdir %s: %s\n", rm.dir, strerror(errno));
	return 0;
}

static int state_holds(const char *text)
{
	struct stat st;
	int fd = openat(rm.fd, "state.json", O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	char *buf = fd < 0 || fstat(fd, &st) < 0 || st.st_size > (4 << 20) ? NULL : calloc((size_t)st.st_size + 1, 1);
	int holds = buf && read_full(fd, buf, (size_t)st.st_size) == 0 && strstr(buf, text);
	free(buf);
	if (fd >= 0)
		close(fd);
	return holds ? 0 : -1;
}

static int mark(const char *file)
{
	int fd = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0666);
	return fd < 0 ? -1 : close(fd);
}

/* 1 if the container is gone, 0 if the delete must do (the rest of) it. The lock is
 * StateStore.lock's (flock on the directory), not waited for: whoever holds it works on the
 * container, and the delete waits its turn. */
static int remove_planned(void)
{
	struct stat held, now;
	int done = 0;
	if (rm.fd < 0)
		return 0;
	if (flock(rm.fd, LOCK_EX | LOCK_NB) < 0 || fstat(rm.fd, &held) < 0 || lstat(rm.dir, &now) < 0 ||
	    now.st_dev != held.st_dev || now.st_ino != held.st_ino)
		goto out; /* busy, or removed (and the id maybe another container's since) */
	for (char *s = rm.dir + strlen(rm.dir) + 1; s < rm.end; s += strlen(s) + 1) {
		if (s[0] == 'T' && state_holds(s + 1) < 0)
			goto out; /* another start's */
		if (s[0] == 'C' && rmdir(s + 1) < 0 && errno != ENOENT)
			goto out; /* busy: tasks or sub-cgroups left */
		if (s[0] == 'P')
			rmdir(s + 1); /* another container's parent too, maybe: it stays */
		if (s[0] == 'S' && remove_state() < 0)
			goto out;
		if (s[0] == 'E' && mark(s + 1) < 0)
			goto out;
		if (!s[0] || !strchr("TCPSE", s[0]))
			goto out;
	}
	done = 1;
out:
	forget_removal(); /* and the lock with it */
	return done;
}

static void copy(int from, int to, int *open_flag)
{
	char buf[8192];
	ssize_t n = read(from, buf, sizeof buf);
	if (n <= 0) {
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			return;
		*open_flag = 0;
		return;
	}
	for (ssize_t off = 0; off < n;) {
		ssize_t w = write(to, buf + off, (size_t)(n - off));
		if (w < 0) {
			if (errno == EINTR)
				continue;
			*open_flag = 0;
			return;
		}
		off += w;
	}
}

/* A caller's terminal without a size (0 0: script(1) fed from a pipe, say) leaves the
 * container's as process.consoleSize made it. */
static void resize(int tty, int master)
{
	struct winsize ws;
	if (ioctl(tty, TIOCGWINSZ, &ws) == 0 && ws.ws_row && ws.ws_col)
		ioctl(master, TIOCSWINSZ, &ws);
}

static void pause_10ms(void)
{
	struct timespec ts = { 0, 10 * 1000 * 1000 };
	nanosleep(&ts, NULL);
	/* Processes of the container whose parent died are ours (subreaper): reap them, as a
	 * cgroup may stay busy until its tasks are gone. */
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
}

/* The N of the "oom_kill N" line in a v1 memory.oom_control or v2 memory.events file; -1 if
 * there is none. */
static long long oom_kills(const char *file)
{
	char buf[1024];
	int fd = open(file, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof buf - 1);
	if (fd >= 0)
		close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	for (char *line = buf; line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL)
		if (!strncmp(line, "oom_kill ", 9))
			return atoll(line + 9);
	return -1;
}

/* Tells the user whether the OOM killer struck in the container, which has exited: its cgroup
 * still counts the kills until the delete removes it (brig.runtime.Runtime.reportArgs). */
static const char *report_oom(void)
{
	char *arg[2] = { 0 };
	const char *oom_message = "";
	int k = 0;
	for (char *p = sv.report; p && p < sv.report + sv.report_len; p += strlen(p) + 1) {
		arg[k++] = p;
		if (k < 2)
			continue;
		k = 0;
		if (!strcmp(arg[0], "--oom-message"))
			oom_message = arg[1];
		else if (!strcmp(arg[0], "--oom-kills-above")) {
			/* "BASELINE FILE": the count read at the start, and where to read it now. */
			char *file;
			long long baseline = strtoll(arg[1], &file, 10);
			if (*file == ' ' && oom_kills(file + 1) > baseline) {
				dprintf(2, "brig: %s\n", oom_message);
				return oom_message;
			}
		}
	}
	return NULL;
}

static void monitor_exited(int status, const char *oom);
static void monitor_leave(void);

/* The JVM died with a container half-made: kill every child this process has (the helper, the
 * container's first process and, as subreaper, whatever they left), until there is none. */
static void kill_children(void)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/self/task/%d/children", (int)getpid());
	for (int round = 0; round < 500; round++) {
		FILE *f = fopen(path, "re");
		int pid;
		if (!f)
			return;
		while (fscanf(f, "%d", &pid) == 1)
			kill(pid, SIGKILL);
		fclose(f);
		pid_t w;
		while ((w = waitpid(-1, NULL, WNOHANG)) > 0)
			;
		if (w < 0 && errno == ECHILD)
			return;
		pause_10ms();
	}
}

/* posix_spawn with every signal unblocked and at its default: this process holds them all
 * (blocked, for its signalfd), and nothing it starts should inherit that. Returns 0 or errno. */
static int spawn_clean(pid_t *pid, const char *path, char **av, char **envp)
{
	sigset_t all, none;
	sigfillset(&all);
	sigemptyset(&none);
	posix_spawnattr_t attr;
	posix_spawnattr_init(&attr);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &all);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	int err = posix_spawn(pid, path, NULL, &attr, av, envp);
	posix_spawnattr_destroy(&attr);
	return err;
}

/* ...then run bin/brig with the arguments brig gave for that (delete --force ID); the same once
 * a container handed over has exited. bin/brig asks the resident server (or runs a JVM). */
static void undo_start(void)
{
	int n = 0;
	for (char *p = sv.undo; p < sv.undo + sv.undo_len; p += strlen(p) + 1)
		n++;
	char **av = calloc((size_t)n + 2, sizeof *av);
	if (!av) {
		dprintf(2, "brig: the JVM died while starting a container, which is left behind\n");
		return;
	}
	int k = 0;
	av[k++] = sv.brig;
	for (char *p = sv.undo; p < sv.undo + sv.undo_len; p += strlen(p) + 1)
		av[k++] = p;
	av[k] = NULL;
	unsetenv("BRIG_SUPERVISOR");
	extern char **environ;
	pid_t pid;
	int err = spawn_clean(&pid, av[0], av, environ), st;
	if (err) {
		dprintf(2, "brig: cannot start %s: %s\n", av[0], strerror(err));
		return;
	}
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
}

static void deliver(int sig)
{
	if (sv.container) {
		if (sig == SIGWINCH && sv.master >= 0)
			resize(0, sv.master);
		else
			kill(sv.container, sig);
	} else if (sv.forward && sv.served) {
		/* A served command that runs until stopped (logs -f, stats): the caller's signal
		 * ends it as it would end its JVM; the server sees the connection go. Never a
		 * signal to the server: it serves others. */
		if (sig == SIGINT || sig == SIGTERM || sig == SIGHUP)
			exit(128 + sig);
	} else if (sv.forward) {
		if (!sv.jvm_done)
			kill(sv.jvm, sig);
	} else if (sv.nheld < 64) {
		sv.held[sv.nheld++] = sig;
	}
}

static void stop_reading(void)
{
	close(sv.ctl);
	sv.ctl = -1;
}

static int send_all(int fd, const void *buf, size_t n)
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

/* The answer to a request of the server's: one u32 (a pid, 0, or -errno) and, if fd >= 0,
 * that fd alongside (SCM_RIGHTS). */
static void answer(uint32_t type, int32_t value, int fd)
{
	send_frame(sv.ctl, type, &value, 4, fd);
}

/* SPAWN (u32 first, u32 has-keep, keep list; the sealed helper as fd): start
 * "brig-helper init SOCK FIRST [KEEP]" as brig.helper.Helper.Launcher.of does in a JVM, with
 * this process's fds 0-2 (the caller's), and answer SPAWNED with its pid and our end of its
 * control socket, or -errno and no fd. */
static void spawn_helper(int binary, const char *p, uint32_t len)
{
	uint32_t first = 0, keep = 0;
	int sp[2] = { -1, -1 }, child = -1, err = EINVAL;
	pid_t pid = 0;
	if (binary >= 0 && len >= 8) {
		memcpy(&first, p, 4);
		memcpy(&keep, p + 4, 4);
		err = socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0 ? errno : 0;
	}
	/* The helper's end lies at or above "first", inherited: the one fd of ours it gets. */
	if (!err && first >= 3 && first < 1u << 20 && (child = fcntl(sp[1], F_DUPFD, (int)first)) < 0)
		err = errno;
	if (!err) {
		char exe[32], sockstr[16], firststr[16];
		char *av[] = { "brig-helper", "init", sockstr, firststr, keep ? (char *)p + 8 : NULL, NULL };
		char *env[] = { NULL };
		snprintf(exe, sizeof exe, "/proc/self/fd/%d", binary);
		snprintf(sockstr, sizeof sockstr, "%d", child);
		snprintf(firststr, sizeof firststr, "%u", first);
		err = spawn_clean(&pid, exe, av, env);
	}
	if (child >= 0)
		close(child);
	if (sp[1] >= 0)
		close(sp[1]);
	if (binary >= 0)
		close(binary);
	if (!err)
		sv.helper = pid;
	answer(S_SPAWNED, err ? -err : pid, err ? -1 : sp[0]);
	if (sp[0] >= 0)
		close(sp[0]);
}

/* The address of the AF_UNIX socket at path (len bytes, NUL-terminated): 0 or an errno. A
 * path too long for sun_path goes through its directory, opened as *dir (closed by the caller). */
static int unix_address(char *path, uint32_t len, struct sockaddr_un *sa, int *dir)
{
	char *slash = strrchr(path, '/');
	if (len == 0 || strlen(path) != len)
		return EINVAL;
	if (len < sizeof sa->sun_path) {
		memcpy(sa->sun_path, path, len);
		return 0;
	}
	if (!slash || slash == path)
		return ENAMETOOLONG;
	*slash = '\0';
	*dir = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	*slash = '/';
	if (*dir < 0)
		return errno;
	if (snprintf(sa->sun_path, sizeof sa->sun_path, "/proc/self/fd/%d%s", *dir, slash) >= (int)sizeof sa->sun_path)
		return ENAMETOOLONG;
	return 0;
}

/* CONNECT (--console-socket's path; a relative one against our working directory, the
 * caller's): connect an AF_UNIX stream socket to it from this process, so the engine listening
 * there (conmon, a shim) has the caller as its peer (SO_PEERCRED), and answer CONNECTED with
 * 0 and the socket, or -errno and no fd. A path too long for sun_path goes through its
 * directory (/proc/self/fd/N/NAME), as brig.syscalls.Libc.connectUnix does. */
static void connect_socket(char *path, uint32_t len)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int dir = -1, s = -1, err = unix_address(path, len, &sa, &dir);
	if (!err && (s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		err = errno;
	while (!err && connect(s, (struct sockaddr *)&sa, sizeof sa) < 0)
		if (errno != EINTR)
			err = errno;
	answer(S_CONNECTED, -err, err ? -1 : s);
	if (s >= 0)
		close(s);
	if (dir >= 0)
		close(dir);
}

/* NOTIFY (the host's NOTIFY_SOCKET: a path or "@" and an abstract name; NUL; a message): send
 * the message there from this process, the pid the caller started (systemd's NotifyAccess=main
 * takes notifications from the main pid only, and resolves the path in the caller's mounts),
 * then BARRIER=1 with a pipe's write end, and wait until the receiver closes it (at most 30 s,
 * as runc): systemd must read the message before its sender exits, or it cannot tell whose it
 * is. Answer NOTIFIED with 0 or -errno. */
static void notify_host(char *p, uint32_t len)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	socklen_t salen = sizeof sa;
	uint32_t n = (uint32_t)strnlen(p, len);
	int dir = -1, s = -1, pipefd[2] = { -1, -1 }, err = 0;
	if (n == len || n < 2) {
		err = EINVAL;
	} else if (p[0] == '@' && n > sizeof sa.sun_path) {
		err = ENAMETOOLONG;
	} else if (p[0] == '@') { /* abstract: a NUL, then the name, as long as it is */
		memcpy(sa.sun_path + 1, p + 1, n - 1);
		salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
	} else {
		err = unix_address(p, n, &sa, &dir);
	}
	if (!err && (s = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0)
		err = errno;
	if (!err && sendto(s, p + n + 1, len - n - 1, MSG_NOSIGNAL, (struct sockaddr *)&sa, salen) < 0)
		err = errno;
	if (!err && pipe2(pipefd, O_CLOEXEC) < 0)
		err = errno;
	if (!err) {
		char cbuf[CMSG_SPACE(sizeof(int))] = { 0 };
		struct iovec iov = { "BARRIER=1", 9 };
		struct msghdr m = { .msg_name = &sa, .msg_namelen = salen, .msg_iov = &iov, .msg_iovlen = 1,
				    .msg_control = cbuf, .msg_controllen = sizeof cbuf };
		struct cmsghdr *c = CMSG_FIRSTHDR(&m);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &pipefd[1], sizeof(int));
		if (sendmsg(s, &m, MSG_NOSIGNAL) < 0)
			err = errno;
		close(pipefd[1]);
		struct pollfd w = { pipefd[0], POLLIN, 0 };
		while (!err && poll(&w, 1, 30000) < 0 && errno == EINTR)
			; /* EOF: read; nothing in 30 s: a receiver without barriers, as runc lets it be */
		close(pipefd[0]);
	}
	int32_t answer = -err;
	uint32_t frame[3] = { S_NOTIFIED, 4, (uint32_t)answer };
	send_all(sv.ctl, frame, sizeof frame);
	if (s >= 0)
		close(s);
	if (dir >= 0)
		close(dir);
}

/* A served call's frames besides the supervisor's messages: the server's output for our fds 1
 * and 2, a request for our stdin, the command's exit status, a helper to start, a console
 * socket to connect. 0 if the frame is none of these. */
static int served_frame(uint32_t type, char *p, uint32_t len, int fd)
{
	if (type == S_OUT || type == S_ERR) {
		send_all(type == S_OUT ? 1 : 2, p, len); /* a closed stdout is the caller's business */
	} else if (type == S_IN_WANT && len == 4) {
		uint32_t want;
		memcpy(&want, p, 4);
		char *in = malloc(want ? want : 1);
		ssize_t n = -1;
		while (in && (n = read(0, in, want)) < 0 && errno == EINTR)
			;
		uint32_t hdr[2] = { S_IN, n > 0 ? (uint32_t)n : 0 };
		send_all(sv.ctl, hdr, sizeof hdr);
		if (n > 0)
			send_all(sv.ctl, in, (size_t)n);
		free(in);
	} else if (type == S_EXIT && len == 4 && sv.jvm_done) {
		sv.torn = 1; /* the clean-up's status: the caller gets the container's */
	} else if (type == S_EXIT && len == 4) {
		uint32_t status;
		memcpy(&status, p, 4);
		sv.jvm_status = (int)(status & 0xff) << 8;
		sv.jvm_done = 1;
	} else if (type == S_SPAWN) {
		spawn_helper(fd, p, len);
		return 1;
	} else if (type == S_CONNECT) {
		connect_socket(p, len);
	} else {
		return 0;
	}
	if (fd >= 0)
		close(fd);
	return 1;
}

/* The JVM's messages (u32 type, u32 length, payload; a terminal's fd alongside). The kernel
 * adds the sender's credentials (SO_PASSCRED): anything not sent by our JVM ends the talk. */
static void read_ctl(void)
{
	while (sv.ctl >= 0) {
		uint32_t hdr[2];
		char cbuf[CMSG_SPACE(sizeof(struct ucred)) + CMSG_SPACE(sizeof(int))];
		struct iovec iov = { hdr, sizeof hdr };
		struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
				    .msg_controllen = sizeof cbuf };
		ssize_t n = recvmsg(sv.ctl, &m, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		int fd = -1, ours = 0;
		for (struct cmsghdr *c = n > 0 ? CMSG_FIRSTHDR(&m) : NULL; c; c = CMSG_NXTHDR(&m, c)) {
			if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
				memcpy(&fd, CMSG_DATA(c), sizeof fd);
			if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS) {
				struct ucred cr;
				memcpy(&cr, CMSG_DATA(c), sizeof cr);
				/* Served: the server's pid, as its first frame came (SO_PEERCRED names
				 * whoever made its listening socket, the client that started it). */
				if (sv.served && !sv.jvm && cr.uid == geteuid())
					sv.jvm = cr.pid;
				ours = cr.pid == sv.jvm;
			}
		}
		char *p = NULL;
		if (n <= 0 || !ours ||
		    (n < (ssize_t)sizeof hdr && read_full(sv.ctl, (char *)hdr + n, sizeof hdr - (size_t)n) < 0) ||
		    hdr[1] > (4u << 20) || !(p = calloc(hdr[1] + 1, 1)) || read_full(sv.ctl, p, hdr[1]) < 0) {
			if (n > 0 && !ours)
				dprintf(2, "brig: a message to the supervisor did not come from brig's JVM: ignored\n");
			if (fd >= 0)
				close(fd);
			stop_reading();
			free(p);
			if (sv.served && !sv.jvm_done) {
				/* The log's name is per installation (server-HASH.log): name its directory. */
				dprintf(2, "brig: the brig server ended the call before it finished (it may have done part of it); "
					   "see `brig server status` and its log in %s\n",
					geteuid() ? "/run/user/UID/brig" : "/run/brig/.server");
				sv.jvm_done = 1;
				sv.jvm_status = 125 << 8;
			}
			return;
		}
		if (sv.served && served_frame(hdr[0], p, hdr[1], fd)) {
			free(p);
			continue;
		}
		if (hdr[0] == SV_FORWARD && !sv.container) {
			sv.forward = 1;
			for (int k = 0; k < sv.nheld; k++)
				deliver(sv.held[k]);
		} else if (hdr[0] == SV_STARTING && !sv.container && !sv.undo) {
			sv.undo = p;
			sv.undo_len = hdr[1];
			continue;
		} else if (hdr[0] == SV_REMOVE && hdr[1] > 16 && !sv.container && rm.fd < 0) {
			plan_removal(p, hdr[1]);
			continue;
		} else if (hdr[0] == SV_FORGET) {
			free(sv.undo);
			sv.undo = NULL;
			forget_removal();
		} else if (hdr[0] == SV_NOTIFY) {
			notify_host(p, hdr[1]);
		} else if (hdr[0] == SV_CONTAINER && hdr[1] >= 4 && !sv.container) {
			memcpy(&sv.container, p, 4);
			sv.report = p + 4;
			sv.report_len = hdr[1] - 4;
			sv.master = fd;
			/* sv.undo stays: the container is removed by that delete once it has exited. */
			for (int k = 0; k < sv.nheld; k++)
				deliver(sv.held[k]);
			continue;
		} else if (fd >= 0) {
			close(fd);
		}
		free(p);
	}
}

static void reap(void)
{
	int st;
	pid_t w;
	read_ctl(); /* a container named just before the JVM exited is known before it is reaped */
	/* Until a container is handed over, only the JVM: a process `exec -d` started that has
	 * exited already stays a zombie here, and goes to the caller's subreaper when this process
	 * exits, which reads its status (conmon does: podman exec's exit code was lost otherwise). */
	pid_t which = sv.container ? -1 : sv.served ? sv.helper : sv.jvm;
	while (which && (w = waitpid(which, &st, WNOHANG)) > 0) {
		if (w == sv.helper)
			sv.helper = which = 0; /* served: it has cloned the container and exited */
		if (w == sv.jvm && !sv.served) {
			sv.jvm_done = 1;
			sv.jvm_status = st;
		}
		if (sv.container && w == sv.container) {
			sv.container_done = 1;
			sv.container_status = st;
		}
	}
}

static int status_code(int st)
{
	return WIFSIGNALED(st) ? 128 + WTERMSIG(st) : WEXITSTATUS(st);
}

/* Moves fd to a high number, close-on-exec: out of any range the caller could ask a
 * container to inherit, and never inherited by the JVM unless said so. */
static int high_fd(int fd, int min)
{
	int h = fcntl(fd, F_DUPFD_CLOEXEC, min);
	if (h < 0)
		return fd; /* no room up there: it stays close-on-exec where it is */
	close(fd);
	return h;
}

/* BRIG_FDS: the fds from 3 up the caller really passed, e.g. "3,4"; read before this process
 * opens anything of its own. */
static int note_inherited_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	if (!d)
		return -1;
	size_t size = 64, used = 0;
	char *list = calloc(size, 1);
	struct dirent *e;
	while (list && (e = readdir(d))) {
		int fd = atoi(e->d_name);
		if (e->d_name[0] < '0' || e->d_name[0] > '9' || fd < 3 || fd == dirfd(d))
			continue;
		if (used + 16 > size && !(list = realloc(list, size *= 2)))
			break;
		used += (size_t)sprintf(list + used, "%s%d", used ? "," : "", fd);
	}
	closedir(d);
	if (!list)
		return -1;
	setenv("BRIG_FDS", list, 1);
	free(list);
	return 0;
}

/* Served run: the server kept the call open while the container ran (brig.server.CallerLink)
 * and removes it on the same connection when told, with no second client and handshake
 * (measured: the served delete through bin/brig took 4.6 ms of a 13.6 ms run). 0 if the
 * server is gone: then bin/brig does it. */
static int teardown(void)
{
	uint32_t hdr[2] = { S_TEARDOWN, 0 };
	if (sv.ctl < 0 || send_all(sv.ctl, hdr, sizeof hdr) < 0)
		return 0;
	while (sv.ctl >= 0 && !sv.torn) {
		struct pollfd p = { sv.ctl, POLLIN, 0 };
		if (poll(&p, 1, -1) > 0)
			read_ctl();
	}
	return sv.torn;
}

static int launch(int argc, char **argv)
{
	sigset_t all, none;
	int sp[2], one = 1;
	char fdstr[16];
	extern char **environ;

	/* "launch --server FD -- ARGS": ARGS are the caller's, for ps to show whose call this is. */
	int server = argc >= 4 && !strcmp(argv[2], "--server") && (argc == 4 || !strcmp(argv[4], "--")) ? atoi(argv[3]) : -1;
	if (argc < 3 || (server < 0 && !strcmp(argv[2], "--server"))) {
		dprintf(2, "usage: brig-helper launch JAVA ARGS... | launch --server FD\n");
		return 125;
	}
	/* Closed stdio becomes /dev/null before anything is opened: else the first fd this
	 * process or the JVM opens would take its place and reach the container as its stdio. */
	for (int fd = 0; fd < 3; fd++) {
		if (fcntl(fd, F_GETFD) < 0 && open("/dev/null", O_RDWR) != fd) {
			dprintf(2, "brig: launch: /dev/null: %s\n", strerror(errno));
			return 125;
		}
	}
	/* Served, bin/brig noted them before it opened anything (and sent them to the server). */
	if (server < 0 && note_inherited_fds() < 0) {
		dprintf(2, "brig: launch: /proc/self/fd: %s\n", strerror(errno));
		return 125;
	}
	/* bin/brig beside libexec/brig-helper, which runs the clean-up. */
	ssize_t len = readlink("/proc/self/exe", sv.brig, sizeof sv.brig - 16);
	char *slash = len > 0 ? (sv.brig[len] = 0, strrchr(sv.brig, '/')) : NULL;
	if (slash)
		*slash = 0;
	slash = slash ? strrchr(sv.brig, '/') : NULL;
	if (!slash) {
		dprintf(2, "brig: launch: cannot find brig's home from /proc/self/exe\n");
		return 125;
	}
	strcpy(slash, "/bin/brig");
	/* It holds no secrets, but a container sharing the host's pid namespace must not open
	 * this binary through /proc/PID/exe to overwrite it (CVE-2019-5736). */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
	sigfillset(&all);
	sigemptyset(&none);
	sigprocmask(SIG_BLOCK, &all, NULL);
	/* High, but not at the top of a limit engines raise to a million: the fd table (here and
	 * in the JVM) grows to hold the highest fd. */
	struct rlimit nofile;
	int high = getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur > 128 ? (int)(nofile.rlim_cur - 64) : 3;
	if (high > 1000)
		high = 1000;
	int sfd = signalfd(-1, &all, SFD_CLOEXEC);
	if (server >= 0) {
		/* The server is the peer; the kernel names the sender of each frame (SO_PASSCRED,
		 * set by bin/brig before its first frame was sent). */
		if (sfd < 0 || fcntl(server, F_SETFD, FD_CLOEXEC) < 0) {
			dprintf(2, "brig: launch: %s\n", strerror(errno));
			return 125;
		}
		sv.served = 1;
		sv.ctl = high_fd(server, high);
		sfd = high_fd(sfd, high);
		goto supervise;
	}
	if (sfd < 0 || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0 ||
	    setsockopt(sp[0], SOL_SOCKET, SO_PASSCRED, &one, sizeof one) < 0) {
		dprintf(2, "brig: launch: %s\n", strerror(errno));
		return 125;
	}
	sfd = high_fd(sfd, high);
	sp[0] = high_fd(sp[0], high);
	sp[1] = high_fd(sp[1], high);
	/* The JVM's end is the one fd it inherits from here; it makes it close-on-exec itself
	 * (brig.cli.Supervisor), so nothing the JVM starts inherits it. */
	if (fcntl(sp[1], F_SETFD, 0) < 0) {
		dprintf(2, "brig: launch: %s\n", strerror(errno));
		return 125;
	}
	snprintf(fdstr, sizeof fdstr, "%d", sp[1]);
	setenv("BRIG_SUPERVISOR", fdstr, 1);
	int err = spawn_clean(&sv.jvm, argv[2], argv + 2, environ);
	if (err) {
		dprintf(2, "brig: cannot start %s: %s\n", argv[2], strerror(err));
		return 125;
	}
	close(sp[1]);
	sv.ctl = sp[0];

supervise:;
	struct termios saved;
	int raw = 0, in_open = 0, out_open = 0, copying = 0;
	for (;;) {
		if (sv.master >= 0 && !copying) {
			/* A terminal came with the container: copy it, the caller's tty in raw mode. */
			copying = in_open = out_open = 1;
			if (tcgetattr(0, &saved) == 0) {
				struct termios t = saved;
				cfmakeraw(&t);
				tcsetattr(0, TCSANOW, &t);
				raw = 1;
			}
			resize(0, sv.master);
		}
		if (sv.container_done)
			break;
		if (!sv.container && sv.jvm_done && sv.ctl < 0) {
			if (sv.undo) {
				kill_children();
				undo_start();
			}
			/* A helper the server started ahead and never gave a plan ends when the server
			 * lets go of its socket: reaped here, not left to the caller's subreaper. */
			if (sv.served && sv.helper > 0)
				waitpid(sv.helper, NULL, 0);
			monitor_leave(); /* a monitor whose container never ran */
			return status_code(sv.jvm_status);
		}
		struct pollfd p[4] = { { sfd, POLLIN, 0 }, { sv.ctl, POLLIN, 0 },
				       { out_open ? sv.master : -1, POLLIN, 0 }, { in_open && out_open ? 0 : -1, POLLIN, 0 } };
		if (poll(p, 4, -1) < 0)
			continue;
		if (p[1].revents) {
			read_ctl();
			/* Served, no JVM exits after naming the container: one that has already
			 * exited sent its SIGCHLD before it was named. */
			if (sv.served)
				reap();
		}
		if (p[0].revents & POLLIN) {
			struct signalfd_siginfo si;
			if (read(sfd, &si, sizeof si) == sizeof si) {
				if (si.ssi_signo == SIGCHLD)
					reap();
				else
					deliver((int)si.ssi_signo);
			}
		}
		if (p[2].revents & (POLLIN | POLLHUP | POLLERR))
			copy(sv.master, 1, &out_open);
		if (p[3].revents & (POLLIN | POLLHUP | POLLERR))
			copy(0, sv.master, &in_open);
	}
	/* Drain what the container wrote, without waiting on a terminal held open by something
	 * that outlived it. */
	while (out_open) {
		struct pollfd p = { sv.master, POLLIN, 0 };
		if (poll(&p, 1, 100) <= 0)
			break;
		copy(sv.master, 1, &out_open);
	}
	if (raw)
		tcsetattr(0, TCSANOW, &saved);
	monitor_exited(status_code(sv.container_status), report_oom());
	if (sv.undo && remove_planned()) {
		/* Served: the server's call ends on this, unanswered (nothing to wait for). */
		uint32_t done[3] = { S_TEARDOWN, 4, 1 };
		if (sv.served)
			send_all(sv.ctl, done, sizeof done);
	} else if (sv.undo && !(sv.served && teardown())) {
		undo_start();
	}
	monitor_leave();
	return status_code(sv.container_status);
}

/* ---- monitor: the supervisor of a detached container (brig container run -d) ----
 *
 * brig-helper monitor --log FILE --exit FILE [--cgroup DIR]... PROGRAM ARGS...
 *
 * Started by the brig that runs the container detached, with fd 2 a socket back to it. It
 * forks (the child leaves the caller's process tree and can lead a session: posix_spawn made
 * it a process group leader, which setsid refuses), starts a session of its own, moves into
 * the cgroups Java named (Brig's own /brig.monitor, never the container's), makes the log its
 * stdout and stderr (stdin is /dev/null, as Java spawned it) and execs PROGRAM: bin/brig
 * --no-server ... container monitored NAME, whose cold path execs "brig-helper launch" in
 * this same process. So the monitor IS launch(), with nothing added but its front: the
 * container's parent and subreaper, its signal relay, its terminal's copy (to the log), the
 * OOM report (to the log) and the clean-up afterwards. Why not a loop of its own: one
 * supervisor, tested by every foreground run. Cost: ~1 MB RSS, no JVM stays (measured in
 * docs/notes/2026-12-01-issue-12-detach.md).
 *
 * Without a terminal the container's stdout and stderr are the log file itself (inherited):
 * nothing to copy, and the output is kept even if this process is killed. The channel back
 * to brig (BRIG_DETACH_REPORT) reaches the JVM that starts the container, which reports
 * there whether it runs or why not. BRIG_MONITOR_EXIT names the exit file that
 * monitor_exited() writes once the container has exited, before the clean-up. */
static int monitor(int argc, char **argv)
{
	const char *log = NULL, *exitf = NULL;
	int k = 2;
	for (; k + 1 < argc && !strncmp(argv[k], "--", 2); k += 2) {
		if (!strcmp(argv[k], "--log"))
			log = argv[k + 1];
		else if (!strcmp(argv[k], "--exit"))
			exitf = argv[k + 1];
		else if (strcmp(argv[k], "--cgroup"))
			break;
	}
	if (!log || !exitf || k >= argc || argv[k][0] != '/') {
		dprintf(2, "usage: brig-helper monitor --log FILE --exit FILE [--cgroup DIR]... PROGRAM ARGS...\n");
		return 125;
	}
	pid_t pid = fork();
	if (pid < 0) {
		dprintf(2, "brig: monitor: fork: %s\n", strerror(errno));
		return 125;
	}
	if (pid > 0)
		return 0;
	setsid();
	for (int j = 2; j < k; j += 2) {
		char path[PATH_MAX];
		if (strcmp(argv[j], "--cgroup"))
			continue;
		snprintf(path, sizeof path, "%s/cgroup.procs", argv[j + 1]);
		int fd = open(path, O_WRONLY | O_CLOEXEC);
		if (fd < 0 || write(fd, "0", 1) != 1) { /* "0": the writer itself */
			dprintf(2, "brig: monitor: cannot move into %s: %s\n", path, strerror(errno));
			_exit(125);
		}
		close(fd);
	}
	char num[16];
	int report = fcntl(2, F_DUPFD, 3), out = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (report < 0 || out < 0 || dup2(out, 1) < 0 || dup2(out, 2) < 0) {
		dprintf(report < 0 ? 2 : report, "brig: monitor: %s: %s\n", log, strerror(errno));
		_exit(125);
	}
	close(out);
	snprintf(num, sizeof num, "%d", report);
	setenv("BRIG_DETACH_REPORT", num, 1);
	setenv("BRIG_MONITOR_EXIT", exitf, 1);
	/* The cgroups it joined, for monitor_leave(): "DIR\nDIR...". */
	size_t size = 1;
	for (int j = 2; j < k; j += 2)
		if (!strcmp(argv[j], "--cgroup"))
			size += strlen(argv[j + 1]) + 1;
	char *dirs = calloc(size, 1);
	for (int j = 2; dirs && j < k; j += 2)
		if (!strcmp(argv[j], "--cgroup"))
			strcat(strcat(dirs, argv[j + 1]), "\n");
	if (dirs)
		setenv("BRIG_MONITOR_CGROUPS", dirs, 1);
	execv(argv[k], argv + k);
	dprintf(report, "brig: monitor: cannot run %s: %s\n", argv[k], strerror(errno));
	_exit(125);
}

/* In a monitor (BRIG_MONITOR_EXIT set), once its container has exited: the exit file that
 * `container wait`, `ps -a` and `logs -f` read, one JSON line, written whole (a temporary
 * file renamed) before the clean-up, which may remove it with the bundle (--rm). */
static void monitor_exited(int status, const char *oom)
{
	const char *file = getenv("BRIG_MONITOR_EXIT");
	char tmp[PATH_MAX], when[32];
	struct timespec ts;
	struct tm tm;
	if (!file)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(tmp, sizeof tmp, "%s.tmp", file);
	FILE *f = fopen(tmp, "we");
	if (f) {
		fprintf(f, "{\"status\":%d,\"oomKilled\":%s,\"finishedAt\":\"%s.%09ldZ\"", status, oom ? "true" : "false",
			when, ts.tv_nsec);
		if (oom) { /* Java's words; JSON-escaped */
			fputs(",\"message\":\"", f);
			for (const char *c = oom; *c; c++) {
				if (*c == '"' || *c == '\\')
					fprintf(f, "\\%c", *c);
				else if ((unsigned char)*c < 0x20)
					fprintf(f, "\\u%04x", *c);
				else
					fputc(*c, f);
			}
			fputc('"', f);
		}
		fputs("}\n", f);
	}
	if (!f || fclose(f) != 0 || rename(tmp, file) < 0)
		dprintf(2, "brig: monitor: cannot write %s: %s\n", file, strerror(errno));
}

/* In a monitor, at its very end: back to the root cgroup of each hierarchy it joined, and
 * the monitors' cgroup removed if no other monitor is in it (EBUSY: one is), as the server
 * does with its own: a process cannot remove the cgroup it is in. */
static void monitor_leave(void)
{
	const char *dirs = getenv("BRIG_MONITOR_CGROUPS");
	for (const char *d = dirs; d && *d;) {
		const char *nl = strchr(d, '\n');
		size_t n = nl ? (size_t)(nl - d) : strlen(d);
		char dir[PATH_MAX], procs[PATH_MAX + 16];
		if (n > 0 && n < sizeof dir) {
			memcpy(dir, d, n);
			dir[n] = 0;
			/* DIR is ROOT/brig.monitor/OWN: back to ROOT, then OWN goes, and brig.monitor
			 * if no other monitor has a directory in it (EBUSY, ENOTEMPTY: it stays). A
			 * directory of each monitor's own, so that one leaving never removes the one a
			 * new monitor is about to enter (measured: ENODEV, then ENOSPC for cpuset, when
			 * served `run -d --rm` of short containers overlapped). */
			char *own = strrchr(dir, '/'), *parent = NULL;
			if (own && own != dir) {
				*own = 0;
				parent = strrchr(dir, '/');
				*own = '/';
			}
			if (parent && parent != dir) {
				*parent = 0;
				snprintf(procs, sizeof procs, "%s/cgroup.procs", dir);
				*parent = '/';
				int fd = open(procs, O_WRONLY | O_CLOEXEC);
				if (fd >= 0 && write(fd, "0", 1) == 1 && rmdir(dir) == 0) {
					*own = 0;
					rmdir(dir);
					*own = '/';
				}
				if (fd >= 0)
					close(fd);
			}
		}
		d += n + (nl ? 1 : 0);
	}
}

int main(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "launch"))
		return launch(argc, argv);
	if (argc >= 2 && !strcmp(argv[1], "monitor"))
		return monitor(argc, argv);
	if ((argc != 4 && argc != 5) || strcmp(argv[1], "init")) {
		dprintf(2, "brig-helper is started by brig; it is not meant to be run by hand\n");
		return 125;
	}
	sock = atoi(argv[2]);
	/* Fds 0-2 and those for --preserve-fds lie below "first", the control socket at or above
	 * it. Any other fd is one Brig itself inherited, e.g. a host directory: a way out of the
	 * container (CVE-2024-21626). Close them before doing anything. */
	unsigned first = (unsigned)atoi(argv[3]);
	if (first < 3 || sock < (int)first ||
	    (sock > (int)first && syscall(SYS_close_range, first, (unsigned)sock - 1, 0) < 0) ||
	    syscall(SYS_close_range, (unsigned)sock + 1, ~0u, 0) < 0)
		return 125;
	/* KEEP ("3,5"): of the fds from 3 below "first", only these were passed to brig by its
	 * caller; the others are brig's own (its JVM's jar, say) and are closed too. */
	if (argc == 5) {
		unsigned from = 3;
		for (char *p = argv[4]; *p; p += *p == ',') {
			unsigned keep = (unsigned)strtoul(p, &p, 10);
			if (keep < from || keep >= first)
				return 125;
			if (keep > from && syscall(SYS_close_range, from, keep - 1, 0) < 0)
				return 125;
			from = keep + 1;
		}
		if (from < first && syscall(SYS_close_range, from, first - 1, 0) < 0)
			return 125;
	}
	/* Start clean: no signal ignored or blocked is passed on from brig's JVM. */
	sigset_t none;
	sigemptyset(&none);
	for (int sig = 1; sig < NSIG; sig++)
		signal(sig, SIG_DFL);
	sigprocmask(SIG_SETMASK, &none, NULL);
	/* Nothing in the container may read or ptrace this process while it works with host
	 * resources (CVE-2016-9962); execve resets this for the container's program. */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	/* Modes in the plan are exact; the container's umask is a step of its own. */
	umask(0);

	uint32_t type, len, count;
	char *plan = get_frame(&type, &len);
	if (type != FR_PLAN)
		fail("plan", "expected a plan", EPROTO);
	struct step *steps = parse_plan(plan, len, &count);
	open_proc();
	for (cur = 0; cur < (int)count; cur++)
		run(&steps[cur]);
	/* A plan always ends in OP_EXEC; falling off its end is a planning bug. */
	cur = -1;
	fail("plan", "the plan ended without exec", EPROTO);
}
