#include <stdio.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>

#include "err.h"
#include "log.h"
#include "ossl.h"

int
ossl_fail(const char *module, const char *what)
{
	unsigned long e = ERR_peek_error();
	char buf[256];

	if (e != 0 && ERR_GET_REASON(e) == ERR_R_MALLOC_FAILURE) {
		ERR_clear_error();
		return SB_ENOMEM;
	}
	if (e != 0)
		ERR_error_string_n(e, buf, sizeof(buf));
	else
		snprintf(buf, sizeof(buf), "no detail");
	log_err("%s: %s: %s", module, what, buf);
	ERR_clear_error();
	return SB_ECRYPTO;
}

const EVP_MD *
ossl_sha2(int md_nid)
{
	switch (md_nid) {
	case NID_sha256: return EVP_sha256();
	case NID_sha384: return EVP_sha384();
	case NID_sha512: return EVP_sha512();
	}
	return NULL;
}
