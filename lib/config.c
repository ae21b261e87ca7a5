/*
 * config — seald.yaml: its schema, for lib/cfg's loader.
 *
 * What the file may contain is the table keys[] below: one row per key,
 * naming its full dotted path, type, bounds, default and place in struct
 * config. A new key is a new row (and, for a new section, a row for the
 * section); cross-key rules go in check_relations(). Reading the file, the
 * YAML rules and the messages are lib/cfg.c's, shared with sealctl's
 * client.yaml.
 */
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cfg.h"
#include "config.h"
#include "err.h"

#define SUN_PATH_MAX 107		/* sockaddr_un.sun_path less its NUL */
#define STR_(x) #x
#define STR(x) STR_(x)			/* a number macro as a string literal */

/* appliance.id: [a-z0-9][a-z0-9-]{0,CONFIG_ID_MAX-1}. */
static const char *
check_id(const char *v, size_t n)
{
	if (n < 1 || n > CONFIG_ID_MAX || v[0] == '-')
		goto bad;
	for (size_t i = 0; i < n; i++)
		if (!((v[i] >= 'a' && v[i] <= 'z') || (v[i] >= '0' && v[i] <= '9') ||
		    v[i] == '-'))
			goto bad;
	return NULL;
bad:
	return "must be 1 to " STR(CONFIG_ID_MAX) " characters a-z, 0-9 and '-', "
	    "not starting with '-'";
}

int
config_id_ok(const char *s, size_t n)
{
	return check_id(s, n) == NULL;
}

/* console.network_match: networkd Name= globs, space-separated:
 * [A-Za-z0-9*?._:-] and spaces only (nothing else reaches the file). */
static const char *
check_match(const char *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((v[i] >= 'a' && v[i] <= 'z') || (v[i] >= 'A' && v[i] <= 'Z') ||
		    (v[i] >= '0' && v[i] <= '9') || strchr("*?._:- ", v[i]) != NULL))
			return "interface name globs: letters, digits, * ? . _ : - and spaces";
	return v[0] == ' ' || v[n - 1] == ' ' ? "no space at either end" : NULL;
}

#define OFF(field) offsetof(struct config, field)

static const struct cfg_key keys[] = {
	{ .name = "appliance", .type = CFG_SECTION },
	{ .name = "appliance.id", .type = CFG_STRING, .required = 1,
	  .lo = 1, .hi = CONFIG_ID_MAX, .off = OFF(appliance.id), .check = check_id },
	{ .name = "appliance.state_dir", .type = CFG_PATH, .required = 1,
	  .hi = PATH_MAX - 1, .off = OFF(appliance.state_dir) },

	{ .name = "hsm", .type = CFG_SECTION },
	{ .name = "hsm.module", .type = CFG_PATH, .required = 1,
	  .hi = PATH_MAX - 1, .off = OFF(hsm.module) },
	/* A PKCS#11 token label is a 32-byte field. */
	{ .name = "hsm.token", .type = CFG_STRING, .required = 1,
	  .lo = 1, .hi = 32, .off = OFF(hsm.token) },
	/* Where the HSM keeps the token's files, for backup and restore. */
	{ .name = "hsm.token_dir", .type = CFG_PATH,
	  .hi = PATH_MAX - 1, .off = OFF(hsm.token_dir) },

	{ .name = "quorum", .type = CFG_SECTION },
	{ .name = "quorum.shares", .type = CFG_UINT, .def_uint = 3,
	  .lo = 2, .hi = CONFIG_MAX_SHARES, .off = OFF(quorum.shares) },
	{ .name = "quorum.threshold", .type = CFG_UINT, .def_uint = 2,
	  .lo = 2, .hi = CONFIG_MAX_SHARES, .off = OFF(quorum.threshold) },

	{ .name = "listen", .type = CFG_SECTION },
	{ .name = "listen.address", .type = CFG_STRING, .def_str = "127.0.0.1",
	  .lo = 1, .hi = 255, .off = OFF(listen.address) },
	{ .name = "listen.port", .type = CFG_UINT, .def_uint = 8443,
	  .lo = 1, .hi = 65535, .off = OFF(listen.port) },

	{ .name = "tls", .type = CFG_SECTION },
	{ .name = "tls.certificate", .type = CFG_PATH,
	  .hi = PATH_MAX - 1, .off = OFF(tls.certificate) },
	{ .name = "tls.key", .type = CFG_PATH,
	  .hi = PATH_MAX - 1, .off = OFF(tls.key) },
	{ .name = "tls.client_ca", .type = CFG_PATH,
	  .hi = PATH_MAX - 1, .off = OFF(tls.client_ca) },
	{ .name = "tls.crl", .type = CFG_PATH,
	  .hi = PATH_MAX - 1, .off = OFF(tls.crl) },
	{ .name = "tls.crl_days", .type = CFG_UINT, .def_uint = 30,
	  .lo = 1, .hi = 365, .off = OFF(tls.crl_days) },

	{ .name = "admin_socket", .type = CFG_PATH,
	  .def_str = "/run/sealbox/admin.sock",
	  .hi = SUN_PATH_MAX, .off = OFF(admin_socket) },

	{ .name = "http", .type = CFG_SECTION },
	{ .name = "http.max_body", .type = CFG_UINT, .def_uint = 1048576,
	  .lo = 1024, .hi = 64 * 1024 * 1024, .off = OFF(http.max_body) },
	{ .name = "http.max_headers", .type = CFG_UINT, .def_uint = 8192,
	  .lo = 1024, .hi = 65536, .off = OFF(http.max_headers) },
	{ .name = "http.max_connections", .type = CFG_UINT, .def_uint = 512,
	  .lo = 1, .hi = 65536, .off = OFF(http.max_connections) },
	{ .name = "http.idle_timeout", .type = CFG_UINT, .def_uint = 60,
	  .lo = 1, .hi = 3600, .off = OFF(http.idle_timeout) },
	{ .name = "http.read_timeout", .type = CFG_UINT, .def_uint = 30,
	  .lo = 1, .hi = 600, .off = OFF(http.read_timeout) },
	{ .name = "http.queue_max", .type = CFG_UINT, .def_uint = 4096,
	  .lo = 1, .hi = 1000000, .off = OFF(http.queue_max) },

	{ .name = "time", .type = CFG_SECTION },
	{ .name = "time.require_sync", .type = CFG_BOOL, .def_uint = 1,
	  .off = OFF(time.require_sync) },

	{ .name = "sign", .type = CFG_SECTION },
	{ .name = "sign.batch_max", .type = CFG_UINT, .def_uint = 100,
	  .lo = 1, .hi = 1000, .off = OFF(sign.batch_max) },

	{ .name = "pdf", .type = CFG_SECTION },
	{ .name = "pdf.max_size", .type = CFG_UINT, .def_uint = 32 * 1024 * 1024,
	  .lo = 1024, .hi = 256 * 1024 * 1024, .off = OFF(pdf.max_size) },
	{ .name = "pdf.max_objects", .type = CFG_UINT, .def_uint = 100000,
	  .lo = 16, .hi = 1000000, .off = OFF(pdf.max_objects) },
	{ .name = "pdf.location", .type = CFG_STRING,
	  .lo = 1, .hi = 200, .off = OFF(pdf.location) },
	{ .name = "pdf.pdftotext", .type = CFG_PATH, .def_str = "/usr/bin/pdftotext",
	  .hi = PATH_MAX - 1, .off = OFF(pdf.pdftotext) },
	{ .name = "pdf.text_seconds", .type = CFG_UINT, .def_uint = 10,
	  .lo = 1, .hi = 300, .off = OFF(pdf.text_seconds) },
	{ .name = "pdf.text_memory_mb", .type = CFG_UINT, .def_uint = 1024,
	  .lo = 64, .hi = 16384, .off = OFF(pdf.text_memory_mb) },

	{ .name = "requests", .type = CFG_SECTION },
	{ .name = "requests.ttl_hours", .type = CFG_UINT, .def_uint = 168,
	  .lo = 1, .hi = 8760, .off = OFF(requests.ttl_hours) },

	{ .name = "net", .type = CFG_SECTION },
	{ .name = "net.user", .type = CFG_STRING, .def_str = "nobody",
	  .lo = 1, .hi = 32, .off = OFF(net.user) },
	{ .name = "net.chroot", .type = CFG_PATH,
	  .hi = PATH_MAX - 1, .off = OFF(net.chroot) },

	{ .name = "monitor", .type = CFG_SECTION },
	{ .name = "monitor.workers", .type = CFG_UINT, .def_uint = 16,
	  .lo = 1, .hi = 64, .off = OFF(monitor.workers) },

	{ .name = "alerts", .type = CFG_SECTION },
	{ .name = "alerts.burst_max", .type = CFG_UINT, .def_uint = 100,
	  .lo = 1, .hi = CFG_ALERT_BURST_MAX_HI, .off = OFF(alerts.burst_max) },
	{ .name = "alerts.burst_window", .type = CFG_UINT, .def_uint = 60,
	  .lo = 1, .hi = CFG_ALERT_WINDOW_HI, .off = OFF(alerts.burst_window) },
	{ .name = "alerts.refusals_max", .type = CFG_UINT, .def_uint = 5,
	  .lo = 1, .hi = CFG_ALERT_REFUSALS_MAX_HI, .off = OFF(alerts.refusals_max) },
	{ .name = "alerts.refusals_window", .type = CFG_UINT, .def_uint = 300,
	  .lo = 1, .hi = CFG_ALERT_WINDOW_HI, .off = OFF(alerts.refusals_window) },

	{ .name = "console", .type = CFG_SECTION },
	{ .name = "console.argon2_t", .type = CFG_UINT, .def_uint = 3,
	  .lo = 1, .hi = 16, .off = OFF(console.argon2_t) },
	{ .name = "console.argon2_m_kib", .type = CFG_UINT, .def_uint = 65536,
	  .lo = 8192, .hi = 1048576, .off = OFF(console.argon2_m_kib) },
	{ .name = "console.argon2_p", .type = CFG_UINT, .def_uint = 1,
	  .lo = 1, .hi = 1, .off = OFF(console.argon2_p) },
	{ .name = "console.max_failures", .type = CFG_UINT, .def_uint = 5,
	  .lo = 1, .hi = 100, .off = OFF(console.max_failures) },
	{ .name = "console.lockout_seconds", .type = CFG_UINT, .def_uint = 300,
	  .lo = 1, .hi = 86400, .off = OFF(console.lockout_seconds) },
	{ .name = "console.idle_seconds", .type = CFG_UINT, .def_uint = 300,
	  .lo = 1, .hi = 86400, .off = OFF(console.idle_seconds) },
	{ .name = "console.poweroff_command", .type = CFG_STRING, .def_str = "systemctl poweroff",
	  .lo = 1, .hi = 255, .off = OFF(console.poweroff_command) },
	{ .name = "console.reboot_command", .type = CFG_STRING, .def_str = "systemctl reboot",
	  .lo = 1, .hi = 255, .off = OFF(console.reboot_command) },
	/* Network settings: the files go under network_root (tests use a
	 * directory of their own), for the interfaces network_match names. */
	{ .name = "console.network_root", .type = CFG_PATH, .def_str = "/",
	  .hi = 1024, .off = OFF(console.network_root) },
	{ .name = "console.network_match", .type = CFG_STRING, .def_str = "en* eth*",
	  .lo = 1, .hi = 255, .off = OFF(console.network_match), .check = check_match },
	{ .name = "console.network_command", .type = CFG_STRING,
	  .def_str = "systemctl restart systemd-networkd systemd-timesyncd",
	  .lo = 1, .hi = 255, .off = OFF(console.network_command) },
	/* The backup disk: mounted by a command of its own on the image
	 * (a systemd mount unit), a plain directory in tests. */
	{ .name = "console.backup_dir", .type = CFG_PATH,
	  .hi = 160, .off = OFF(console.backup_dir) },
	{ .name = "console.backup_mount_command", .type = CFG_STRING,
	  .lo = 1, .hi = 255, .off = OFF(console.backup_mount_command) },
	{ .name = "console.backup_umount_command", .type = CFG_STRING,
	  .lo = 1, .hi = 255, .off = OFF(console.backup_umount_command) },
};

/* Rules that tie keys together. */
static int
check_relations(struct cfg_ctx *ctx, const void *obj)
{
	const struct config *c = obj;

	if (c->quorum.threshold > c->quorum.shares) {
		size_t line = cfg_line(ctx, "quorum.threshold");

		return cfg_fail(ctx, SB_ECONFIG,
		    line ? line : cfg_line(ctx, "quorum.shares"), "quorum.threshold",
		    "must not be more than quorum.shares (%u), got %u",
		    c->quorum.shares, c->quorum.threshold);
	}
	return 0;
}

static const struct cfg_table table = {
	.keys = keys,
	.nkeys = sizeof(keys) / sizeof(keys[0]),
	.size = sizeof(struct config),
	.max_bytes = CONFIG_MAX_BYTES,
	.top = "sections",
	.relations = check_relations,
};

void
config_free(struct config *cfg)
{
	if (cfg == NULL)
		return;
	free(cfg->path);
	cfg_free(&table, cfg);
}

/* cfg->path: the name the file was loaded under. */
static int
set_path(void *obj, const char *name, struct config **out, char *err, size_t errlen)
{
	struct config *cfg = obj;

	if ((cfg->path = strdup(name)) == NULL) {
		config_free(cfg);
		return cfg_error(err, errlen, SB_ENOMEM, name, 0, NULL, "out of memory");
	}
	*out = cfg;
	return 0;
}

int
config_load_buffer(const char *name, const char *data, size_t len,
    struct config **out, char *err, size_t errlen)
{
	void *obj;
	int rc;

	*out = NULL;
	if ((rc = cfg_parse(&table, name, data, len, &obj, err, errlen)) != 0)
		return rc;
	return set_path(obj, name ? name : "(config)", out, err, errlen);
}

int
config_load(const char *path, struct config **out, char *err, size_t errlen)
{
	void *obj;
	int rc;

	*out = NULL;
	if (path == NULL)
		path = CONFIG_DEFAULT_PATH;
	if ((rc = cfg_parse_file(&table, path, &obj, err, errlen)) != 0)
		return rc;
	return set_path(obj, path, out, err, errlen);
}

void
config_firstboot_template(const char *config, const char *given, char *out, size_t cap)
{
	const char *c = config ? config : CONFIG_DEFAULT_PATH;
	const char *slash = strrchr(c, '/');

	if (given != NULL) {
		snprintf(out, cap, "%s", given);
		return;
	}
	snprintf(out, cap, "%.*sseald.yaml.firstboot", slash ? (int)(slash - c + 1) : 0, c);
	if (access(out, R_OK) != 0)
		snprintf(out, cap, "%s", CONFIG_FIRSTBOOT_TEMPLATE);
}
