/*
 * sealprov — provisioning: the key ceremony, share checks, re-share and the
 * key operations that need a quorum of shares. See docs/man/sealprov.8.
 *
 * Shares are read from files or standard input ("-") into secret memory and
 * never echoed; shares made here are either written one file per admin (mode
 * 0600, in a directory that must not already hold them) or shown once on the
 * terminal, one screen per admin. This program never prints a PIN or S.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/client/tty.h"
#include "daemon/client/ceremony.h"
#include "hsm/custody.h"
#include "hsm/hsm.h"
#include "hsm/keyctl.h"
#include "lib/backup.h"
#include "lib/config.h"
#include "lib/err.h"
#include "lib/log.h"
#include "lib/secret.h"
#include "provisioning/prov.h"

#define SHARE_FILE_MAX 4096	/* a share file larger than this is refused */
#define ERRLEN 512

struct opts {
	const char *config;
	const char *share_dir;
	const char *type;
	const char *label;
	const char *cn, *org, *san, *out_dir, *out, *serial;
	const char *template;	/* firstboot */
	const char *backup;	/* restore */
	int days;
	unsigned wait;		/* firstboot: seconds; 0: the default */
	char **shares;		/* share files, "-" for standard input */
	int nshares;
};

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: sealprov COMMAND --config FILE [options] [SHARE_FILE...]\n"
	    "\n"
	    "  firstboot    [--template FILE] [--san NAMES] [--wait SECONDS]\n"
	    "                                   the first boot at the console: three admins,\n"
	    "                                   the ceremony, the keys; writes --config\n"
	    "                                   (default " CONFIG_DEFAULT_PATH ") from the\n"
	    "                                   template (default: seald.yaml.firstboot beside\n"
	    "                                   the config if there is one, else\n"
	    "                                   " CONFIG_FIRSTBOOT_TEMPLATE ")\n"
	    "  ceremony     [--share-dir DIR]   initialise the token and make the shares\n"
	    "  check-shares SHARE_FILE...       check shares without using them\n"
	    "  reshare      --share-dir DIR SHARE_FILE...\n"
	    "                                   new master secret and shares; old ones revoked\n"
	    "  keygen       --type TYPE --label LABEL SHARE_FILE...\n"
	    "                                   generate a key pair in the HSM\n"
	    "                                   (TYPE: ec-p256, ec-p384, rsa-2048, rsa-3072)\n"
	    "  keys         SHARE_FILE...       list the keys on the token\n"
	    "  appliance-init SHARE_FILE...     make the appliance CA, TSA and audit keys\n"
	    "  tls-server   --cn CN --san SAN --out-dir DIR SHARE_FILE...\n"
	    "                                   issue seald's TLS server certificate\n"
	    "  enrol        --cn NAME [--org ORG] [--days N] --out-dir DIR SHARE_FILE...\n"
	    "                                   issue a business system's client certificate\n"
	    "  revoke       [--serial HEX] [--days N] [--out FILE] SHARE_FILE...\n"
	    "                                   revoke a client certificate; write the CRL\n"
	    "                                   (valid N days, default tls.crl_days) to --out\n"
	    "                                   (default tls.crl); seald takes it on SIGHUP\n"
	    "  restore      --backup FILE [--template FILE] [SHARE_FILE...]\n"
	    "                                   a backup (sealadm backup create) onto a freshly\n"
	    "                                   installed appliance, checked whole first; with\n"
	    "                                   no --config file yet, the backup's own is\n"
	    "                                   installed (its module and commands as in\n"
	    "                                   --template); no share files: typed, not shown\n"
	    "\n"
	    "A SHARE_FILE of \"-\" reads one share from standard input.\n");
}

/* First line of buf that is neither blank nor a comment, in place. */
static char *
share_line(char *buf)
{
	char *line = buf, *end;

	while (line != NULL && *line != '\0') {
		end = strchr(line, '\n');
		if (end != NULL)
			*end = '\0';
		while (*line == ' ' || *line == '\t' || *line == '\r')
			line++;
		if (*line != '\0' && *line != '#')
			return line;
		line = end ? end + 1 : NULL;
	}
	return NULL;
}

/* Read one line of stdin (skipping comments) into buf, one byte at a time so
 * that no stdio buffer keeps a copy and later shares stay unread. */
static int
share_read_stdin(char *buf, size_t cap)
{
	size_t n;
	ssize_t r;
	char c = 0;

	for (;;) {
		n = 0;
		while ((r = read(STDIN_FILENO, &c, 1)) != 0) {
			if (r < 0) {
				if (errno == EINTR)
					continue;
				return SB_EIO;
			}
			if (c == '\n')
				break;
			if (n + 1 >= cap)
				return SB_ELIMIT;
			buf[n++] = c;
		}
		buf[n] = '\0';
		if (share_line(buf) != NULL)
			return 0;
		if (r == 0)
			return SB_ENOTFOUND;	/* end of input */
	}
}

static int
share_read_file(const char *path, char *buf, size_t cap)
{
	size_t n = 0;
	ssize_t r;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return SB_EIO;
	while ((r = read(fd, buf + n, cap - 1 - n)) > 0) {
		n += (size_t)r;
		if (n == cap - 1) {
			close(fd);
			return SB_ELIMIT;
		}
	}
	close(fd);
	if (r < 0)
		return SB_EIO;
	buf[n] = '\0';
	return 0;
}

/* Add every share named on the command line to set; prints one line per share. */
static int
read_shares(const struct opts *o, struct custody_set *set, unsigned *have, unsigned *need)
{
	char detail[256];
	char *buf, *line;
	int rc = 0;

	if ((buf = secret_alloc(SHARE_FILE_MAX)) == NULL)
		return SB_ENOMEM;
	for (int i = 0; i < o->nshares && rc == 0; i++) {
		const char *name = o->shares[i];

		rc = strcmp(name, "-") == 0 ? share_read_stdin(buf, SHARE_FILE_MAX)
		    : share_read_file(name, buf, SHARE_FILE_MAX);
		if (rc != 0) {
			fprintf(stderr, "sealprov: %s: %s\n", name,
			    rc == SB_ENOTFOUND ? "no share on standard input" :
			    rc == SB_ELIMIT ? "too long to be a share" : strerror(errno));
			break;
		}
		if ((line = share_line(buf)) == NULL) {
			fprintf(stderr, "sealprov: %s: no share in this file\n", name);
			rc = SB_ESHARE_FORMAT;
			break;
		}
		detail[0] = '\0';
		rc = custody_set_add(set, line, have, need, detail, sizeof(detail));
		if (rc != 0)
			fprintf(stderr, "sealprov: %s: %s%s%s\n", name, sb_strerror(rc),
			    detail[0] ? ": " : "", detail);
		else
			printf("%s: %s\n", name, detail);
		secret_wipe(buf, SHARE_FILE_MAX);
	}
	secret_free(&buf);
	return rc;
}

/* The set of shares for cfg, read from the command line; NULL on failure. */
static struct custody_set *
gather(const struct config *cfg, const struct opts *o, int want_quorum)
{
	struct custody_set *set;
	char err[ERRLEN];
	unsigned have = 0, need = 0;

	if (o->nshares == 0) {
		fprintf(stderr, "sealprov: no share files given\n");
		return NULL;
	}
	if (keyctl_set_new(cfg, &set, err, sizeof(err)) != 0) {
		fprintf(stderr, "sealprov: %s\n", err);
		return NULL;
	}
	if (read_shares(o, set, &have, &need) != 0) {
		custody_set_free(set);
		return NULL;
	}
	if (want_quorum && have < need) {
		fprintf(stderr, "sealprov: %u of %u shares: %s\n", have, need,
		    sb_strerror(SB_ESHARE_TOOFEW));
		custody_set_free(set);
		return NULL;
	}
	return set;
}

/* keyctl's deliver: the shares into files (ceremony_write_shares). */
static int
write_shares(const struct keyctl_shares *sh, void *arg)
{
	const char **ctx = arg;	/* { dir, appliance id } */

	return ceremony_write_shares(sh, ctx[0], ctx[1], NULL);
}

/* Show each share on its own screen, once; only to a terminal. */
static int
show_shares(const struct keyctl_shares *sh, const char *appliance)
{
	char c;

	for (unsigned i = 0; i < sh->count; i++) {
		printf("\033[H\033[2J");
		printf("Sealbox %s: master-secret share %u of %u\n\n", appliance, i + 1,
		    sh->count);
		printf("For administrator %u only. Any %u shares unlock the appliance.\n"
		    "Write it down now; it will not be shown again.\n\n    %s\n\n"
		    "Press Enter when it is written down.", i + 1, sh->threshold, sh->text[i]);
		fflush(stdout);
		while (read(STDIN_FILENO, &c, 1) == 1 && c != '\n')
			;
	}
	printf("\033[H\033[2J%u shares shown. They are not stored anywhere.\n", sh->count);
	return 0;
}

static int
cmd_ceremony(const struct config *cfg, const struct opts *o)
{
	struct keyctl_shares sh;
	const char *ctx[2] = { o->share_dir, cfg->appliance.id };
	char err[ERRLEN];
	int rc;

	if (o->share_dir == NULL && !(isatty(STDIN_FILENO) && isatty(STDOUT_FILENO))) {
		fprintf(stderr, "sealprov: shares are shown only on a terminal; "
		    "use --share-dir to write them to files\n");
		return 2;
	}
	if ((rc = keyctl_ceremony(cfg, &sh, err, sizeof(err))) != 0) {
		fprintf(stderr, "sealprov: ceremony failed: %s\n", err);
		return 1;
	}
	printf("token '%s' initialised; %u shares, any %u unlock it\n", cfg->hsm.token,
	    sh.count, sh.threshold);
	rc = o->share_dir ? write_shares(&sh, ctx) : show_shares(&sh, cfg->appliance.id);
	keyctl_shares_free(&sh);
	return rc == 0 ? 0 : 1;
}

static int
cmd_check_shares(const struct config *cfg, const struct opts *o)
{
	struct custody_set *set = gather(cfg, o, 0);
	struct hsm *h = NULL;
	char err[ERRLEN];
	unsigned m = 0, n = 0;
	uint8_t cer[CUSTODY_CEREMONY_LEN];
	int rc;

	if (set == NULL)
		return 1;
	custody_set_info(set, cer, &m, &n);
	if (custody_set_count(set) < m) {
		printf("each share is well-formed and belongs to %s; %u of %u needed to "
		    "check that they combine\n", cfg->appliance.id, custody_set_count(set), m);
		custody_set_free(set);
		return 0;
	}
	rc = keyctl_unseal(cfg, set, &h, NULL, err, sizeof(err));
	custody_set_free(set);
	hsm_close(h);
	if (rc != 0) {
		fprintf(stderr, "sealprov: %s\n", err);
		return 1;
	}
	printf("the shares combine to this appliance's master secret and unlock token '%s'\n",
	    cfg->hsm.token);
	return 0;
}

static int
cmd_reshare(const struct config *cfg, const struct opts *o)
{
	struct custody_set *set;
	struct keyctl_shares sh;
	const char *ctx[2] = { o->share_dir, cfg->appliance.id };
	char err[ERRLEN];
	int rc;

	if (o->share_dir == NULL) {
		fprintf(stderr, "sealprov: reshare needs --share-dir for the new shares\n");
		return 2;
	}
	if ((set = gather(cfg, o, 1)) == NULL)
		return 1;
	rc = keyctl_reshare(cfg, set, write_shares, ctx, &sh, err, sizeof(err));
	custody_set_free(set);
	keyctl_shares_free(&sh);
	if (rc != 0) {
		fprintf(stderr, "sealprov: reshare failed: %s\n", err);
		return 1;
	}
	printf("re-share done: the old shares no longer unlock anything\n");
	return 0;
}

static void
print_id(const uint8_t *id, size_t len)
{
	for (size_t i = 0; i < len; i++)
		printf("%02x", id[i]);
}

/* Unseal with the given shares; NULL (and a message) on failure. */
static struct hsm *
open_token(const struct config *cfg, const struct opts *o)
{
	struct custody_set *set = gather(cfg, o, 1);
	struct hsm *h = NULL;
	char err[ERRLEN];

	if (set == NULL)
		return NULL;
	if (keyctl_unseal(cfg, set, &h, NULL, err, sizeof(err)) != 0)
		fprintf(stderr, "sealprov: %s\n", err);
	custody_set_free(set);
	return h;
}

static int
cmd_keygen(const struct config *cfg, const struct opts *o)
{
	enum hsm_key_type type;
	uint8_t id[HSM_ID_LEN];
	struct hsm *h;
	int rc;

	if (o->type == NULL || hsm_key_type_parse(o->type, &type) != 0) {
		fprintf(stderr, "sealprov: --type must be ec-p256, ec-p384, rsa-2048 or rsa-3072\n");
		return 2;
	}
	if (o->label == NULL || o->label[0] == '\0' || strlen(o->label) > HSM_LABEL_MAX) {
		fprintf(stderr, "sealprov: --label must have 1 to %d characters\n", HSM_LABEL_MAX);
		return 2;
	}
	if ((h = open_token(cfg, o)) == NULL)
		return 1;
	rc = hsm_keygen(h, type, o->label, id);
	if (rc != 0)
		fprintf(stderr, "sealprov: key generation failed: %s%s%s\n", sb_strerror(rc),
		    hsm_error(h)[0] ? ": " : "", hsm_error(h));
	else {
		printf("generated %s key '%s' id ", hsm_key_type_name(type), o->label);
		print_id(id, sizeof(id));
		printf("\n");
	}
	hsm_close(h);
	return rc == 0 ? 0 : 1;
}

static int
cmd_keys(const struct config *cfg, const struct opts *o)
{
	struct hsm_key_info *keys = NULL;
	struct hsm *h;
	size_t n = 0;
	int rc;

	if ((h = open_token(cfg, o)) == NULL)
		return 1;
	if ((rc = hsm_key_list(h, &keys, &n)) != 0) {
		fprintf(stderr, "sealprov: cannot list keys: %s\n", sb_strerror(rc));
		hsm_close(h);
		return 1;
	}
	printf("%-32s  %-8s  %-4s  %s\n", "ID", "TYPE", "CERT", "LABEL");
	for (size_t i = 0; i < n; i++) {
		print_id(keys[i].id, keys[i].id_len);
		printf("%*s  %-8s  %-4s  %s\n",
		    keys[i].id_len < 16 ? (int)(32 - 2 * keys[i].id_len) : 0, "",
		    hsm_key_type_name(keys[i].type), keys[i].has_cert ? "yes" : "no",
		    keys[i].label);
	}
	free(keys);
	hsm_close(h);
	return 0;
}

static int
cmd_appliance_init(const struct config *cfg, const struct opts *o)
{
	struct hsm *h = open_token(cfg, o);
	int rc;

	if (h == NULL)
		return 1;
	rc = prov_appliance_init(cfg, h);
	hsm_close(h);
	return rc == 0 ? 0 : 1;
}

static int
cmd_leaf(const struct config *cfg, const struct opts *o, int server)
{
	struct prov_leaf l = { o->cn, o->org ? o->org : "Sealbox", o->san, o->out_dir,
		server ? "server" : "client", o->days };
	struct hsm *h;
	int rc;

	if (o->cn == NULL || o->out_dir == NULL || (server && o->san == NULL)) {
		fprintf(stderr, "sealprov: %s needs --cn%s and --out-dir\n",
		    server ? "tls-server" : "enrol", server ? ", --san" : "");
		return 2;
	}
	if ((h = open_token(cfg, o)) == NULL)
		return 1;
	rc = server ? prov_tls_server(cfg, h, &l) : prov_enrol(cfg, h, &l);
	hsm_close(h);
	return rc == 0 ? 0 : 1;
}

static int
cmd_tls_server(const struct config *cfg, const struct opts *o)
{
	return cmd_leaf(cfg, o, 1);
}

static int
cmd_enrol(const struct config *cfg, const struct opts *o)
{
	return cmd_leaf(cfg, o, 0);
}

static int
cmd_revoke(const struct config *cfg, const struct opts *o)
{
	struct hsm *h = open_token(cfg, o);
	int rc;

	if (h == NULL)
		return 1;
	rc = prov_revoke(cfg, h, o->serial, o->days, o->out);
	hsm_close(h);
	return rc == 0 ? 0 : 1;
}

/* Shares typed at the terminal, not shown, one per holder: need of them. */
static int
typed_shares(struct custody_set *set, unsigned need)
{
	char detail[256], *line;
	unsigned have = 0, m = 0;
	int rc = 0;

	if ((line = secret_alloc(CUSTODY_SHARE_TEXT_MAX)) == NULL)
		return SB_ENOMEM;
	printf("The backup opens with %u shares. Each share holder in turn: step forward\n"
	    "and type your share; it is not shown.\n", need);
	while (have < need) {
		/* No fflush: tty_read_line shows the prompt once echo is off. */
		printf("share %u of %u (not shown): ", have + 1, need);
		if ((rc = tty_read_line(STDIN_FILENO, line, CUSTODY_SHARE_TEXT_MAX, 1, 0)) !=
		    TTY_OK) {
			printf("\n");
			if (rc == TTY_EOF)
				break;
			printf("input refused: not a share; again\n");
			continue;
		}
		detail[0] = '\0';
		if ((rc = custody_set_add(set, line, &have, &m, detail, sizeof(detail))) != 0)
			printf("refused: %s%s%s; again\n", sb_strerror(rc), detail[0] ? ": " : "",
			    detail);
		else
			printf("%s\n", detail);
		secret_wipe(line, CUSTODY_SHARE_TEXT_MAX);
	}
	secret_free(&line);
	return have >= need ? 0 : SB_ESHARE_TOOFEW;
}

/*
 * sealprov restore --backup FILE [SHARE_FILE...]: see restore.c. cfg NULL:
 * no configuration at config_path yet, the backup's own is installed there.
 * No share files: typed at the terminal.
 */
static int
cmd_restore(const struct config *cfg, const struct opts *o, const char *config_path,
    const char *template)
{
	struct backup_header h;
	struct custody_record rec;
	struct custody_set *set = NULL;
	uint8_t *key = NULL;
	char err[ERRLEN];
	unsigned have = 0, need = 0;
	int fd = -1, rc = 1;

	if (o->backup == NULL || (o->nshares == 0 && !isatty(STDIN_FILENO))) {
		fprintf(stderr, "sealprov: restore needs --backup FILE and the share files of "
		    "the backup's quorum (or a terminal to type them at)\n");
		return 2;
	}
	if (prov_restore_open(cfg, o->backup, &fd, &h, &rec) != 0)
		return 1;
	if ((set = custody_set_new(h.appliance, &rec)) == NULL ||
	    (key = secret_alloc(BACKUP_KEY_LEN)) == NULL) {
		fprintf(stderr, "sealprov: %s: its custody fields are invalid\n", o->backup);
		goto out;
	}
	if (o->nshares > 0 ? read_shares(o, set, &have, &need) != 0 :
	    typed_shares(set, h.threshold) != 0)
		goto out;
	if (keyctl_backup_key(&rec, set, h.salt, key, err, sizeof(err)) != 0) {
		fprintf(stderr, "sealprov: %s: the shares do not open it: %s\n", o->backup, err);
		goto out;
	}
	custody_set_free(set);	/* wipes the shares */
	set = NULL;
	rc = prov_restore_run(cfg, config_path, template, o->backup, fd, &h, key);
out:
	if (fd >= 0)
		close(fd);
	custody_set_free(set);
	secret_free(&key);
	return rc;
}

static int
parse(int argc, char **argv, struct opts *o)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "share-dir", required_argument, NULL, 'd' },
		{ "type", required_argument, NULL, 't' },
		{ "label", required_argument, NULL, 'l' },
		{ "cn", required_argument, NULL, 'N' },
		{ "org", required_argument, NULL, 'O' },
		{ "san", required_argument, NULL, 'S' },
		{ "out-dir", required_argument, NULL, 'D' },
		{ "out", required_argument, NULL, 'o' },
		{ "serial", required_argument, NULL, 's' },
		{ "days", required_argument, NULL, 'y' },
		{ "template", required_argument, NULL, 'T' },
		{ "wait", required_argument, NULL, 'W' },
		{ "backup", required_argument, NULL, 'B' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char *end;
	int c;

	memset(o, 0, sizeof(*o));
	optind = 1;
	while ((c = getopt_long(argc, argv, "c:d:t:l:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'c': o->config = optarg; break;
		case 'd': o->share_dir = optarg; break;
		case 't': o->type = optarg; break;
		case 'l': o->label = optarg; break;
		case 'N': o->cn = optarg; break;
		case 'O': o->org = optarg; break;
		case 'S': o->san = optarg; break;
		case 'D': o->out_dir = optarg; break;
		case 'o': o->out = optarg; break;
		case 's': o->serial = optarg; break;
		case 'y': o->days = atoi(optarg); break;
		case 'T': o->template = optarg; break;
		case 'B': o->backup = optarg; break;
		case 'W':
			o->wait = (unsigned)strtoul(optarg, &end, 10);
			if (*end != '\0' || o->wait < 1 || o->wait > 3600) {
				fprintf(stderr, "sealprov: --wait: 1 to 3600 seconds\n");
				return -1;
			}
			break;
		case 'h': usage(stdout); exit(0);
		default: return -1;
		}
	}
	o->shares = argv + optind;
	o->nshares = argc - optind;
	return 0;
}

/* --template; else a site template beside the configuration
 * (DIR/seald.yaml.firstboot, e.g. on the data disk), else the one shipped. */
static const char *
firstboot_template(const struct opts *o)
{
	static char path[4200];

	config_firstboot_template(o->config, o->template, path, sizeof(path));
	return path;
}

int
main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(const struct config *, const struct opts *);
		int takes_shares;
	} cmds[] = {
		{ "ceremony", cmd_ceremony, 0 },
		{ "check-shares", cmd_check_shares, 1 },
		{ "reshare", cmd_reshare, 1 },
		{ "keygen", cmd_keygen, 1 },
		{ "keys", cmd_keys, 1 },
		{ "appliance-init", cmd_appliance_init, 1 },
		{ "tls-server", cmd_tls_server, 1 },
		{ "enrol", cmd_enrol, 1 },
		{ "revoke", cmd_revoke, 1 },
	};
	struct config *cfg = NULL;
	struct opts o;
	char err[CONFIG_ERR_MAX];
	int rc;

	log_init("sealprov", LOG_TO_STDERR);
	if (secret_harden_process() != 0)
		fprintf(stderr, "sealprov: warning: cannot make the process non-dumpable\n");
	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		usage(stdout);
		return 0;
	}
	if (argc >= 2 && strcmp(argv[1], "--version") == 0) {
		printf("sealprov %s\n", SB_VERSION);
		return 0;
	}
	if (argc >= 2 && strcmp(argv[1], "firstboot") == 0) {
		/* The config does not exist yet: firstboot reads the template. */
		if (parse(argc - 1, argv + 1, &o) != 0 || o.nshares > 0) {
			usage(stderr);
			return 2;
		}
		return prov_firstboot(o.config ? o.config : CONFIG_DEFAULT_PATH,
		    firstboot_template(&o), o.san, o.wait ? o.wait : 300);
	}
	if (argc >= 2 && strcmp(argv[1], "restore") == 0) {
		const char *path;

		if (parse(argc - 1, argv + 1, &o) != 0) {
			usage(stderr);
			return 2;
		}
		path = o.config ? o.config : CONFIG_DEFAULT_PATH;
		if (access(path, F_OK) != 0 && errno == ENOENT)
			printf("no configuration at %s yet: the backup's own is installed there\n",
			    path);
		else if (config_load(o.config, &cfg, err, sizeof(err)) != 0) {
			fprintf(stderr, "sealprov: %s\n", err);
			return 1;
		}
		rc = cmd_restore(cfg, &o, path, firstboot_template(&o));
		config_free(cfg);
		return rc;
	}
	for (size_t i = 0; argc >= 2 && i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		if (strcmp(argv[1], cmds[i].name) != 0)
			continue;
		if (parse(argc - 1, argv + 1, &o) != 0) {
			usage(stderr);
			return 2;
		}
		if (!cmds[i].takes_shares && o.nshares > 0) {
			fprintf(stderr, "sealprov: %s takes no share files\n", cmds[i].name);
			return 2;
		}
		if (config_load(o.config, &cfg, err, sizeof(err)) != 0) {
			fprintf(stderr, "sealprov: %s\n", err);
			return 1;
		}
		rc = cmds[i].fn(cfg, &o);
		config_free(cfg);
		return rc;
	}
	usage(stderr);
	return 2;
}
