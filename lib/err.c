#include "err.h"

const char *
sb_strerror(int err)
{
	switch (err) {
	case SB_OK:		return "success";
	case SB_ENOMEM:		return "out of memory";
	case SB_EINVAL:		return "invalid argument or malformed input";
	case SB_EIO:		return "input/output error";
	case SB_ECONFIG:	return "configuration error";
	case SB_ELIMIT:		return "limit exceeded";
	case SB_ENOTFOUND:	return "not found";
	case SB_EEXIST:		return "already exists";
	case SB_ECRYPTO:	return "cryptographic operation failed";
	case SB_ESTATE:		return "not allowed in the current state";
	case SB_EPERM:		return "not permitted";
	case SB_EUNSUPPORTED:	return "not supported";
	case SB_EHSM:		return "HSM unavailable";
	case SB_EHSM_NOTOKEN:	return "HSM token not found";
	case SB_EHSM_PIN:	return "HSM token refused the PIN";
	case SB_EHSM_NOLOGIN:	return "not logged in to the HSM token";
	case SB_ESHARE_FORMAT:	return "not a share: wrong format";
	case SB_ESHARE_CHECKSUM: return "share mistyped: checksum does not match";
	case SB_ESHARE_FOREIGN:	return "share belongs to another appliance";
	case SB_ESHARE_DUP:	return "the same share was entered twice";
	case SB_ESHARE_MIXED:	return "shares come from different ceremonies";
	case SB_ESHARE_STALE:	return "share is from a ceremony that has since been replaced";
	case SB_ESHARE_TOOFEW:	return "fewer shares than the threshold";
	case SB_ESHARE_WRONG:	return "shares do not combine to this appliance's secret";
	}
	return "unknown error";
}
