/*
 * mon_backup — ADM_BACKUP: the appliance into one sealed file (lib/backup.h).
 *
 * The sysadmin starts it from the console and M admins enter their shares:
 * the shares rebuild S just long enough to derive this file's key
 * (keyctl_backup_key), so a backup is made only with a quorum and opens only
 * with one. The file is sealadm's, opened by it at the console and handed
 * over on the admin socket (ipc_send_fd): the monitor needs no path of its
 * own to write to, and no file is left behind here.
 *
 * What goes in:
 *  - manifest.json: appliance, time, who, the ledger's size, root and
 *    latest signed tree head when the copy began, the token's label and
 *    serial;
 *  - ledger/data.mdb: a consistent copy of the LMDB environment (the
 *    ledger and every store table), taken in one read transaction
 *    (mdb_env_copyfd2). Not compacted here: LMDB compacts in a thread of its
 *    own, and the monitor's filter starts none; sealprov restore installs a
 *    compacted copy;
 *  - state/NAME: the state files that make the appliance (custody record,
 *    the CA, TSA and audit certificates, the CRL and its revoked list),
 *    named one by one;
 *  - token/DIR/NAME: the token's own files (SoftHSM keeps its objects
 *    encrypted under keys derived from the PINs), read while every other
 *    use of the module in this process waits, so that no key is half
 *    written, and written to the backup after;
 *  - tls/{certificate,key,client_ca,crl}.pem: seald's TLS files by role,
 *    wherever they live (restore puts each where its configuration says);
 *  - config/seald.yaml: the configuration, for reference.
 *
 * The attempt, made or refused, is ledgered (backup.create).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <lmdb.h>
#include <openssl/rand.h>

#include "../../hsm/custody.h"
#include "../../hsm/keyctl.h"
#include "../../lib/backup.h"
#include "../../lib/err.h"
#include "../../lib/log.h"
#include "../../lib/secret.h"
#include "mon_int.h"

#define BK_STATE_FILE_MAX (64u << 20)	/* a state file larger than this is not ours */

/* A file read whole into secret memory (the token's files: read while the
 * HSM is held off, written to the backup after it is let go). */
struct bk_held {
	char name[BACKUP_NAME_MAX + 1];
	unsigned mode;
	uint8_t *data;		/* secret_alloc'd */
	size_t len;
};

#define BK_TOKEN_FILES_MAX 65536	/* files in a token's directory */
#define BK_TOKEN_BYTES_MAX (256u << 20)	/* their total */

struct bk {
	struct mon *mon;
	struct backup_writer *w;
	char why[512];			/* what went wrong, for the reply */
	unsigned files;
	const char *token_dir;		/* cfg->hsm.token_dir */
	char token_sub[NAME_MAX + 1];	/* the token's directory in it */
	struct stat out;		/* the file being written */
	struct bk_held *held;		/* the token's files */
	size_t nheld, heldcap, heldbytes;
};

static int
bk_fail(struct bk *b, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int
bk_fail(struct bk *b, int rc, const char *fmt, ...)
{
	va_list ap;

	if (b->why[0] == '\0') {
		va_start(ap, fmt);
		vsnprintf(b->why, sizeof(b->why), fmt, ap);
		va_end(ap);
	}
	return rc;
}

static void
bk_held_free(struct bk *b)
{
	for (size_t i = 0; i < b->nheld; i++)
		secret_free(&b->held[i].data);
	free(b->held);
	b->held = NULL;
	b->nheld = b->heldcap = b->heldbytes = 0;
}

/*
 * One file by path into the backup as name; SB_ENOTFOUND when absent.
 * follow: a configured path (TLS files, the configuration) may be a
 * symbolic link; a state file may not. The file being written is never
 * read into itself.
 */
static int
bk_file(struct bk *b, const char *path, const char *name, int follow)
{
	struct stat st;
	int fd, rc;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | (follow ? 0 : O_NOFOLLOW))) < 0)
		return errno == ENOENT ? SB_ENOTFOUND :
		    bk_fail(b, SB_EIO, "cannot read %s: %s", path, strerror(errno));
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > BK_STATE_FILE_MAX) {
		close(fd);
		return bk_fail(b, SB_EIO, "%s is not a regular file of at most 64 MiB", path);
	}
	if (st.st_dev == b->out.st_dev && st.st_ino == b->out.st_ino) {
		close(fd);
		return bk_fail(b, SB_EINVAL, "%s is the backup file itself: write the backup "
		    "elsewhere", path);
	}
	rc = backup_add_fd(b->w, name, st.st_mode & 07777, fd, (uint64_t)st.st_size);
	close(fd);
	if (rc != 0)
		return bk_fail(b, rc, "cannot add %s to the backup: %s", path, sb_strerror(rc));
	b->files++;
	return 0;
}

/* The file dir/e into b->held, as NAME; a regular file only. */
static int
bk_hold(struct bk *b, const char *dir, const char *e, const char *prefix)
{
	char path[PATH_MAX];
	struct bk_held *h;
	struct stat st;
	size_t got = 0;
	int fd, rc = 0;

	if (snprintf(path, sizeof(path), "%s/%s", dir, e) >= (int)sizeof(path))
		return bk_fail(b, SB_ELIMIT, "%s/%s: name too long", dir, e);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0)
		return bk_fail(b, SB_EIO, "cannot read %s: %s", path, strerror(errno));
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return 0;	/* not a file of the token's: left out */
	}
	if (b->nheld >= BK_TOKEN_FILES_MAX || (size_t)st.st_size > BK_TOKEN_BYTES_MAX -
	    b->heldbytes) {
		close(fd);
		return bk_fail(b, SB_ELIMIT, "the token's files are more than a backup takes "
		    "(%d files, %u MiB)", BK_TOKEN_FILES_MAX, BK_TOKEN_BYTES_MAX >> 20);
	}
	if (b->nheld == b->heldcap) {
		size_t cap = b->heldcap ? b->heldcap * 2 : 64;
		struct bk_held *n = realloc(b->held, cap * sizeof(*n));

		if (n == NULL) {
			close(fd);
			return SB_ENOMEM;
		}
		b->held = n;
		b->heldcap = cap;
	}
	h = &b->held[b->nheld];
	memset(h, 0, sizeof(*h));
	if (snprintf(h->name, sizeof(h->name), "%s/%s", prefix, e) >= (int)sizeof(h->name) ||
	    !backup_name_ok(h->name)) {
		close(fd);
		return bk_fail(b, SB_EINVAL, "%s: a name a backup cannot hold", path);
	}
	h->mode = st.st_mode & 07777;
	if (st.st_size > 0 && (h->data = secret_alloc((size_t)st.st_size)) == NULL) {
		close(fd);
		return SB_ENOMEM;
	}
	while (rc == 0 && got < (size_t)st.st_size) {
		ssize_t r = read(fd, h->data + got, (size_t)st.st_size - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			rc = bk_fail(b, SB_EIO, "cannot read %s: %s", path,
			    r < 0 ? strerror(errno) : "it got shorter");
		else
			got += (size_t)r;
	}
	close(fd);
	h->len = got;
	b->heldbytes += got;
	b->nheld++;	/* held even on failure, so that it is wiped and freed */
	return rc;
}

/* SoftHSM names a token's directory by a UUID whose characters 19-22 and
 * 24-35 are the token's serial number. */
static int
bk_find_token(struct bk *b, const char *serial)
{
	DIR *d;
	struct dirent *e;
	char s[17];
	int found = 0;

	if ((d = opendir(b->token_dir)) == NULL)
		return bk_fail(b, SB_EIO, "cannot list hsm.token_dir %s: %s", b->token_dir,
		    strerror(errno));
	while (!found && (e = readdir(d)) != NULL) {
		if (strlen(e->d_name) != 36 || e->d_name[23] != '-')
			continue;
		memcpy(s, e->d_name + 19, 4);
		memcpy(s + 4, e->d_name + 24, 12);
		s[16] = '\0';
		if (strcasecmp(s, serial) == 0) {
			snprintf(b->token_sub, sizeof(b->token_sub), "%s", e->d_name);
			found = 1;
		}
	}
	closedir(d);
	if (!found)
		return bk_fail(b, SB_ENOTFOUND, "the token's files are not in hsm.token_dir %s "
		    "(no directory for serial %s)", b->token_dir, serial);
	return 0;
}

/*
 * Under hsm_quiesce, so that no object of this process's is half written:
 * the token's files read into memory, and nothing written to the backup
 * (which may be a slow disk) while signing waits. Listed with readdir, not
 * scandir: its sort (qsort) asks for sysinfo, which the filter forbids.
 * (Another process using the same token, sealprov, is not held off: run
 * none during a backup.)
 */
static int
bk_token_files(void *arg)
{
	struct bk *b = arg;
	char dir[PATH_MAX], prefix[BACKUP_NAME_MAX + 1];
	struct dirent *e;
	DIR *d;
	int rc = 0;

	if (snprintf(dir, sizeof(dir), "%s/%s", b->token_dir, b->token_sub) >= (int)sizeof(dir) ||
	    snprintf(prefix, sizeof(prefix), "token/%.36s", b->token_sub) >= (int)sizeof(prefix))
		return bk_fail(b, SB_ELIMIT, "the token's directory name is too long");
	if ((d = opendir(dir)) == NULL)
		return bk_fail(b, SB_EIO, "cannot list %s: %s", dir, strerror(errno));
	while (rc == 0 && (e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			rc = bk_hold(b, dir, e->d_name, prefix);
	closedir(d);
	return rc;
}

/* The held token files into the backup (the HSM let go by now). */
static int
bk_token_write(struct bk *b)
{
	int rc;

	for (size_t i = 0; i < b->nheld; i++) {
		rc = backup_add(b->w, b->held[i].name, b->held[i].mode, b->held[i].data,
		    b->held[i].len);
		if (rc != 0)
			return bk_fail(b, rc, "cannot add %s to the backup: %s", b->held[i].name,
			    sb_strerror(rc));
		b->files++;
	}
	return 0;
}

/* The LMDB environment, copied in one read transaction to an unnamed file. */
static int
bk_ledger(struct bk *b)
{
	MDB_env *env = ledger_env(b->mon->ledger);
	struct stat st;
	int tmp, rc;

	tmp = open(b->mon->cfg->appliance.state_dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (tmp < 0)
		return bk_fail(b, SB_EIO, "cannot make a scratch file in %s: %s",
		    b->mon->cfg->appliance.state_dir, strerror(errno));
	if ((rc = mdb_env_copyfd2(env, tmp, 0)) != 0) {
		close(tmp);
		return bk_fail(b, SB_EIO, "cannot copy the ledger: %s", mdb_strerror(rc));
	}
	if (fstat(tmp, &st) != 0 || lseek(tmp, 0, SEEK_SET) != 0) {
		close(tmp);
		return bk_fail(b, SB_EIO, "cannot read the ledger's copy back: %s",
		    strerror(errno));
	}
	rc = backup_add_fd(b->w, "ledger/data.mdb", 0600, tmp, (uint64_t)st.st_size);
	close(tmp);
	if (rc != 0)
		return bk_fail(b, rc, "cannot add the ledger to the backup: %s", sb_strerror(rc));
	b->files++;
	return 0;
}

static json_t *
bk_manifest(struct mon *mon, const struct backup_header *h, const char *serial,
    uint64_t size, const uint8_t root[32], const struct ledger_sth *sth, int have_sth)
{
	char when[32];
	struct tm tm;
	time_t t = (time_t)h->created;
	json_t *sj = NULL, *o;
	char *b64 = mon_b64(root, 32);

	gmtime_r(&t, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (have_sth && ledger_sth_to_json(sth, &sj) != 0)
		sj = NULL;
	o = json_pack("{s:i,s:s,s:s,s:s,s:s,s:{s:I,s:s?,s:o?},s:{s:s,s:s}}",
	    "format", 1, "appliance", h->appliance, "created", when, "software", SB_VERSION,
	    "by", mon->admin_actor,
	    "ledger", "size", (json_int_t)size, "root_hash", size > 0 ? b64 : NULL,
	    "signed_tree_head", sj,
	    "token", "label", mon->cfg->hsm.token, "serial", serial);
	free(b64);
	return o;
}

/*
 * The state directory's files that make the appliance (the custody record,
 * the CA, TSA and audit certificates, the CRL and its list): named, not
 * listed, so that nothing else there (a backup kept on the data disk, a
 * lock, a configuration left by a restore) is carried along. The ledger is
 * copied first, the token after: a seal made in between leaves a key that
 * no record names (harmless), never a record whose key is missing; a seal
 * destroyed in between restores as a record whose key is gone, as it is.
 */
static const char *const bk_state_files[] = {
	"custody.json", "ca.pem", "tsa.pem", "audit.pem", "clients.crl", "revoked.txt",
};

/* seald's TLS files by role, each kept as tls/ROLE.pem whatever its path. */
static const struct { const char *name; size_t off; } bk_tls[] = {
	{ "tls/certificate.pem", offsetof(struct config, tls.certificate) },
	{ "tls/key.pem", offsetof(struct config, tls.key) },
	{ "tls/client_ca.pem", offsetof(struct config, tls.client_ca) },
	{ "tls/crl.pem", offsetof(struct config, tls.crl) },
};

/* 1 when path is one of the TLS files (the same file, by inode). */
static int
bk_is_tls(const struct config *cfg, const char *path)
{
	struct stat a, t;

	if (stat(path, &a) != 0)
		return 0;
	for (size_t i = 0; i < sizeof(bk_tls) / sizeof(bk_tls[0]); i++) {
		const char *p = *(char *const *)((const char *)cfg + bk_tls[i].off);

		if (p != NULL && stat(p, &t) == 0 && t.st_dev == a.st_dev && t.st_ino == a.st_ino)
			return 1;
	}
	return 0;
}

/* Everything into b->w; 0 or an error with b->why set. */
static int
bk_write(struct bk *b, const struct backup_header *h, const char *serial)
{
	const struct config *cfg = b->mon->cfg;
	char path[PATH_MAX], name[BACKUP_NAME_MAX + 1];
	struct ledger_sth sth;
	uint8_t root[32] = { 0 };
	uint64_t size = ledger_size(b->mon->ledger);
	int rc, have_sth;
	json_t *man;
	char *text;

	if (size > 0 && (rc = ledger_root(b->mon->ledger, size, root)) != 0)
		return bk_fail(b, rc, "cannot read the ledger's root: %s", sb_strerror(rc));
	have_sth = ledger_sth_latest(b->mon->ledger, &sth) == 0;
	if ((man = bk_manifest(b->mon, h, serial, size, root, &sth, have_sth)) == NULL ||
	    (text = json_dumps(man, JSON_INDENT(2) | JSON_SORT_KEYS)) == NULL) {
		json_decref(man);
		return SB_ENOMEM;
	}
	json_decref(man);
	rc = backup_add(b->w, "manifest.json", 0600, text, strlen(text));
	free(text);
	if (rc != 0)
		return bk_fail(b, rc, "cannot write the backup: %s", sb_strerror(rc));
	b->files++;
	if ((rc = bk_ledger(b)) != 0)
		return rc;
	for (size_t i = 0; i < sizeof(bk_state_files) / sizeof(bk_state_files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", cfg->appliance.state_dir, bk_state_files[i]);
		snprintf(name, sizeof(name), "state/%s", bk_state_files[i]);
		if (bk_is_tls(cfg, path))
			continue;	/* kept by its role, below */
		if ((rc = bk_file(b, path, name, 0)) != 0 && rc != SB_ENOTFOUND)
			return rc;
	}
	if ((rc = hsm_quiesce(b->mon->hsm, bk_token_files, b)) != 0)
		return bk_fail(b, rc, "cannot copy the token's files: %s",
		    rc == SB_EHSM ? hsm_error(b->mon->hsm) : sb_strerror(rc));
	if ((rc = bk_token_write(b)) != 0)
		return rc;
	bk_held_free(b);
	for (size_t i = 0; i < sizeof(bk_tls) / sizeof(bk_tls[0]); i++) {
		const char *p = *(char *const *)((const char *)cfg + bk_tls[i].off);

		if (p != NULL && (rc = bk_file(b, p, bk_tls[i].name, 1)) != 0 && rc != SB_ENOTFOUND)
			return rc;
	}
	if (cfg->path != NULL && (rc = bk_file(b, cfg->path, "config/seald.yaml", 1)) != 0 &&
	    rc != SB_ENOTFOUND)
		return rc;
	return 0;
}

int
mon_share_set(struct mon *mon, const struct adm_backup *v, struct custody_record *rec,
    struct custody_set **set, char *why, size_t len)
{
	char detail[256];
	int rc;

	if ((rc = custody_record_load(mon->cfg->appliance.state_dir, rec)) != 0) {
		snprintf(why, len, "cannot read the custody record: %s", sb_strerror(rc));
		return rc;
	}
	if ((*set = custody_set_new(mon->cfg->appliance.id, rec)) == NULL) {
		snprintf(why, len, "the custody record does not fit this appliance");
		return SB_ECONFIG;
	}
	for (unsigned i = 0; i < v->n; i++) {
		detail[0] = '\0';
		if ((rc = custody_set_add(*set, v->share[i], NULL, NULL, detail,
		    sizeof(detail))) != 0) {
			snprintf(why, len, "share %u: %s%s%s", i + 1, sb_strerror(rc),
			    detail[0] ? ": " : "", detail);
			custody_set_free(*set);
			*set = NULL;
			return rc;
		}
	}
	return 0;
}

static void
bk_ledger_outcome(struct mon *mon, const char *result, const char *why, uint64_t size)
{
	uint8_t leaf[32];
	uint64_t seq;
	json_t *e;

	e = json_pack("{s:s,s:s,s:s,s:s?,s:I}", "action", "backup.create", "actor",
	    mon->admin_actor, "result", result, "reason", why, "ledger_size", (json_int_t)size);
	if (e != NULL && mon_ledger(mon, e, &seq, leaf) != 0)
		log_warn("monitor: backup by %s (%s) could not be ledgered", mon->admin_actor,
		    result);
}

int
mon_adm_backup(struct mon *mon, struct ipc_msg *m, struct ipc_msg *reply)
{
	struct adm_backup *v = NULL;
	struct custody_record rec;
	struct custody_set *set = NULL;
	struct backup_header h;
	uint8_t *key = NULL;
	char serial[HSM_SERIAL_MAX + 1];
	struct bk b = { .mon = mon };
	int fd = mon->admin_passfd, rc, status = 400, flags;
	const char *code = "bad_request";
	off_t bytes;

	mon->admin_passfd = -1;
	if (fd < 0) {
		snprintf(b.why, sizeof(b.why), "no file came with the request "
		    "(sealadm backup create --out FILE opens it)");
		goto refuse;
	}
	flags = fcntl(fd, F_GETFL);
	if (fstat(fd, &b.out) != 0 || !S_ISREG(b.out.st_mode) || b.out.st_size != 0 || flags < 0 ||
	    (flags & O_ACCMODE) == O_RDONLY) {
		snprintf(b.why, sizeof(b.why), "the file handed over must be a new, empty, "
		    "writable regular file");
		goto refuse;
	}
	if ((v = secret_alloc(sizeof(*v))) == NULL ||
	    (key = secret_alloc(CUSTODY_BACKUP_KEY_LEN)) == NULL) {
		rc = SB_ENOMEM;
		goto out;
	}
	if (adm_backup_dec(m, v) != 0) {
		snprintf(b.why, sizeof(b.why), "malformed backup request");
		goto refuse;
	}
	if (mon_require_ready(mon, m->id, reply) != 0) {
		bk_ledger_outcome(mon, "sealed", "the appliance is sealed", ledger_size(mon->ledger));
		rc = 0;
		goto out;
	}
	if ((b.token_dir = mon->cfg->hsm.token_dir) == NULL) {
		status = 409;
		code = "not_configured";
		snprintf(b.why, sizeof(b.why), "hsm.token_dir is not set in %s: the token's "
		    "files, which hold the keys, cannot be found", mon->cfg->path ?
		    mon->cfg->path : "seald.yaml");
		goto refuse;
	}
	if ((rc = mon_share_set(mon, v, &rec, &set, b.why, sizeof(b.why))) != 0) {
		code = rc == SB_ECONFIG || rc == SB_ENOTFOUND ? "not_provisioned" : "bad_share";
		status = rc == SB_ECONFIG || rc == SB_ENOTFOUND ? 409 : 400;
		goto refuse;
	}
	memset(&h, 0, sizeof(h));
	snprintf(h.appliance, sizeof(h.appliance), "%s", rec.appliance);
	memcpy(h.ceremony, rec.ceremony, sizeof(h.ceremony));
	h.threshold = rec.threshold;
	h.count = rec.count;
	memcpy(h.check, rec.check, sizeof(h.check));
	h.created = (int64_t)time(NULL);
	if (RAND_bytes(h.salt, sizeof(h.salt)) != 1) {
		rc = SB_ECRYPTO;
		goto out;
	}
	/* Fewer than M shares, or shares that do not rebuild S: refused. */
	if ((rc = keyctl_backup_key(&rec, set, h.salt, key, b.why, sizeof(b.why))) != 0) {
		code = "bad_share";
		goto refuse;
	}
	custody_set_free(set);	/* wipes the shares */
	set = NULL;
	secret_free(&v);
	if ((rc = hsm_token_serial(mon->hsm, serial)) != 0) {
		status = 503;
		code = "hsm_unavailable";
		snprintf(b.why, sizeof(b.why), "%s", hsm_error(mon->hsm));
		goto refuse;
	}
	if ((rc = bk_find_token(&b, serial)) != 0) {
		status = 409;
		code = "not_configured";
		goto refuse;
	}
	if ((rc = backup_writer_new(fd, &h, key, &b.w)) == 0 &&
	    (rc = bk_write(&b, &h, serial)) == 0) {
		rc = backup_writer_finish(b.w);
		b.w = NULL;
		if (rc != 0)
			bk_fail(&b, rc, "cannot finish the backup file: %s", sb_strerror(rc));
		else if (fdatasync(fd) != 0)
			rc = bk_fail(&b, SB_EIO, "cannot flush the backup file to its disk: %s",
			    strerror(errno));
	} else
		bk_fail(&b, rc, "cannot start the backup file: %s", sb_strerror(rc));
	backup_writer_free(b.w);
	secret_wipe(key, CUSTODY_BACKUP_KEY_LEN);
	if (rc != 0) {
		if (ftruncate(fd, 0) != 0)
			log_warn("monitor: backup: cannot empty the failed file: %s",
			    strerror(errno));
		status = 500;
		code = "backup_failed";
		goto refuse;
	}
	bytes = lseek(fd, 0, SEEK_CUR);
	log_info("monitor: backup by %s: %u files, %lld bytes", mon->admin_actor, b.files,
	    (long long)bytes);
	bk_ledger_outcome(mon, "ok", NULL, ledger_size(mon->ledger));
	rc = mon_reply_json(reply, m->id, 200, json_pack("{s:s,s:I,s:I,s:i,s:s,s:i}",
	    "appliance", h.appliance, "bytes", (json_int_t)bytes, "ledger_size",
	    (json_int_t)ledger_size(mon->ledger), "files", (int)b.files, "token", serial,
	    "threshold", (int)h.threshold));
	goto out;
refuse:
	log_warn("monitor: backup by %s refused: %s", mon->admin_actor, b.why);
	if (mon->ledger != NULL)
		bk_ledger_outcome(mon, code, b.why, ledger_size(mon->ledger));
	rc = mon_reply_err(reply, m->id, status, code, "%s", b.why);
out:
	if (fd >= 0)
		close(fd);
	bk_held_free(&b);
	custody_set_free(set);
	secret_free(&v);
	secret_free(&key);
	return rc;
}
