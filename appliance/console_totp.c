/*
 * console_totp — an administrator's own one-time code (TOTP) for the
 * console login: sealadm totp enrol|confirm|reset|recover and the menu's
 * last item. The secret is made and kept by the monitor (sealed by the
 * HSM); the console shows it once, for the admin's authenticator, and
 * never writes it down. A lost one is reset by another secadmin, or
 * recovered with the admin's passphrase and the quorum's shares.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "../daemon/client/admsock.h"
#include "../daemon/msg.h"
#include "../lib/secret.h"
#include "sealadm.h"

int
console_totp(const char *sock, const char *session, uint16_t type, const char *otp,
    json_t **j)
{
	struct adm_otp v;
	struct ipc_msg m;
	int st = -1;

	*j = NULL;
	memset(&v, 0, sizeof(v));
	snprintf(v.otp, sizeof(v.otp), "%s", otp);
	if (adm_otp_enc(&m, type, 1, &v) == 0) {
		st = admsock_call(sock, session, &m, j);
		ipc_msg_free(&m);
	} else
		fprintf(stderr, "sealadm: a one-time code is 6 to 8 digits\n");
	secret_wipe(&v, sizeof(v));
	return st;
}

void
console_totp_show(json_t *j)
{
	const char *uri = json_string_value(json_object_get(j, "otpauth_uri"));
	const char *sec = uri ? strstr(uri, "secret=") : NULL;

	printf("Enter this secret into your authenticator (shown once):\n  %.*s\n"
	    "or as a URI:\n  %s\n"
	    "Then confirm it with the first code it shows. Until then nothing changes:\n"
	    "a code already in force stays in force.\n", sec ? (int)strcspn(sec + 7, "&") : 1, sec ? sec + 7 : "?",
	    uri ? uri : "?");
}

int
console_totp_reset(const char *sock, const char *session, const char *user, json_t **j)
{
	struct adm_user v;
	struct ipc_msg m;
	int st = -1;

	*j = NULL;
	memset(&v, 0, sizeof(v));
	snprintf(v.user, sizeof(v.user), "%s", user);
	if (adm_user_enc(&m, ADM_TOTP_RESET, 1, &v) == 0) {
		st = admsock_call(sock, session, &m, j);
		ipc_msg_free(&m);
	} else
		fprintf(stderr, "sealadm: a username is a-z, then up to 31 of a-z 0-9 _ -\n");
	return st;
}

int
console_totp_recover(const char *sock, const char *user, const char *pass,
    const char *new_pass, const struct adm_backup *shares, json_t **j)
{
	struct adm_totp_recover *v = secret_alloc(sizeof(*v));
	struct ipc_msg m;
	int st = -1;

	*j = NULL;
	if (v == NULL)
		return -1;
	snprintf(v->user, sizeof(v->user), "%s", user);
	snprintf(v->pass, sizeof(v->pass), "%s", pass);
	snprintf(v->new_pass, sizeof(v->new_pass), "%s", new_pass);
	v->shares = *shares;
	if (adm_totp_recover_enc(&m, 1, v) == 0) {
		st = admsock_call(sock, "", &m, j);
		ipc_msg_free(&m);
	} else
		fprintf(stderr, "sealadm: a recovery takes a username and 1 to %d shares\n",
		    MSG_BACKUP_SHARES_MAX);
	secret_free(&v);
	return st;
}

void
console_totp_recovered(json_t *j)
{
	printf("your one-time code is removed and your passphrase replaced (ledgered, entry\n"
	    "%lld): log in with the new passphrase alone, then set up a new code at once\n"
	    "(\"Set up my one-time code\")\n",
	    (long long)json_integer_value(json_object_get(j, "seq")));
}

/* sealadm totp recover --user NAME --passphrase-fd N --new-passphrase-fd M
 * [--share-file F]... */
static int
totp_recover(const struct opts *o, const struct config *cfg)
{
	char *pass = secret_alloc(MSG_PASS_MAX + 1), *new_pass = secret_alloc(MSG_PASS_MAX + 1);
	struct adm_backup *sh = secret_alloc(sizeof(*sh));
	json_t *j = NULL;
	int rc = 1;

	if (pass == NULL || new_pass == NULL || sh == NULL)
		goto out;
	if (o->user == NULL || o->pass_fd == NULL || o->new_pass_fd == NULL) {
		fprintf(stderr, "sealadm: totp recover needs --user NAME, --passphrase-fd N and "
		    "--new-passphrase-fd M\n");
		rc = 2;
		goto out;
	}
	if (read_fd_line(o->pass_fd, "--passphrase-fd", pass, MSG_PASS_MAX + 1) != 0 ||
	    read_fd_line(o->new_pass_fd, "--new-passphrase-fd", new_pass, MSG_PASS_MAX + 1) != 0) {
		rc = 2;
		goto out;
	}
	if (console_gather_shares(o, cfg != NULL ? cfg->quorum.threshold : 2,
	    "recovery of a one-time code", sh) != 0)
		goto out;
	if (console_totp_recover(o->socket, o->user, pass, new_pass, sh, &j) == 200) {
		console_totp_recovered(j);
		rc = 0;
	} else
		(void)console_refusal(j);
out:
	json_decref(j);
	secret_free(&sh);
	secret_free(&new_pass);
	secret_free(&pass);
	return rc;
}

int
cmd_totp(const struct opts *o, const struct config *cfg, const char *verb)
{
	int confirm = strcmp(verb, "confirm") == 0, st, rc = 1;
	char otp[MSG_OTP_MAX] = "";
	json_t *j = NULL;

	if (strcmp(verb, "recover") == 0)
		return totp_recover(o, cfg);
	if (strcmp(verb, "reset") == 0) {
		if (o->user == NULL) {
			fprintf(stderr, "sealadm: totp reset needs --user NAME\n");
			return 2;
		}
		if ((st = console_totp_reset(o->socket, o->session, o->user, &j)) == 200) {
			printf("the one-time code of %s is removed: their logins ask for none until "
			    "they set one up again\n", o->user);
			rc = 0;
		} else
			(void)console_refusal(j);
		json_decref(j);
		return rc;
	}

	if (confirm && o->otp_fd == NULL) {
		fprintf(stderr, "sealadm: totp confirm needs --otp-fd N (the first code)\n");
		return 2;
	}
	if (o->otp_fd != NULL && read_fd_line(o->otp_fd, "--otp-fd", otp, sizeof(otp)) != 0)
		return 2;
	st = console_totp(o->socket, o->session, confirm ? ADM_TOTP_CONFIRM : ADM_TOTP_ENROL,
	    otp, &j);
	secret_wipe(otp, sizeof(otp));
	if (st == 200) {
		if (confirm)
			printf("one-time code confirmed: your logins now ask for it\n");
		else
			console_totp_show(j);
		rc = 0;
	} else
		(void)console_refusal(j);
	json_decref(j);
	return rc;
}
