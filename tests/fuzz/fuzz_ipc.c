/*
 * fuzz_ipc: the IPC frame parser and the strict field readers over arbitrary
 * bytes. Properties: no crash, no leak, a parsed frame consumes exactly its
 * header plus body, a reader never moves past the body.
 */
#include <stdint.h>
#include <stdlib.h>

#include "lib/err.h"
#include "lib/ipc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ipc_msg m;
	size_t used = 0, off = 0;

	while (off < size && ipc_parse(data + off, size - off, &used, &m) == 0) {
		const uint8_t *p;
		size_t n;
		char s[64];
		uint64_t v64;
		uint32_t v32;
		uint16_t v16;
		uint8_t v8, fixed[32];

		if (used != IPC_HDR_LEN + m.body.len)
			abort();
		/* The type picks a sequence of reads, as the typed decoders do. */
		for (unsigned i = 0; i < 8; i++) {
			int rc;

			switch ((m.type >> (2 * i)) & 3) {
			case 0: rc = ipc_get_str(&m, s, sizeof(s)); break;
			case 1: rc = ipc_get_bytes(&m, &p, &n, 1024); break;
			case 2: rc = ipc_get_u64(&m, &v64) | ipc_get_u32(&m, &v32) |
				ipc_get_u16(&m, &v16) | ipc_get_u8(&m, &v8); break;
			default: rc = ipc_get_fixed(&m, fixed, sizeof(fixed)); break;
			}
			if (m.rpos > m.body.len)
				abort();
			if (rc != 0)
				break;
		}
		(void)ipc_get_end(&m);
		ipc_msg_free(&m);
		off += used;
	}
	return 0;
}
