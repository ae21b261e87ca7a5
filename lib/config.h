/*
 * config — the appliance's YAML configuration (/etc/sealbox/seald.yaml).
 *
 * Parsed by lib/cfg (libyaml) into one struct. The loader is strict: an
 * unknown key, a value of the wrong type or out of range, a duplicate key, or
 * a missing required key is an error whose message names the file, the line
 * and the full key ("seald.yaml:7: quorum.threshold: expected an integer, got 'two'").
 * Nothing here reads the environment: the PKCS#11 module's own settings (such
 * as SOFTHSM2_CONF) reach the module through its environment as usual.
 *
 * The rules (docs/config.md has them all, with every key): one UTF-8 YAML
 * document whose top level is a mapping; sections are mappings; strings are
 * non-empty scalars without control characters; paths are absolute; integers
 * are plain decimal scalars (3; never '3' quoted, 3.0, 0x3 or 03);
 * anchors, aliases and tags are refused. The first error ends the load.
 *
 * Every string in the struct is owned by it and freed by config_free().
 */
#ifndef SB_CONFIG_H
#define SB_CONFIG_H

#include <stddef.h>

#define CONFIG_DEFAULT_PATH "/etc/sealbox/seald.yaml"
/* The first-boot template the image ships (sealprov firstboot's default). */
#define CONFIG_FIRSTBOOT_TEMPLATE "/usr/local/share/sealbox/seald.yaml.firstboot"
#define CONFIG_MAX_BYTES (1024 * 1024)	/* a larger file is refused */
#define CONFIG_ERR_MAX 512		/* size of the error message buffer */
#define CONFIG_ID_MAX 16		/* appliance.id: [a-z0-9-], 1..16 chars */
#define CONFIG_MAX_SHARES 16

/* The alert thresholds' upper bounds (the lower ones are 1): the
 * configuration's defaults and the secadmin's own (ADM_ALERT_THRESHOLDS_SET)
 * are held to the same. */
#define CFG_ALERT_BURST_MAX_HI 1000000
#define CFG_ALERT_REFUSALS_MAX_HI 100000
#define CFG_ALERT_WINDOW_HI 86400

struct config {
	char *path;			/* as given to config_load */
	struct {
		char *id;		/* required; [a-z0-9][a-z0-9-]{0,15} */
		char *state_dir;	/* required; absolute path */
	} appliance;
	struct {
		char *module;		/* required: path of the PKCS#11 module */
		char *token;		/* required: token label (1..32 chars) */
		char *token_dir;	/* optional: the directory the HSM keeps
					   its tokens' files in (SoftHSM's
					   directories.tokendir); backup needs it */
	} hsm;
	struct {
		unsigned shares;	/* default 3; 2..16 */
		unsigned threshold;	/* default 2; 2..shares */
	} quorum;
	struct {
		char *address;		/* default "127.0.0.1" */
		unsigned port;		/* default 8443; 1..65535 */
	} listen;
	struct {
		/* Absolute paths, NULL when absent. */
		char *certificate;	/* optional here; seald requires it */
		char *key;
		char *client_ca;
		char *crl;		/* optional */
		unsigned crl_days;	/* validity of the CRLs the appliance CA makes */
	} tls;
	char *admin_socket;		/* default "/run/sealbox/admin.sock";
					   absolute, at most 107 bytes */
	struct {
		unsigned max_body;	/* bytes; default 1 MiB; 1 KiB..64 MiB */
		unsigned max_headers;	/* bytes; default 8192; 1024..65536 */
		unsigned max_connections; /* default 512 */
		unsigned idle_timeout;	/* seconds without a byte; default 60 */
		unsigned read_timeout;	/* seconds for a whole request; default 30 */
		unsigned queue_max;	/* requests waiting for the monitor; default 4096 */
	} http;
	struct {
		unsigned require_sync;	/* 1 (default): no timestamp or seal while the
					   kernel says the clock is unsynchronised */
	} time;
	struct {
		unsigned batch_max;	/* items per POST /v1/sign/batch; default 100 */
	} sign;
	struct {
		unsigned max_size;	/* bytes of one PDF to seal; default 32 MiB;
					   1 KiB..256 MiB */
		unsigned max_objects;	/* objects in it; default 100000 */
		char *location;		/* the signature's /Location; NULL: none */
		char *pdftotext;	/* poppler's pdftotext, run for each PDF to read
					   its text; default /usr/bin/pdftotext */
		unsigned text_seconds;	/* CPU and wall-clock seconds it may take;
					   default 10; 1..300 */
		unsigned text_memory_mb;	/* its address space; default 1024 MiB;
						   64..16384 */
	} pdf;
	struct {
		unsigned ttl_hours;	/* a pending request expires after this; default
					   168 (a week); 1..8760 */
	} requests;
	struct {
		char *user;		/* net worker's user when seald starts as root;
					   default "nobody" */
		char *chroot;		/* its empty root; default state_dir/netroot */
	} net;
	struct {
		unsigned workers;	/* monitor threads answering requests; default 16 */
	} monitor;
	struct {
		unsigned burst_max;	/* sealings per seal or principal in burst_window
					   before a burst alert; default 100; 1..1000000 */
		unsigned burst_window;	/* seconds; default 60; 1..86400 */
		unsigned refusals_max;	/* refusals of one principal in refusals_window
					   before an alert; default 5; 1..100000 */
		unsigned refusals_window; /* seconds; default 300; 1..86400 */
	} alerts;
	struct {
		/* Console admin logins (docs/admin-guide.md). */
		unsigned argon2_t;	/* argon2id passes; default 3; 1..16 */
		unsigned argon2_m_kib;	/* argon2id memory, KiB; default 65536; 8192..1048576 */
		unsigned argon2_p;	/* argon2id lanes; default 1; 1..1 for now (more
					   would start threads in the sandboxed monitor) */
		unsigned max_failures;	/* failed logins before a lockout; default 5; 1..100 */
		unsigned lockout_seconds; /* default 300; 1..86400 */
		unsigned idle_seconds;	/* a session ends after this long unused; default
					   300; 1..86400 */
		char *poweroff_command;	/* run by sealadm, split at spaces, no shell;
					   default "systemctl poweroff" */
		char *reboot_command;	/* default "systemctl reboot" */
		char *network_root;	/* the network files go under it; default "/" */
		char *network_match;	/* networkd's [Match] Name=; default "en* eth*" */
		char *network_command;	/* run after they are written; default
					   "systemctl restart systemd-networkd
					   systemd-timesyncd" */
		char *backup_dir;	/* where the backup disk is mounted: the
					   menu's backups go there by default; none */
		char *backup_mount_command;	/* run (no shell) before the backup
					   disk is used; none: always there */
		char *backup_umount_command;	/* run after; none */
	} console;
};

/*
 * Load and validate the file at path (CONFIG_DEFAULT_PATH when NULL).
 * On success *out is a new config (free with config_free). On failure *out is
 * NULL and the call returns
 *   SB_ECONFIG  the file is wrong: bad YAML, unknown or duplicate key, wrong
 *               type, out of range, missing required key, larger than
 *               CONFIG_MAX_BYTES;
 *   SB_EIO      the file cannot be opened or read (the message carries
 *               strerror);
 *   SB_ENOMEM   out of memory;
 * and err (errlen bytes, CONFIG_ERR_MAX is enough; may be NULL) holds one
 * line, "FILE:LINE: KEY: what is wrong". LINE is 1-based and left out when
 * there is none (a missing key whose section is absent, a file that cannot
 * be read); KEY is the full dotted key and left out when the error concerns
 * none (a syntax error). Values quoted in it are cut at 40 bytes, and FILE
 * and values have bytes other than printable ASCII escaped as \xNN.
 */
int config_load(const char *path, struct config **out, char *err, size_t errlen);

/* 1 when s (n bytes) is a valid appliance.id: [a-z0-9][a-z0-9-]{0,15}. */
int config_id_ok(const char *s, size_t n);
/*
 * Same, from len bytes at data (no NUL needed); name is used in messages and
 * in cfg->path in place of a path ("(config)" when NULL). Never SB_EIO.
 */
int config_load_buffer(const char *name, const char *data, size_t len,
    struct config **out, char *err, size_t errlen);
/* Accepts NULL. */
void config_free(struct config *cfg);

/*
 * The first-boot template for the configuration at config (NULL: the
 * default path): given when not NULL; else a site template beside it
 * (DIR/seald.yaml.firstboot, e.g. on the data disk) when readable; else
 * CONFIG_FIRSTBOOT_TEMPLATE. Into out.
 */
void config_firstboot_template(const char *config, const char *given, char *out, size_t cap);

#endif
