/* caps — giving up Linux capabilities for good (caps.h). */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/capability.h>

#include "caps.h"

int
caps_drop_bounding(int *kept)
{
	*kept = 0;
	/* PR_CAPBSET_READ fails (EINVAL) past the kernel's last capability. */
	for (unsigned long c = 0; c < 64; c++) {
		int r = prctl(PR_CAPBSET_READ, c, 0, 0, 0);

		if (r < 0)
			break;
		if (r == 0)
			continue;
		if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) == 0)
			continue;
		if (errno != EPERM)
			return -1;
		*kept = 1;
	}
	return 0;
}

int
caps_drop_one(int cap)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3];
	const unsigned i = CAP_TO_INDEX(cap);
	const uint32_t bit = CAP_TO_MASK(cap);

	if (prctl(PR_CAPBSET_DROP, (unsigned long)cap, 0, 0, 0) != 0 && errno != EPERM &&
	    errno != EINVAL)
		return -1;
	if (syscall(SYS_capget, &hdr, d) != 0)
		return -1;
	if (((d[i].effective | d[i].permitted | d[i].inheritable) & bit) == 0)
		return 0;
	d[i].effective &= ~bit;
	d[i].permitted &= ~bit;
	d[i].inheritable &= ~bit;
	return syscall(SYS_capset, &hdr, d) == 0 ? 0 : -1;
}

int
caps_drop_all(int *bounding_kept)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3];

	if (caps_drop_bounding(bounding_kept) != 0)
		return -1;
	/* Emptying the permitted set empties the ambient set with it. */
	memset(d, 0, sizeof(d));
	if (syscall(SYS_capset, &hdr, d) != 0)
		return -1;
	if (syscall(SYS_capget, &hdr, d) != 0)
		return -1;
	for (unsigned i = 0; i < _LINUX_CAPABILITY_U32S_3; i++)
		if (d[i].effective != 0 || d[i].permitted != 0 || d[i].inheritable != 0) {
			errno = EPERM;
			return -1;
		}
	return 0;
}
