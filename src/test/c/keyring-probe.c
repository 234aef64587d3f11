/*
 * keyring-probe: prints the caller's session keyring as "SERIAL DESCRIPTION" (the description
 * as keyctl(KEYCTL_DESCRIBE) gives it: "keyring;UID;GID;PERM;NAME"), without making one.
 * For ExecSettingsIT: `exec` joins the container's session keyring (busybox has no keyctl).
 * Built static by the test and copied into the busybox rootfs.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/keyctl.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(void)
{
	char desc[512];
	long id = syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0);
	if (id < 0) {
		printf("none %s\n", strerrorname_np(errno));
		return 0;
	}
	long n = syscall(SYS_keyctl, KEYCTL_DESCRIBE, id, desc, sizeof desc);
	if (n < 0)
		snprintf(desc, sizeof desc, "(%s)", strerrorname_np(errno));
	printf("%ld %s\n", id, desc);
	return 0;
}
