/* Console admin accounts: the username, role and passphrase rules, the
 * lockout rule, the store's admin/accounts block and the console config keys. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lmdb.h>

#include "daemon/monitor/mon_int.h"
#include "daemon/msg.h"
#include "lib/config.h"
#include "check.h"

static char dir[] = "/tmp/sbx-console-XXXXXX";

static void
test_usernames(void)
{
	char longest[40];

	CHECK(msg_admin_user_ok("a"));
	CHECK(msg_admin_user_ok("sam"));
	CHECK(msg_admin_user_ok("li_wei-2"));
	memset(longest, 'a', 32);
	longest[32] = '\0';
	CHECK(msg_admin_user_ok(longest));
	longest[32] = 'a';
	longest[33] = '\0';
	CHECK(!msg_admin_user_ok(longest));	/* 33 */
	CHECK(!msg_admin_user_ok(""));
	CHECK(!msg_admin_user_ok("Sam"));
	CHECK(!msg_admin_user_ok("1sam"));
	CHECK(!msg_admin_user_ok("_sam"));
	CHECK(!msg_admin_user_ok("sam smith"));
	CHECK(!msg_admin_user_ok("sam@x"));
	CHECK(!msg_admin_user_ok("s\xc3\xa9"));
}

static void
test_roles(void)
{
	CHECK(msg_admin_role_ok("sysadmin"));
	CHECK(msg_admin_role_ok("secadmin"));
	CHECK(msg_admin_role_ok("auditor"));
	CHECK(!msg_admin_role_ok(""));
	CHECK(!msg_admin_role_ok("Auditor"));
	CHECK(!msg_admin_role_ok("approver"));
	CHECK(!msg_admin_role_ok("secadmin "));
}

static void
test_text_lines(void)
{
	CHECK(msg_text_line_ok("", 0));
	CHECK(msg_text_line_ok("plain words 123", 15));
	CHECK(msg_text_line_ok("机密 Ωμέγα", strlen("机密 Ωμέγα")));
	CHECK(msg_text_line_ok("\xf0\x9f\x94\x92", 4));	/* U+1F512 */
	CHECK(!msg_text_line_ok("a\tb", 3));
	CHECK(!msg_text_line_ok("a\x01", 2));
	CHECK(!msg_text_line_ok("a\x1b[A", 4));			/* a cursor key */
	CHECK(!msg_text_line_ok("a\x7f", 2));
	CHECK(!msg_text_line_ok("a\xc2\x85", 3));		/* C1: NEL */
	CHECK(!msg_text_line_ok("\xff", 1));
	CHECK(!msg_text_line_ok("\xc0\xaf", 2));		/* overlong '/' */
	CHECK(!msg_text_line_ok("\xe0\x80\xaf", 3));		/* overlong */
	CHECK(!msg_text_line_ok("\xed\xa0\x80", 3));		/* a surrogate */
	CHECK(!msg_text_line_ok("\xf4\x90\x80\x80", 4));	/* past U+10FFFF */
	CHECK(!msg_text_line_ok("\xe6\x9c", 2));		/* cut short */
	CHECK(!msg_text_line_ok("a\0b", 3));
}

static void
test_passphrases(void)
{
	char p[300];
	const char *why = NULL;

	CHECK_RC(msg_passphrase_check("twelve bytes", &why), 0);
	CHECK_RC(msg_passphrase_check("机密机密", &why), 0);		/* 12 bytes */
	CHECK_RC(msg_passphrase_check("eleven byte", &why), SB_EINVAL);
	CHECK_CONTAINS(why, "12 to 256");
	memset(p, 'x', 256);
	p[256] = '\0';
	CHECK_RC(msg_passphrase_check(p, &why), 0);
	p[256] = 'x';
	p[257] = '\0';
	CHECK_RC(msg_passphrase_check(p, &why), SB_EINVAL);
	CHECK_RC(msg_passphrase_check("twelve\tbytes", &why), SB_EINVAL);
	CHECK_CONTAINS(why, "control");
	CHECK_RC(msg_passphrase_check("twelve bytes\xff", &why), SB_EINVAL);
}

static void
test_lockout_rule(void)
{
	struct store_admin a;
	long long left;

	memset(&a, 0, sizeof(a));
	CHECK(!mon_console_locked(&a, 1000, &left) && left == 0);
	CHECK(mon_console_failed(&a, 1000, 3, 300) == 0 && a.failures == 1);
	CHECK(mon_console_failed(&a, 1001, 3, 300) == 0 && a.failures == 2);
	CHECK(!mon_console_locked(&a, 1001, &left));
	/* The third failure locks for 300 s and starts the count again. */
	CHECK(mon_console_failed(&a, 1002, 3, 300) == 1);
	CHECK(a.failures == 0 && a.locked_until == 1302);
	CHECK(mon_console_locked(&a, 1002, &left) && left == 300);
	CHECK(mon_console_locked(&a, 1301, &left) && left == 1);
	CHECK(!mon_console_locked(&a, 1302, &left) && left == 0);
	/* max 1: every failure locks. */
	memset(&a, 0, sizeof(a));
	CHECK(mon_console_failed(&a, 5, 1, 10) == 1 && a.locked_until == 15);
}

static int
env_open(MDB_env **env)
{
	if (mdb_env_create(env) != 0)
		return -1;
	mdb_env_set_maxdbs(*env, STORE_DBS + STORE_TOTP_DBS + STORE_WORDS_DBS + STORE_ADMIN_DBS);
	if (mdb_env_open(*env, dir, 0, 0600) != 0) {
		mdb_env_close(*env);
		return -1;
	}
	return 0;
}

static void
test_store_accounts(void)
{
	struct store_admin a, b;
	struct store *st;
	MDB_env *env;
	size_t n = 9;

	CHECK(env_open(&env) == 0);
	CHECK_RC(store_open(env, &st), 0);
	CHECK_RC(store_admin_count(st, &n), 0);
	CHECK(n == 0);
	CHECK_RC(store_admin_get(st, "sam", &b), SB_ENOTFOUND);
	memset(&a, 0, sizeof(a));
	snprintf(a.user, sizeof(a.user), "sam");
	snprintf(a.role, sizeof(a.role), "secadmin");
	snprintf(a.hash, sizeof(a.hash), "$argon2id$v=19$m=65536,t=3,p=1$c2FsdA$aGFzaA");
	a.created = 1795000000;
	/* The bootstrap add: only while there is none. */
	CHECK_RC(store_admin_add(st, &a, 1), 0);
	CHECK_RC(store_admin_add(st, &a, 0), SB_EEXIST);
	snprintf(a.user, sizeof(a.user), "sys");
	CHECK_RC(store_admin_add(st, &a, 1), SB_EPERM);
	CHECK_RC(store_admin_add(st, &a, 0), 0);
	CHECK_RC(store_admin_count(st, &n), 0);
	CHECK(n == 2);
	CHECK_RC(store_admin_get(st, "sam", &b), 0);
	CHECK_STR(b.user, "sam");
	CHECK_STR(b.role, "secadmin");
	CHECK_STR(b.hash, a.hash);
	CHECK(b.failures == 0 && b.locked_until == 0 && b.created == 1795000000);
	/* Failures and the lockout are kept. */
	b.failures = 2;
	b.locked_until = 1795000300;
	CHECK_RC(store_admin_put(st, &b), 0);
	CHECK_RC(store_admin_get(st, "sam", &b), 0);
	CHECK(b.failures == 2 && b.locked_until == 1795000300);
	snprintf(b.user, sizeof(b.user), "nobody");
	CHECK_RC(store_admin_put(st, &b), SB_ENOTFOUND);
	a.hash[0] = '\0';
	CHECK_RC(store_admin_add(st, &a, 0), SB_EINVAL);
	/* At most STORE_ADMINS_MAX accounts. */
	snprintf(a.hash, sizeof(a.hash), "$argon2id$x");
	for (int i = 2; i < STORE_ADMINS_MAX; i++) {
		snprintf(a.user, sizeof(a.user), "u%d", i);
		CHECK_RC(store_admin_add(st, &a, 0), 0);
	}
	snprintf(a.user, sizeof(a.user), "onemore");
	CHECK_RC(store_admin_add(st, &a, 0), SB_ELIMIT);
	store_close(st);
	mdb_env_close(env);
}

static int
load(const char *extra, struct config **c)
{
	char text[1024], err[CONFIG_ERR_MAX];

	snprintf(text, sizeof(text), "appliance:\n  id: sbx-01\n  state_dir: /var/lib/sealbox\n"
	    "hsm:\n  module: /usr/lib/softhsm/libsofthsm2.so\n  token: sealbox\n%s", extra);
	return config_load_buffer("seald.yaml", text, strlen(text), c, err, sizeof(err));
}

static void
test_config_keys(void)
{
	struct config *c = NULL;

	CHECK_RC(load("", &c), 0);
	CHECK(c->console.argon2_t == 3 && c->console.argon2_m_kib == 65536 &&
	    c->console.argon2_p == 1 && c->console.max_failures == 5 &&
	    c->console.lockout_seconds == 300 && c->console.idle_seconds == 300);
	config_free(c);
	CHECK_RC(load("console:\n  max_failures: 3\n  lockout_seconds: 4\n  idle_seconds: 2\n"
	    "  argon2_t: 2\n  argon2_m_kib: 8192\n", &c), 0);
	CHECK(c->console.max_failures == 3 && c->console.lockout_seconds == 4 &&
	    c->console.idle_seconds == 2 && c->console.argon2_t == 2 &&
	    c->console.argon2_m_kib == 8192);
	config_free(c);
	c = NULL;
	CHECK_RC(load("console:\n  idle_seconds: 0\n", &c), SB_ECONFIG);
	CHECK_RC(load("console:\n  argon2_m_kib: 1024\n", &c), SB_ECONFIG);
	CHECK_RC(load("console:\n  argon2_p: 2\n", &c), SB_ECONFIG);
	CHECK_RC(load("console:\n  max_failures: 0\n", &c), SB_ECONFIG);
	CHECK_RC(load("console:\n  lockout: 5\n", &c), SB_ECONFIG);
	CHECK(c == NULL);
}

int
main(void)
{
	char cmd[64];

	if (mkdtemp(dir) == NULL)
		return 1;
	RUN(test_usernames, "console: a username is [a-z][a-z0-9_-]{0,31}");
	RUN(test_roles, "console: the roles are sysadmin, secadmin and auditor, nothing else");
	RUN(test_text_lines, "console: a line is strict UTF-8 without C0, DEL or C1 controls; overlong forms, surrogates, cut sequences and NUL are refused");
	RUN(test_passphrases, "console: a passphrase is 12..256 bytes of such text");
	RUN(test_lockout_rule, "console: max failures lock the account for the lockout time, then the count starts again");
	RUN(test_store_accounts, "store: admin accounts round-trip with failures and lockout; a bootstrap add only while none exists; duplicates, empty hashes and more than 32 are refused");
	RUN(test_config_keys, "config: console.* defaults (3, 65536, 1, 5, 300, 300), values and ranges");
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		return 1;
	return check_done();
}
