/*
 * firstboot — `sealprov firstboot`: the appliance's first boot at its
 * console, as docs/admin-guide.md ("First boot") shows it.
 *
 * Nothing is made until every question is answered: the three
 * administrators one by one (username, passphrase twice, role; the three
 * roles once each), then the names clients reach the appliance by. Then the
 * ceremony: the token, the master secret and its shares; each share is shown
 * to its administrator alone and typed back before the next one steps up.
 * With a quorum of those shares (still in memory) the token is opened once
 * for the appliance CA, TSA and audit keys, the TLS server certificate and
 * an empty CRL. seald.yaml is written last, from the template, so that its
 * appearance means a finished ceremony (systemd starts seald on it). Then
 * the three console accounts are made through seald's admin socket, the
 * secadmin first (the bootstrap rule), so that the monitor ledgers them as
 * the ledger's first entries. The appliance stays sealed.
 *
 * Passphrases and shares live in secret memory only and are wiped on every
 * path out; nothing secret is printed except each share, once, on its own
 * screen.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "daemon/client/admsock.h"
#include "daemon/client/ceremony.h"
#include "daemon/client/tty.h"
#include "daemon/formats/tsa.h"
#include "daemon/msg.h"
#include "hsm/ca.h"
#include "hsm/custody.h"
#include "hsm/keyctl.h"
#include "lib/config.h"
#include "lib/err.h"
#include "lib/secret.h"
#include "provisioning/prov.h"

#define ADMINS 3
#define ERRLEN 512
#define SAN_MAX 256

static const char *const roles[ADMINS] = { "sysadmin", "secadmin", "auditor" };

struct admin {
	char user[MSG_ADMIN_USER_MAX];
	char role[MSG_ROLE_MAX];
	char pass[MSG_PASS_MAX + 1];
};

static int
role_taken(const struct admin *a, int n, const char *role)
{
	for (int i = 0; i < n; i++)
		if (strcmp(a[i].role, role) == 0)
			return 1;
	return 0;
}

/* Administrator i's username, role and passphrase: 0, or -1 at end of input. */
static int
ask_admin(struct admin *a, int i)
{
	char *again = secret_alloc(MSG_PASS_MAX + 1);
	const char *why;
	int rc = -1;

	if (again == NULL)
		return -1;
	printf("\nAdministrator %d of %d: step up to the console alone.\n", i + 1, ADMINS);
	for (;;) {
		if (ceremony_ask("Username: ", a[i].user, sizeof(a[i].user), 0) != 0)
			goto out;
		if (!msg_admin_user_ok(a[i].user))
			printf("a username is a-z, then up to 31 of a-z 0-9 _ -\n");
		else if (i > 0 && (strcmp(a[i].user, a[0].user) == 0 ||
		    (i > 1 && strcmp(a[i].user, a[1].user) == 0)))
			printf("%s is taken: each administrator has an account of their own\n",
			    a[i].user);
		else
			break;
	}
	for (;;) {
		printf("Role, one of:");
		for (int r = 0; r < ADMINS; r++)
			if (!role_taken(a, i, roles[r]))
				printf(" %s", roles[r]);
		printf("\n");
		if (ceremony_ask("Role: ", a[i].role, sizeof(a[i].role), 0) != 0)
			goto out;
		if (!msg_admin_role_ok(a[i].role))
			printf("the role is sysadmin, secadmin or auditor\n");
		else if (role_taken(a, i, a[i].role))
			printf("another administrator is the %s: the three roles are held by "
			    "three people\n", a[i].role);
		else
			break;
	}
	for (;;) {
		if (ceremony_ask("Passphrase: ", a[i].pass, sizeof(a[i].pass), 1) != 0 ||
		    ceremony_ask("Passphrase again: ", again, MSG_PASS_MAX + 1, 1) != 0)
			goto out;
		if (msg_passphrase_check(a[i].pass, &why) != 0)
			printf("%s\n", why);
		else if (strcmp(a[i].pass, again) != 0)
			printf("the two passphrases differ\n");
		else
			break;
	}
	rc = 0;
out:
	secret_free(&again);
	return rc;
}

/* The directory part of path (path itself when it has no slash) into dir. */
static void
dir_of(const char *path, char *dir, size_t cap)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL)
		snprintf(dir, cap, ".");
	else if (slash == path)
		snprintf(dir, cap, "/");
	else
		snprintf(dir, cap, "%.*s", (int)(slash - path), path);
}

/* Copy the file at from to to, durably: written to a fresh to.tmp (never
 * through a link), fsync'd, renamed, and the directory fsync'd. 0, or -1
 * with why. */
static int
copy_file(const char *from, const char *to, mode_t mode, char *why, size_t len)
{
	char tmp[4200], dir[4096], buf[8192];
	int in, out = -1, d, rc = -1;
	ssize_t n = 0;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", to) >= (int)sizeof(tmp)) {
		snprintf(why, len, "path too long");
		return -1;
	}
	dir_of(to, dir, sizeof(dir));
	if (prov_mkdir_p(dir, 0755) != 0) {
		snprintf(why, len, "cannot make its directory: %s", strerror(errno));
		return -1;
	}
	if ((in = open(from, O_RDONLY | O_CLOEXEC)) < 0) {
		snprintf(why, len, "cannot read %s: %s", from, strerror(errno));
		return -1;
	}
	(void)unlink(tmp);
	if ((out = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode)) < 0)
		snprintf(why, len, "cannot create %s.tmp: %s", to, strerror(errno));
	else {
		while ((n = read(in, buf, sizeof(buf))) > 0)
			if (write(out, buf, (size_t)n) != n) {
				n = -1;
				break;
			}
		if (n != 0)
			snprintf(why, len, "cannot copy %s: %s", from, strerror(errno));
		else if (fchmod(out, mode) != 0 || fsync(out) != 0)
			snprintf(why, len, "cannot write the new file: %s", strerror(errno));
		else
			rc = 0;
		if (close(out) != 0 && rc == 0) {
			snprintf(why, len, "cannot write the new file: %s", strerror(errno));
			rc = -1;
		}
		if (rc == 0 && rename(tmp, to) != 0) {
			snprintf(why, len, "cannot rename the new file into place: %s",
			    strerror(errno));
			rc = -1;
		}
		if (rc != 0)
			unlink(tmp);
	}
	close(in);
	if (rc == 0 && (d = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		if (fsync(d) != 0) {
			snprintf(why, len, "cannot sync its directory: %s", strerror(errno));
			rc = -1;
		}
		close(d);
	}
	return rc;
}

/* The TLS key and certificate go to DIR/server.{key,pem}: the config must
 * name them so. 0 with dir, or -1 (said why). */
static int
tls_dir(const struct config *cfg, char *dir, size_t cap)
{
	char key[4200];
	const char *slash;

	if (cfg->tls.certificate == NULL || cfg->tls.key == NULL || cfg->tls.client_ca == NULL ||
	    (slash = strrchr(cfg->tls.certificate, '/')) == NULL ||
	    strcmp(slash, "/server.pem") != 0 || slash == cfg->tls.certificate ||
	    (size_t)(slash - cfg->tls.certificate) >= cap) {
		fprintf(stderr, "sealprov: the template must set tls.certificate to DIR/server.pem, "
		    "tls.key to DIR/server.key and tls.client_ca\n");
		return -1;
	}
	snprintf(dir, cap, "%.*s", (int)(slash - cfg->tls.certificate), cfg->tls.certificate);
	snprintf(key, sizeof(key), "%s/server.key", dir);
	if (strcmp(key, cfg->tls.key) != 0) {
		fprintf(stderr, "sealprov: the template must set tls.key to %s\n", key);
		return -1;
	}
	return 0;
}

/* With a quorum of the new shares: the appliance keys, the TLS server
 * certificate, an empty CRL, the client CA where the config wants it. */
static int
make_keys(const struct config *cfg, const struct keyctl_shares *sh, const char *san,
    const char *dir)
{
	struct prov_leaf l = { cfg->appliance.id, "Sealbox", san, dir, "server", 0 };
	struct custody_set *set = NULL;
	struct hsm *h = NULL;
	char err[ERRLEN], detail[256], ca[4200];
	unsigned have = 0, need = 0;
	int rc = -1;

	if (keyctl_set_new(cfg, &set, err, sizeof(err)) != 0) {
		fprintf(stderr, "sealprov: %s\n", err);
		return -1;
	}
	for (unsigned i = 0; i < sh->threshold; i++)
		if (custody_set_add(set, sh->text[i], &have, &need, detail, sizeof(detail)) != 0) {
			fprintf(stderr, "sealprov: share %u: %s\n", i + 1, detail);
			goto out;
		}
	if (keyctl_unseal(cfg, set, &h, NULL, err, sizeof(err)) != 0) {
		fprintf(stderr, "sealprov: %s\n", err);
		goto out;
	}
	snprintf(ca, sizeof(ca), "%s/ca.pem", cfg->appliance.state_dir);
	if (prov_appliance_init(cfg, h) != 0 || prov_tls_server(cfg, h, &l) != 0 ||
	    prov_revoke(cfg, h, NULL, 0, cfg->tls.crl) != 0)
		goto out;
	if (strcmp(ca, cfg->tls.client_ca) != 0 &&
	    copy_file(ca, cfg->tls.client_ca, 0644, err, sizeof(err)) != 0) {
		fprintf(stderr, "sealprov: %s: %s\n", cfg->tls.client_ca, err);
		goto out;
	}
	rc = 0;
out:
	hsm_close(h);
	custody_set_free(set);
	return rc;
}

/* seald answers on its admin socket within wait seconds: 0, or -1. */
static int
await_seald(const char *sock, unsigned wait)
{
	for (unsigned i = 0; i < wait * 2; i++) {
		int fd = admsock_connect(sock, 1);

		if (fd >= 0) {
			close(fd);
			return 0;
		}
		usleep(500000);
	}
	return -1;
}

/* One admin-socket command; 0 when it answered 200, else -1 (said why). */
static int
command(const char *sock, const char *session, struct ipc_msg *m, json_t **j)
{
	json_t *e;
	int st = admsock_call(sock, session, m, j);

	ipc_msg_free(m);
	if (st == 200)
		return 0;
	if (st > 0 && (e = json_object_get(*j, "error")) != NULL)
		fprintf(stderr, "sealprov: %s: %s\n", json_string_value(json_object_get(e, "code")),
		    json_string_value(json_object_get(e, "message")));
	json_decref(*j);
	*j = NULL;
	return -1;
}

/* The three accounts, the secadmin first (the bootstrap rule), through the
 * admin socket: the monitor ledgers each before it takes effect. */
static int
make_accounts(const char *sock, const struct admin *a)
{
	struct adm_admin_add *v = secret_alloc(sizeof(*v));
	struct adm_login *l = secret_alloc(sizeof(*l));
	struct adm_session s = { "" };
	struct ipc_msg m;
	json_t *j = NULL;
	int sec = 0, rc = -1;

	if (v == NULL || l == NULL)
		goto out;
	while (strcmp(a[sec].role, "secadmin") != 0)
		sec++;
	for (int k = 0; k < ADMINS; k++) {
		int i = k == 0 ? sec : k <= sec ? k - 1 : k;

		memset(v, 0, sizeof(*v));
		snprintf(v->session, sizeof(v->session), "%s", s.session);
		snprintf(v->user, sizeof(v->user), "%s", a[i].user);
		snprintf(v->role, sizeof(v->role), "%s", a[i].role);
		snprintf(v->pass, sizeof(v->pass), "%s", a[i].pass);
		if (adm_admin_add_enc(&m, 1, v) != 0 || command(sock, "", &m, &j) != 0)
			goto out;
		json_decref(j);
		printf("account %s (%s) made\n", a[i].user, a[i].role);
		if (k == 0) {
			snprintf(l->user, sizeof(l->user), "%s", a[i].user);
			snprintf(l->pass, sizeof(l->pass), "%s", a[i].pass);
			if (adm_login_enc(&m, 1, l) != 0 || command(sock, "", &m, &j) != 0)
				goto out;
			snprintf(s.session, sizeof(s.session), "%s",
			    json_string_value(json_object_get(j, "session")) ?
			    json_string_value(json_object_get(j, "session")) : "");
			json_decref(j);
		}
	}
	rc = 0;
out:
	if (s.session[0] != '\0' && adm_session_enc(&m, ADM_LOGOUT, 1, &s) == 0 &&
	    command(sock, "", &m, &j) == 0)
		json_decref(j);
	secret_wipe(&s, sizeof(s));
	secret_free(&v);
	secret_free(&l);
	return rc;
}

/* 1 for y, Y, yes. */
static int
said_yes(const char *s)
{
	return strcmp(s, "y") == 0 || strcmp(s, "Y") == 0 || strcmp(s, "yes") == 0;
}

/*
 * Before any question: nothing made yet on this data disk, every directory
 * firstboot writes to can be written, and no other console is in first boot
 * (an exclusive lock held in *lock until the end). 0, or -1 said why.
 */
static int
preflight(const struct config *cfg, const char *config, const char *tlsdir, int *lock)
{
	const char *dirs[3] = { cfg->appliance.state_dir, tlsdir, NULL };
	char path[4200], cdir[4096];
	struct stat st;

	dir_of(config, cdir, sizeof(cdir));
	dirs[2] = cdir;
	for (int i = 0; i < 3; i++) {
		if (prov_mkdir_p(dirs[i], 0755) != 0 || access(dirs[i], W_OK) != 0) {
			fprintf(stderr, "sealprov: cannot write in %s: %s (is the data disk "
			    "mounted?)\n", dirs[i], strerror(errno));
			return -1;
		}
	}
	snprintf(path, sizeof(path), "%s/firstboot.lock", cfg->appliance.state_dir);
	if ((*lock = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600)) < 0 ||
	    flock(*lock, LOCK_EX | LOCK_NB) != 0) {
		fprintf(stderr, "sealprov: %s: %s\n", path, errno == EWOULDBLOCK ?
		    "first boot is running on another console" : strerror(errno));
		return -1;
	}
	snprintf(path, sizeof(path), "%s/custody.json", cfg->appliance.state_dir);
	if (stat(path, &st) == 0) {
		fprintf(stderr, "sealprov: %s exists: a key ceremony was held on this data disk "
		    "already, but it has no configuration. It cannot be set up again: start "
		    "from a fresh data disk.\n", path);
		return -1;
	}
	return 0;
}

int
prov_firstboot(const char *config, const char *template, const char *san_opt, unsigned wait)
{
	struct admin *a = secret_alloc(ADMINS * sizeof(*a));
	struct keyctl_shares sh = { 0 };
	struct config *cfg = NULL;
	struct stat st;
	char err[CONFIG_ERR_MAX], san[SAN_MAX], dir[4096], yes[8];
	int rc = 1, made = 0, written = 0, lock = -1;

	/* A console's ^C or ^Z must not cut a ceremony in half. stdout stays
	 * buffered: a prompt goes out only once tty_read_line has turned echo
	 * off (a passphrase typed ahead is not echoed); shares bypass the
	 * buffer (ceremony_hand_over). */
	signal(SIGINT, SIG_IGN);
	signal(SIGQUIT, SIG_IGN);
	signal(SIGTSTP, SIG_IGN);
	if (a == NULL)
		return 1;
	if (stat(config, &st) == 0) {
		fprintf(stderr, "sealprov: %s exists: this appliance was set up already\n", config);
		goto out;
	}
	if (config_load(template, &cfg, err, sizeof(err)) != 0) {
		fprintf(stderr, "sealprov: %s\n", err);
		goto out;
	}
	if (cfg->quorum.shares != ADMINS) {
		fprintf(stderr, "sealprov: first boot gives each of the %d administrators a share: "
		    "the template must say quorum.shares: %d\n", ADMINS, ADMINS);
		goto out;
	}
	if (tls_dir(cfg, dir, sizeof(dir)) != 0)
		goto out;
	if (san_opt != NULL && !ca_san_valid(san_opt)) {
		fprintf(stderr, "sealprov: --san: DNS:name or IP:address items, comma-separated, "
		    "no blanks\n");
		goto out;
	}
	if (access(cfg->hsm.module, R_OK) != 0) {
		fprintf(stderr, "sealprov: the HSM's PKCS#11 module %s cannot be read: %s\n",
		    cfg->hsm.module, strerror(errno));
		goto out;
	}
	if (preflight(cfg, config, dir, &lock) != 0)
		goto out;
	printf("Sealbox first boot: appliance %s\n\n", cfg->appliance.id);
	printf("HSM module: %s\n", cfg->hsm.module);
	if (tsa_clock_synced())
		printf("clock: synchronised\n");
	else
		printf("clock: NOT synchronised%s\n", cfg->time.require_sync ?
		    "; seald will refuse to timestamp and seal until NTP has synchronised it" : "");
	printf("\nThe three administrators come forward one at a time. Each chooses a\n"
	    "username, a role and a passphrase, and later receives a share of the\n"
	    "master secret; any %u of the %u shares unseal the appliance.\n",
	    cfg->quorum.threshold, cfg->quorum.shares);
	for (int i = 0; i < ADMINS; i++)
		if (ask_admin(a, i) != 0)
			goto out;
	ceremony_blank();
	if (san_opt != NULL)
		snprintf(san, sizeof(san), "%s", san_opt);
	else {
		printf("Names clients reach this appliance by, for its TLS certificate\n"
		    "(e.g. DNS:sealbox.example.org,IP:10.0.0.5)\n");
		for (;;) {
			if (ceremony_ask("Names: ", san, sizeof(san), 0) != 0)
				goto out;
			if (ca_san_valid(san))
				break;
			printf("DNS:name or IP:address items, comma-separated, no blanks\n");
		}
	}
	printf("\nAdministrators: %s (%s), %s (%s), %s (%s)\nTLS names: %s\n", a[0].user,
	    a[0].role, a[1].user, a[1].role, a[2].user, a[2].role, san);
	if (ceremony_ask("Make the token, the master secret and the keys now? [y/N]: ", yes,
	    sizeof(yes), 0) != 0 || !said_yes(yes)) {
		printf("cancelled: nothing was made\n");
		goto out;
	}
	if (keyctl_ceremony(cfg, &sh, err, sizeof(err)) != 0) {
		fprintf(stderr, "sealprov: ceremony failed: %s\n", err);
		goto out;
	}
	made = 1;
	printf("token '%s' initialised; %u shares, any %u unlock it\n", cfg->hsm.token, sh.count,
	    sh.threshold);
	for (unsigned i = 0; i < sh.count; i++)
		if (ceremony_hand_over(&sh, i, a[i].user, a[i].role, cfg->appliance.id) != 0)
			goto out;
	ceremony_blank();
	printf("All %u shares confirmed. Making the appliance keys...\n", sh.count);
	if (make_keys(cfg, &sh, san, dir) != 0)
		goto out;
	keyctl_shares_free(&sh);
	if (copy_file(template, config, 0644, err, sizeof(err)) != 0) {
		fprintf(stderr, "sealprov: %s: %s\n", config, err);
		goto out;
	}
	written = 1;
	printf("wrote %s\nwaiting for seald to start...\n", config);
	if (await_seald(cfg->admin_socket, wait) != 0) {
		fprintf(stderr, "sealprov: seald did not answer at %s within %u s\n",
		    cfg->admin_socket, wait);
		goto out;
	}
	if (make_accounts(cfg->admin_socket, a) != 0)
		goto out;
	printf("\nFirst boot done. The appliance is sealed: %u administrators unseal it\n"
	    "at the console (Unseal, in the menu).\n", cfg->quorum.threshold);
	rc = 0;
out:
	if (rc != 0 && written)
		fprintf(stderr, "sealprov: the keys and %s are made, the console accounts are not. "
		    "Once seald runs, the console offers to make the first account, a secadmin, "
		    "who then adds the others.\n", config);
	else if (rc != 0 && made)
		fprintf(stderr, "sealprov: first boot stopped after the key ceremony: the token "
		    "and its custody record exist, so it cannot run again on this data disk. "
		    "Start from a fresh data disk.\n");
	keyctl_shares_free(&sh);
	secret_free(&a);
	config_free(cfg);
	if (lock >= 0)
		close(lock);
	return rc;
}
