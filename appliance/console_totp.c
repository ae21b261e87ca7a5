/*
 * console_totp — an administrator's own one-time code (TOTP) for the
 * console login: sealadm totp enrol|confirm and the menu's last item. The
 * secret is made and kept by the monitor (sealed by the HSM); the console
 * shows it once, for the admin's authenticator, and never writes it down.
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
cmd_totp(const struct opts *o, const char *verb)
{
	int confirm = strcmp(verb, "confirm") == 0, st, rc = 1;
	char otp[MSG_OTP_MAX] = "";
	json_t *j = NULL;

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
