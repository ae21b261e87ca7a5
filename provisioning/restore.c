/*
 * restore — sealprov restore: a backup (lib/backup.h, written by seald's
 * monitor) onto a freshly installed appliance.
 *
 * Nothing on the appliance changes until the whole file has been read and
 * checked. The order:
 *
 *  1. this appliance can take it: no custody record, no ledger, no token
 *     with the configured label, hsm.token_dir set;
 *  2. the header: a Sealbox backup, of this appliance id;
 *  3. (sealprov.c) M shares of the ceremony named in the header rebuild S
 *     and so the file's key;
 *  4. every entry is decrypted into a staging directory in state_dir
 *     (mode 0700), every chunk's tag checked, to the last one;
 *  5. what was staged is checked: the manifest names this appliance; the
 *     custody record is the header's; the ledger verifies whole (every
 *     entry, tree node and signed tree head, under the audit key it
 *     carries) and its root at the manifest's size is the manifest's; then
 *     it is copied compacted (mdb_env_copy2, MDB_CP_COMPACT);
 *  6. the token is the configured one (label; SoftHSM's token directory is
 *     hsm.token_dir); with no configuration here yet, the backup's own
 *     names the template's module and commands; no destination exists yet;
 *  7. then it is installed by rename (never over a file): the token's
 *     directory, the TLS files, the state files, the ledger, the custody
 *     record, and last the configuration when there was none (its
 *     appearance may start seald), so that a restore cut short leaves an
 *     appliance that is still "never provisioned" (remove what it left and
 *     run it again).
 *
 * Any failure before step 7 removes the staging directory and leaves the
 * appliance exactly as it was.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <signal.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <lmdb.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "daemon/ledger/ledger.h"
#include "hsm/custody.h"
#include "hsm/hsm.h"
#include "lib/backup.h"
#include "lib/config.h"
#include "lib/fdio.h"
#include "lib/err.h"
#include "lib/secret.h"
#include "provisioning/prov.h"

/* A directory the restore works in (state_dir's parent, the staging
 * directory), and a path made from one of those and a few more names. */
#define DIR_MAX 4096
#define PATHX_MAX (DIR_MAX + 2 * BACKUP_NAME_MAX + 64)

/* ---- step 1 and 2 -------------------------------------------------------- */

static int
exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0 || errno != ENOENT;
}

/* Step 1: this appliance can take a restore. 0, or 1 with the reason printed. */
static int
target_ok(const struct config *cfg)
{
	struct custody_record cur;
	struct hsm *tok = NULL;
	char p[PATHX_MAX];
	struct stat st;
	int rc;

	if ((rc = custody_record_load(cfg->appliance.state_dir, &cur)) != SB_ENOTFOUND) {
		fprintf(stderr, "sealprov: this appliance is provisioned already (%s/custody.json "
		    "%s): a backup is restored only onto a freshly installed appliance\n",
		    cfg->appliance.state_dir, rc == 0 ? "exists" : "is there but unreadable");
		return 1;
	}
	snprintf(p, sizeof(p), "%s/ledger", cfg->appliance.state_dir);
	if (exists(p)) {
		fprintf(stderr, "sealprov: %s exists: a backup is restored only onto a freshly "
		    "installed appliance\n", p);
		return 1;
	}
	if (cfg->hsm.token_dir == NULL || stat(cfg->hsm.token_dir, &st) != 0 ||
	    !S_ISDIR(st.st_mode)) {
		fprintf(stderr, "sealprov: hsm.token_dir %s%s: the token's files are restored "
		    "there (SoftHSM's directories.tokendir)\n", cfg->hsm.token_dir ?
		    cfg->hsm.token_dir : "is not set in the configuration",
		    cfg->hsm.token_dir ? " is not a directory" : "");
		return 1;
	}
	if ((rc = hsm_open(cfg->hsm.module, cfg->hsm.token, &tok)) == 0) {
		hsm_close(tok);
		fprintf(stderr, "sealprov: a token labelled '%s' exists already on this HSM: a "
		    "backup is restored only onto a freshly installed appliance\n", cfg->hsm.token);
		return 1;
	}
	if (rc != SB_EHSM_NOTOKEN) {
		fprintf(stderr, "sealprov: cannot look at the HSM: %s\n", hsm_error(NULL));
		return 1;
	}
	return 0;
}

/* The backup's appliance id against the configuration's. */
static int
same_id(const struct config *cfg, const char *path, const struct backup_header *h)
{
	if (strcmp(h->appliance, cfg->appliance.id) == 0)
		return 0;
	fprintf(stderr, "sealprov: %s is a backup of appliance %s, and this one is %s "
	    "(appliance.id): restore it on an appliance configured as %s\n", path,
	    h->appliance, cfg->appliance.id, h->appliance);
	return 1;
}

int
prov_restore_open(const struct config *cfg, const char *path, int *fd,
    struct backup_header *h, struct custody_record *rec)
{
	int rc;

	*fd = -1;
	if (cfg != NULL && target_ok(cfg) != 0)
		return 1;
	if ((*fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		fprintf(stderr, "sealprov: %s: %s\n", path, strerror(errno));
		return 1;
	}
	rc = backup_header_read(*fd, h);
	if (rc != 0 || (cfg != NULL && same_id(cfg, path, h) != 0)) {
		if (rc != 0)
			fprintf(stderr, "sealprov: %s: %s\n", path,
			    rc == SB_EINVAL ? "not a Sealbox backup" :
			    rc == SB_EUNSUPPORTED ? "a backup of a format this version does not know" :
			    rc == SB_EIO ? "too short to be a backup (damaged or cut short)" :
			    "damaged: its header is malformed");
		close(*fd);
		*fd = -1;
		return 1;
	}
	memset(rec, 0, sizeof(*rec));
	snprintf(rec->appliance, sizeof(rec->appliance), "%.*s", (int)sizeof(rec->appliance) - 1,
	    h->appliance);
	memcpy(rec->ceremony, h->ceremony, sizeof(rec->ceremony));
	rec->threshold = h->threshold;
	rec->count = h->count;
	memcpy(rec->check, h->check, sizeof(rec->check));
	rec->created = (long long)h->created;
	return 0;
}

/* ---- step 4: into the staging directory ---------------------------------- */

struct stage {
	const char *dir;
	int fd;			/* the entry being written, or -1 */
	char name[BACKUP_NAME_MAX + 1];
	char token_sub[BACKUP_NAME_MAX + 1];	/* token/<this>/... */
	int token_subs;		/* distinct token directories seen */
	unsigned files;
};

static int
stage_mkdirs(const char *dir, const char *name)
{
	char path[PATHX_MAX];
	size_t base = strlen(dir) + 1;

	if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path))
		return SB_ELIMIT;
	for (char *p = path + base; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, 0700) != 0 && errno != EEXIST)
			return SB_EIO;
		*p = '/';
	}
	return 0;
}

static int
stage_file(void *arg, const char *name, unsigned mode, uint64_t size)
{
	struct stage *s = arg;
	char path[PATHX_MAX];
	const char *slash;
	int rc;

	(void)size;
	if (s->fd >= 0) {	/* the previous file, on the disk before the next */
		rc = fsync(s->fd);
		close(s->fd);
		s->fd = -1;
		if (rc != 0)
			return SB_EIO;
	}
	/* Only what a backup holds; anything else is not ours to write. */
	if (strncmp(name, "state/", 6) == 0 || strncmp(name, "tls/", 4) == 0 ||
	    strncmp(name, "config/", 7) == 0) {
		if (strchr(strchr(name, '/') + 1, '/') != NULL)
			return SB_EINVAL;
	} else if (strncmp(name, "token/", 6) == 0) {
		if ((slash = strchr(name + 6, '/')) == NULL || strchr(slash + 1, '/') != NULL)
			return SB_EINVAL;
		if (s->token_subs == 0 || strncmp(s->token_sub, name + 6,
		    (size_t)(slash - name - 6)) != 0 || s->token_sub[slash - name - 6] != '\0') {
			snprintf(s->token_sub, sizeof(s->token_sub), "%.*s", (int)(slash - name - 6),
			    name + 6);
			s->token_subs++;
		}
	} else if (strcmp(name, "manifest.json") != 0 && strcmp(name, "ledger/data.mdb") != 0)
		return SB_EINVAL;
	if ((rc = stage_mkdirs(s->dir, name)) != 0)
		return rc;
	snprintf(path, sizeof(path), "%s/%s", s->dir, name);
	if ((s->fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
	    (mode & 0666) | 0600)) < 0)
		return SB_EIO;
	snprintf(s->name, sizeof(s->name), "%s", name);
	s->files++;
	return 0;
}

static int
stage_data(void *arg, const uint8_t *p, size_t n)
{
	return fd_write_all(((struct stage *)arg)->fd, p, n);
}

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)f;
	if (flag == FTW_DP)
		return rmdir(path) == 0 ? 0 : -1;
	return unlink(path) == 0 ? 0 : -1;
}

static void
stage_remove(const char *dir)
{
	if (dir[0] != '\0' && nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS) != 0)
		fprintf(stderr, "sealprov: cannot remove the staging directory %s: %s\n", dir,
		    strerror(errno));
}

/* ---- step 5: what was staged --------------------------------------------- */

static json_t *
load_manifest(const char *dir)
{
	char path[PATHX_MAX];
	json_error_t e;

	snprintf(path, sizeof(path), "%s/manifest.json", dir);
	return json_load_file(path, JSON_REJECT_DUPLICATES, &e);
}

static EVP_PKEY *
audit_key(const char *dir)
{
	char path[PATHX_MAX];
	EVP_PKEY *k = NULL;
	X509 *x = NULL;
	FILE *f;

	snprintf(path, sizeof(path), "%s/state/audit.pem", dir);
	if ((f = fopen(path, "r")) == NULL)
		return NULL;
	x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	if (x != NULL)
		k = X509_get_pubkey(x);
	X509_free(x);
	return k;
}

/*
 * The staged ledger: whole, of the manifest's root, and copied compacted
 * to DIR/ledger.compact. 0, or 1 with the reason printed.
 */
static int
check_ledger(const char *dir, json_t *man, uint64_t *size_out)
{
	char path[PATHX_MAX], msg[512] = "", b64root[64] = "";
	const char *want_root = json_string_value(json_object_get(json_object_get(man, "ledger"),
	    "root_hash"));
	json_int_t want = json_integer_value(json_object_get(json_object_get(man, "ledger"),
	    "size"));
	uint8_t root[MERKLE_HASH_LEN];
	struct ledger *l = NULL;
	EVP_PKEY *pub = audit_key(dir);
	uint64_t bad = 0;
	int rc, ok = 0, fd = -1;

	snprintf(path, sizeof(path), "%s/ledger", dir);
	if ((rc = ledger_open(path, NULL, &l)) != 0) {
		fprintf(stderr, "sealprov: the backup's ledger does not open: %s\n", sb_strerror(rc));
		goto out;
	}
	*size_out = ledger_size(l);
	if (want < 0 || (uint64_t)want > *size_out) {
		fprintf(stderr, "sealprov: the backup's ledger holds %llu entries, fewer than "
		    "its manifest's %lld\n", (unsigned long long)*size_out, (long long)want);
		goto out;
	}
	if (want > 0) {
		if (want_root == NULL || ledger_root(l, (uint64_t)want, root) != 0 ||
		    EVP_EncodeBlock((unsigned char *)b64root, root, sizeof(root)) <= 0 ||
		    strcmp(b64root, want_root) != 0) {
			fprintf(stderr, "sealprov: the backup's ledger does not have its manifest's "
			    "root at %lld entries\n", (long long)want);
			goto out;
		}
	}
	if ((rc = ledger_verify(l, pub, &bad, msg, sizeof(msg))) != 0) {
		fprintf(stderr, "sealprov: the backup's ledger does not verify: %s\n",
		    msg[0] ? msg : sb_strerror(rc));
		goto out;
	}
	snprintf(path, sizeof(path), "%s/ledger.compact", dir);
	if (mkdir(path, 0700) != 0) {
		fprintf(stderr, "sealprov: cannot make %s: %s\n", path, strerror(errno));
		goto out;
	}
	if ((rc = mdb_env_copy2(ledger_env(l), path, MDB_CP_COMPACT)) != 0) {
		fprintf(stderr, "sealprov: cannot copy the ledger: %s\n", mdb_strerror(rc));
		goto out;
	}
	snprintf(path, sizeof(path), "%s/ledger.compact/data.mdb", dir);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0 || fsync(fd) != 0) {
		fprintf(stderr, "sealprov: cannot flush the ledger's copy: %s\n", strerror(errno));
		if (fd >= 0)
			close(fd);
		goto out;
	}
	close(fd);
	ok = 1;
out:
	ledger_close(l);
	EVP_PKEY_free(pub);
	return ok ? 0 : 1;
}

/* ---- step 6 and 7 -------------------------------------------------------- */

struct move {
	char from[PATHX_MAX], to[PATHX_MAX];
	int dir;		/* a directory (the token's) */
};

#define MOVES_MAX 64

struct plan {
	struct move m[MOVES_MAX];
	int n;
};

static int
plan_add(struct plan *p, const char *from, const char *to, int dir)
{
	if (p->n >= MOVES_MAX) {
		fprintf(stderr, "sealprov: the backup holds more files than a restore installs\n");
		return 1;
	}
	snprintf(p->m[p->n].from, sizeof(p->m[p->n].from), "%s", from);
	snprintf(p->m[p->n].to, sizeof(p->m[p->n].to), "%s", to);
	p->m[p->n].dir = dir;
	p->n++;
	return 0;
}

/* Every staged state/NAME to state_dir/NAME, custody.json kept for last. */
static int
plan_state(struct plan *p, const struct config *cfg, const char *dir)
{
	char sdir[DIR_MAX + 8], from[PATHX_MAX], to[PATHX_MAX];
	struct dirent **ents = NULL;
	int n, rc = 0;

	snprintf(sdir, sizeof(sdir), "%s/state", dir);
	if ((n = scandir(sdir, &ents, NULL, alphasort)) < 0) {
		fprintf(stderr, "sealprov: the backup holds no state files\n");
		return 1;
	}
	for (int i = 0; i < n; i++) {
		const char *e = ents[i]->d_name;

		if (rc == 0 && e[0] != '.' && strcmp(e, "custody.json") != 0) {
			snprintf(from, sizeof(from), "%s/%s", sdir, e);
			snprintf(to, sizeof(to), "%s/%s", cfg->appliance.state_dir, e);
			rc = plan_add(p, from, to, 0);
		}
		free(ents[i]);
	}
	free(ents);
	return rc;
}

static const struct {
	const char *name, *key;
	size_t off;
} tls_files[] = {
	{ "tls/certificate.pem", "tls.certificate", offsetof(struct config, tls.certificate) },
	{ "tls/key.pem", "tls.key", offsetof(struct config, tls.key) },
	{ "tls/client_ca.pem", "tls.client_ca", offsetof(struct config, tls.client_ca) },
	{ "tls/crl.pem", "tls.crl", offsetof(struct config, tls.crl) },
};

/*
 * The moves, in order: the token's directory, the TLS files (each role
 * where this configuration puts it), the state files, the ledger, the
 * custody record, and last the configuration when this appliance had none
 * (install_config; seald may be started by its appearance, so everything
 * else must be in place first). Without install_config the backup's
 * configuration goes beside the state as seald.yaml.from-backup, for
 * reference.
 */
static int
make_plan(struct plan *p, const struct config *cfg, const char *dir, const char *token_sub,
    const char *install_config)
{
	char from[PATHX_MAX], to[PATHX_MAX];

	memset(p, 0, sizeof(*p));
	snprintf(from, sizeof(from), "%s/token/%s", dir, token_sub);
	snprintf(to, sizeof(to), "%s/%s", cfg->hsm.token_dir, token_sub);
	if (plan_add(p, from, to, 1) != 0)
		return 1;
	for (size_t i = 0; i < sizeof(tls_files) / sizeof(tls_files[0]); i++) {
		const char *dst = *(char *const *)((const char *)cfg + tls_files[i].off);

		snprintf(from, sizeof(from), "%s/%s", dir, tls_files[i].name);
		if (!exists(from) && dst != NULL) {
			fprintf(stderr, "sealprov: the configuration names %s for %s, and the "
			    "backup holds no such file\n", dst, tls_files[i].key);
			return 1;
		}
		if (!exists(from))
			continue;
		if (dst == NULL) {
			fprintf(stderr, "sealprov: the backup holds %s, and this configuration names "
			    "no file for it (%s)\n", tls_files[i].name, tls_files[i].key);
			return 1;
		}
		if (plan_add(p, from, dst, 0) != 0)
			return 1;
	}
	if (plan_state(p, cfg, dir) != 0)
		return 1;
	snprintf(from, sizeof(from), "%s/config/seald.yaml", dir);
	snprintf(to, sizeof(to), "%s/seald.yaml.from-backup", cfg->appliance.state_dir);
	if (install_config == NULL && exists(from) && plan_add(p, from, to, 0) != 0)
		return 1;
	snprintf(from, sizeof(from), "%s/ledger.compact", dir);
	snprintf(to, sizeof(to), "%s/ledger", cfg->appliance.state_dir);
	if (plan_add(p, from, to, 1) != 0)
		return 1;
	snprintf(from, sizeof(from), "%s/state/custody.json", dir);
	snprintf(to, sizeof(to), "%s/custody.json", cfg->appliance.state_dir);
	if (plan_add(p, from, to, 0) != 0)
		return 1;
	snprintf(from, sizeof(from), "%s/config/seald.yaml", dir);
	return install_config != NULL ? plan_add(p, from, install_config, 0) : 0;
}

/* Step 6: nothing is in the way; two entries never land on one file. */
static int
plan_check(const struct plan *p)
{
	for (int i = 0; i < p->n; i++) {
		if (exists(p->m[i].to)) {
			fprintf(stderr, "sealprov: %s exists: a restore never writes over a file "
			    "(is this appliance freshly installed?)\n", p->m[i].to);
			return 1;
		}
		for (int k = 0; k < i; k++)
			if (strcmp(p->m[i].to, p->m[k].to) == 0) {
				fprintf(stderr, "sealprov: two files of the backup would both go to "
				    "%s: check the TLS paths in the configuration\n", p->m[i].to);
				return 1;
			}
	}
	return 0;
}

/* rename, or across file systems a copy (files only; the token's directory
 * is copied file by file). */
static int
copy_file(const char *from, const char *to, mode_t mode)
{
	char buf[65536];
	int in, out, rc = 0;
	ssize_t r;

	if ((in = open(from, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	if ((out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)) < 0) {
		close(in);
		return -1;
	}
	while (rc == 0 && (r = read(in, buf, sizeof(buf))) != 0) {
		if (r < 0) {
			if (errno != EINTR)
				rc = -1;
			continue;
		}
		if (fd_write_all(out, buf, (size_t)r) != 0)
			rc = -1;
	}
	if (rc == 0 && fsync(out) != 0)
		rc = -1;
	close(in);
	if (close(out) != 0)
		rc = -1;
	return rc;
}

static int
move_one(const struct move *m)
{
	struct dirent **ents = NULL;
	char a[PATHX_MAX], b[PATHX_MAX];
	struct stat st;
	int n, rc = 0;

	if (prov_mkdir_p(dirname(strcpy(a, m->to)), 0700) != 0)
		return -1;
	/* Never over something that appeared since the plan was checked. */
	if (renameat2(AT_FDCWD, m->from, AT_FDCWD, m->to, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EXDEV)
		return -1;
	if (!m->dir)
		return stat(m->from, &st) == 0 ? copy_file(m->from, m->to, st.st_mode & 0777) : -1;
	if (mkdir(m->to, 0700) != 0 || (n = scandir(m->from, &ents, NULL, alphasort)) < 0)
		return -1;
	for (int i = 0; i < n; i++) {
		if (rc == 0 && ents[i]->d_name[0] != '.') {
			snprintf(a, sizeof(a), "%s/%s", m->from, ents[i]->d_name);
			snprintf(b, sizeof(b), "%s/%s", m->to, ents[i]->d_name);
			rc = stat(a, &st) == 0 ? copy_file(a, b, st.st_mode & 0777) : -1;
		}
		free(ents[i]);
	}
	free(ents);
	return rc;
}

static void
sync_dir(const char *path)
{
	char d[PATHX_MAX];
	int fd;

	snprintf(d, sizeof(d), "%s", path);
	if ((fd = open(dirname(d), O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		(void)fsync(fd);
		close(fd);
	}
}

/* ---- the whole -------------------------------------------------------------- */

/*
 * A backup's own configuration, installed on a box that has none, must not
 * bring code of its own: the module and the commands it names are this
 * appliance's template's. 0, or 1 said why.
 */
static int
same_code(const struct config *own, const char *template)
{
	static const struct { const char *key; size_t off; } keys[] = {
		{ "hsm.module", offsetof(struct config, hsm.module) },
		{ "pdf.pdftotext", offsetof(struct config, pdf.pdftotext) },
		{ "console.poweroff_command", offsetof(struct config, console.poweroff_command) },
		{ "console.reboot_command", offsetof(struct config, console.reboot_command) },
		{ "console.network_command", offsetof(struct config, console.network_command) },
		{ "console.backup_mount_command",
		  offsetof(struct config, console.backup_mount_command) },
		{ "console.backup_umount_command",
		  offsetof(struct config, console.backup_umount_command) },
	};
	struct config *tpl = NULL;
	char err[CONFIG_ERR_MAX];
	int rc = 0;

	if (template == NULL || config_load(template, &tpl, err, sizeof(err)) != 0) {
		fprintf(stderr, "sealprov: this appliance's template %s does not load%s%s: the "
		    "backup's configuration cannot be checked against it\n",
		    template ? template : "(none)", template ? ": " : "", template ? err : "");
		return 1;
	}
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]) && rc == 0; i++) {
		const char *a = *(char *const *)((const char *)own + keys[i].off);
		const char *b = *(char *const *)((const char *)tpl + keys[i].off);

		/* A key the backup leaves unset names no program: the box's
		 * own (or none) then applies. */
		if (a != NULL && (b == NULL || strcmp(a, b) != 0)) {
			fprintf(stderr, "sealprov: the backup's configuration sets %s to \"%s\", "
			    "and this appliance's template %s to \"%s\": a restore brings no "
			    "program of its own\n", keys[i].key, a ? a : "", template, b ? b : "");
			rc = 1;
		}
	}
	config_free(tpl);
	return rc;
}

/* SoftHSM's own token directory (its configuration's directories.tokendir)
 * must be hsm.token_dir, or the restored token would be where it never
 * looks. Other modules: not checked. 0, or 1 said why. */
static int
token_dir_is_softhsms(const struct config *cfg)
{
	const char *conf = getenv("SOFTHSM2_CONF");
	char line[PATH_MAX + 64], a[PATH_MAX], b[PATH_MAX];
	FILE *f;
	int rc = 0, seen = 0;

	if (strstr(cfg->hsm.module, "softhsm") == NULL)
		return 0;
	if ((f = fopen(conf ? conf : "/etc/softhsm/softhsm2.conf", "r")) == NULL)
		return 0;
	while (!seen && fgets(line, sizeof(line), f) != NULL) {
		char *p = line, *v;

		p += strspn(p, " \t");
		if (strncmp(p, "directories.tokendir", 20) != 0 || (v = strchr(p, '=')) == NULL)
			continue;
		v += 1 + strspn(v + 1, " \t");
		v[strcspn(v, " \t\r\n")] = '\0';
		seen = 1;
		if (realpath(v, a) == NULL || realpath(cfg->hsm.token_dir, b) == NULL ||
		    strcmp(a, b) != 0) {
			fprintf(stderr, "sealprov: hsm.token_dir %s is not SoftHSM's token directory "
			    "%s (%s): the token would be restored where the HSM does not look\n",
			    cfg->hsm.token_dir, v, conf ? conf : "/etc/softhsm/softhsm2.conf");
			rc = 1;
		}
	}
	fclose(f);
	return rc;
}

/* Earlier restores' staging directories in parent (a restore that was
 * killed): removed, with what they hold in clear. */
static void
stale_remove(const char *parent)
{
	struct dirent *e;
	char p[PATHX_MAX];
	DIR *d;

	if ((d = opendir(parent)) == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		if (strncmp(e->d_name, ".sealbox-restore-", 17) != 0)
			continue;
		snprintf(p, sizeof(p), "%s/%s", parent, e->d_name);
		printf("removing an earlier restore's staging directory %s\n", p);
		stage_remove(p);
	}
	closedir(d);
}

int
prov_restore_run(const struct config *given, const char *config_path, const char *template,
    const char *path, int fd, const struct backup_header *h, const uint8_t *key)
{
	sigset_t block, old;
	struct stat st;
	int made_state = 0;
	const struct config *cfg = given;
	struct config *own = NULL;
	char cerr[CONFIG_ERR_MAX];
	struct stage s = { .fd = -1 };
	struct backup_sink sink = { stage_file, stage_data, &s };
	struct backup_reader *r = NULL;
	struct plan *plan = NULL;
	char dir[DIR_MAX], parent[DIR_MAX], msg[512] = "", when[32];
	const char *man_app;
	uint64_t size = 0;
	json_t *man = NULL;
	struct tm tm;
	time_t t = (time_t)h->created;
	int rc = 1;

	/* A signal must not leave the clear staging directory behind: held
	 * off until the end (SIGKILL still can; the next restore removes it). */
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGHUP);
	sigaddset(&block, SIGQUIT);
	sigaddset(&block, SIGTSTP);
	sigprocmask(SIG_BLOCK, &block, &old);
	/* In state_dir, so that the final moves are renames on one disk (with
	 * no configuration yet: beside the one to be installed). */
	if (cfg != NULL) {
		made_state = stat(cfg->appliance.state_dir, &st) != 0;
		snprintf(parent, sizeof(parent), "%s", cfg->appliance.state_dir);
	} else {
		snprintf(dir, sizeof(dir), "%s", config_path);
		snprintf(parent, sizeof(parent), "%s", dirname(dir));
	}
	dir[0] = '\0';
	if (prov_mkdir_p(parent, cfg != NULL ? 0700 : 0755) != 0 ||
	    snprintf(dir, sizeof(dir), "%s/.sealbox-restore-XXXXXX", parent) >= (int)sizeof(dir)) {
		fprintf(stderr, "sealprov: cannot make a staging directory in %s: %s\n", parent,
		    strerror(errno));
		dir[0] = '\0';
		goto out;
	}
	stale_remove(parent);
	if (mkdtemp(dir) == NULL) {
		fprintf(stderr, "sealprov: cannot make a staging directory in %s: %s\n", parent,
		    strerror(errno));
		dir[0] = '\0';
		goto out;
	}
	s.dir = dir;
	if (backup_reader_new(fd, h, key, &r) != 0) {
		fprintf(stderr, "sealprov: out of memory\n");
		goto out;
	}
	rc = backup_read(r, &sink, msg, sizeof(msg));
	if (s.fd >= 0 && fsync(s.fd) != 0 && rc == 0)
		rc = SB_EIO;
	if (s.fd >= 0)
		close(s.fd);
	s.fd = -1;
	if (rc != 0) {
		fprintf(stderr, "sealprov: %s: refused, nothing changed: %s\n", path,
		    msg[0] ? msg : rc == SB_EIO ? strerror(errno) : sb_strerror(rc));
		rc = 1;
		goto out;
	}
	rc = 1;
	if ((man = load_manifest(dir)) == NULL ||
	    (man_app = json_string_value(json_object_get(man, "appliance"))) == NULL ||
	    strcmp(man_app, h->appliance) != 0) {
		fprintf(stderr, "sealprov: %s: refused, nothing changed: its manifest is missing "
		    "or names another appliance\n", path);
		goto out;
	}
	{
		struct custody_record staged;
		char sdir[PATHX_MAX];

		snprintf(sdir, sizeof(sdir), "%s/state", dir);
		if (custody_record_load(sdir, &staged) != 0 ||
		    memcmp(staged.ceremony, h->ceremony, sizeof(staged.ceremony)) != 0 ||
		    memcmp(staged.check, h->check, sizeof(staged.check)) != 0) {
			fprintf(stderr, "sealprov: %s: refused, nothing changed: its custody record "
			    "is missing or not the one in its header\n", path);
			goto out;
		}
	}
	if (cfg == NULL) {
		/* No configuration here yet: the backup's own becomes it, once it
		 * loads, names this appliance and finds room for a restore. */
		char staged[PATHX_MAX];

		snprintf(staged, sizeof(staged), "%s/config/seald.yaml", dir);
		if (!exists(staged) || config_load(staged, &own, cerr, sizeof(cerr)) != 0) {
			fprintf(stderr, "sealprov: %s: refused, nothing changed: %s has no "
			    "configuration yet and the backup's own %s\n", path, config_path,
			    exists(staged) ? "does not load:" : "is missing");
			if (exists(staged))
				fprintf(stderr, "sealprov: %s\n", cerr);
			goto out;
		}
		cfg = own;
		if (same_id(cfg, path, h) != 0 || same_code(cfg, template) != 0 ||
		    target_ok(cfg) != 0) {
			fprintf(stderr, "sealprov: nothing changed\n");
			goto out;
		}
	}
	{
		const char *label = json_string_value(json_object_get(json_object_get(man,
		    "token"), "label"));

		if (label == NULL || strcmp(label, cfg->hsm.token) != 0) {
			fprintf(stderr, "sealprov: %s: refused, nothing changed: its token is "
			    "labelled '%s' and hsm.token says '%s'\n", path, label ? label : "?",
			    cfg->hsm.token);
			goto out;
		}
	}
	if (token_dir_is_softhsms(cfg) != 0) {
		fprintf(stderr, "sealprov: nothing changed\n");
		goto out;
	}
	if (s.token_subs != 1) {
		fprintf(stderr, "sealprov: %s: refused, nothing changed: it holds %d token "
		    "directories, not one\n", path, s.token_subs);
		goto out;
	}
	if (check_ledger(dir, man, &size) != 0) {
		fprintf(stderr, "sealprov: %s: refused, nothing changed\n", path);
		goto out;
	}
	if ((plan = calloc(1, sizeof(*plan))) == NULL ||
	    make_plan(plan, cfg, dir, s.token_sub, own != NULL ? config_path : NULL) != 0 ||
	    plan_check(plan) != 0) {
		fprintf(stderr, "sealprov: nothing changed\n");
		goto out;
	}
	if (prov_mkdir_p(cfg->appliance.state_dir, 0700) != 0) {
		fprintf(stderr, "sealprov: cannot make %s: %s\n", cfg->appliance.state_dir,
		    strerror(errno));
		goto out;
	}
	for (int i = 0; i < plan->n; i++) {
		if (move_one(&plan->m[i]) != 0) {
			fprintf(stderr, "sealprov: cannot install %s: %s; the restore stopped "
			    "half-way, with no custody record (so the appliance is still fresh). "
			    "Remove what it installed and run it again:\n", plan->m[i].to,
			    strerror(errno));
			for (int k = 0; k < i; k++)
				fprintf(stderr, "  %s\n", plan->m[k].to);
			goto out;
		}
		sync_dir(plan->m[i].to);
	}
	gmtime_r(&t, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	printf("restored appliance %s from the backup of %s:\n"
	    "  the ledger, %llu entries, verified; the token (directory %s); %u files\n"
	    "Start seald and unseal it with %u shares of the same ceremony.\n",
	    h->appliance, when, (unsigned long long)size, s.token_sub, s.files, h->threshold);
	rc = 0;
out:
	if (s.fd >= 0)
		close(s.fd);
	backup_reader_free(r);
	json_decref(man);
	free(plan);
	if (dir[0] != '\0')
		stage_remove(dir);
	if (rc != 0 && made_state && given != NULL)
		(void)rmdir(given->appliance.state_dir);	/* only when still empty */
	config_free(own);
	sigprocmask(SIG_SETMASK, &old, NULL);
	return rc;
}
