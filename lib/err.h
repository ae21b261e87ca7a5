/*
 * err — the project-wide error codes.
 *
 * Every function that can fail returns 0 on success or one of these negative
 * codes. The text for a code comes from sb_strerror() and is safe to show to a
 * user: it never carries a secret. The detail (which file, which line, which
 * share) is logged or put in a message by the code that knows the context.
 *
 * The enum is the one place a code is defined; add new codes at the end of a
 * group and give each one its text in err.c.
 */
#ifndef SB_ERR_H
#define SB_ERR_H

enum sb_err {
	SB_OK = 0,
	SB_ENOMEM = -1,		/* out of memory */
	SB_EINVAL = -2,		/* invalid argument or malformed input */
	SB_EIO = -3,		/* read, write or fsync failed */
	SB_ECONFIG = -4,	/* configuration file is wrong */
	SB_ELIMIT = -5,		/* a configured or built-in bound was exceeded */
	SB_ENOTFOUND = -6,	/* no such object */
	SB_EEXIST = -7,		/* object already exists */
	SB_ECRYPTO = -8,	/* a cryptographic operation failed */
	SB_ESTATE = -9,		/* operation not allowed in the current state */
	SB_EPERM = -10,		/* not permitted */
	SB_EUNSUPPORTED = -11,	/* not supported */

	/* HSM */
	SB_EHSM = -20,		/* the module or token failed; may recover */
	SB_EHSM_NOTOKEN = -21,	/* no token with the configured label */
	SB_EHSM_PIN = -22,	/* the token refused the PIN */
	SB_EHSM_NOLOGIN = -23,	/* not logged in to the token */

	/* Key custody (shares) */
	SB_ESHARE_FORMAT = -30,	  /* not a share: wrong shape or characters */
	SB_ESHARE_CHECKSUM = -31, /* share mistyped: checksum does not match */
	SB_ESHARE_FOREIGN = -32,  /* share belongs to another appliance */
	SB_ESHARE_DUP = -33,	  /* the same share was given twice */
	SB_ESHARE_MIXED = -34,	  /* shares come from different ceremonies */
	SB_ESHARE_STALE = -35,	  /* share of a ceremony since replaced */
	SB_ESHARE_TOOFEW = -36,	  /* fewer shares than the threshold */
	SB_ESHARE_WRONG = -37,	  /* shares combine to the wrong secret */
};

/* Text for a code; never NULL. Unknown codes give "unknown error". */
const char *sb_strerror(int err);

#endif
