/*
 * What an engine (conmon, containerd's shim) does with --console-socket, for ConsoleIT:
 *
 *   console-engine SOCKET
 *       Listens on SOCKET (AF_UNIX, stream), accepts one connection, receives one message
 *       carrying a descriptor (SCM_RIGHTS), and writes "received NAME fd-is-a-tty" (or
 *       "... not-a-tty") to stderr, NAME being the message's bytes. Then relays: the
 *       descriptor's output to stdout, stdin to the descriptor, until the descriptor ends
 *       (EIO once every slave is closed).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static int copy(int from, int to)
{
	char buf[4096];
	ssize_t n = read(from, buf, sizeof buf);
	if (n <= 0)
		return n < 0 && errno == EINTR ? 1 : 0;
	for (ssize_t off = 0; off < n;) {
		ssize_t w = write(to, buf + off, (size_t)(n - off));
		if (w < 0)
			return 0;
		off += w;
	}
	return 1;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: console-engine SOCKET\n");
		return 2;
	}
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	snprintf(addr.sun_path, sizeof addr.sun_path, "%s", argv[1]);
	int l = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (l < 0 || bind(l, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(l, 1) < 0) {
		perror("console-engine: listen");
		return 1;
	}
	int c = accept4(l, NULL, NULL, SOCK_CLOEXEC);
	if (c < 0) {
		perror("console-engine: accept");
		return 1;
	}
	char name[4096] = { 0 }, cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { name, sizeof name - 1 };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf };
	ssize_t n = recvmsg(c, &m, MSG_CMSG_CLOEXEC);
	struct cmsghdr *cm = n >= 0 ? CMSG_FIRSTHDR(&m) : NULL;
	if (!cm || cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS) {
		fprintf(stderr, "console-engine: no descriptor received\n");
		return 1;
	}
	int fd;
	memcpy(&fd, CMSG_DATA(cm), sizeof fd);
	fprintf(stderr, "received %s %s\n", name, isatty(fd) ? "fd-is-a-tty" : "not-a-tty");
	close(c);
	close(l);
	int in_open = 1;
	for (;;) {
		struct pollfd p[2] = { { fd, POLLIN, 0 }, { in_open ? 0 : -1, POLLIN, 0 } };
		if (poll(p, 2, -1) < 0)
			continue;
		if (p[0].revents && !copy(fd, 1))
			return 0;
		if (p[1].revents && !copy(0, fd))
			in_open = 0;
	}
}
