/*
 * console_backup — sealadm backup create and the menu's backup item: the
 * sysadmin's backup, completed by the shares of M administrators
 * (docs/admin-guide.md, "Backup and restore").
 *
 * The file is opened here, at the console, as a new file (never over an
 * existing one, mode 0600), and handed to seald with the request; seald
 * writes the sealed backup into it. If anything fails the file is removed,
 * so that no partial backup is ever mistaken for a whole one.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "../daemon/client/admsock.h"
#include "../daemon/client/tty.h"
#include "../daemon/msg.h"
#include "../lib/secret.h"
#include "sealadm.h"

int
console_backup_disk_mount(const struct config *cfg)
{
	const char *dir = cfg->console.backup_dir;
	struct stat st;
	int rc;

	if (cfg->console.backup_mount_command != NULL) {
		printf("mounting the backup disk: %s\n", cfg->console.backup_mount_command);
		if ((rc = run_command(cfg->console.backup_mount_command)) != 0) {
			printf("refused: the backup disk could not be mounted (status %d): is it "
			    "plugged in, its file system labelled SEALBOX-BACKUP? (no_backup_disk)\n",
			    rc);
			return -1;
		}
	}
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
		printf("refused: %s is not there (%s) (no_backup_disk)\n", dir,
		    stat(dir, &st) != 0 ? strerror(errno) : "not a directory");
		console_backup_disk_umount(cfg);
		return -1;
	}
	return 0;
}

void
console_backup_disk_umount(const struct config *cfg)
{
	int rc;

	if (cfg->console.backup_umount_command == NULL)
		return;
	if ((rc = run_command(cfg->console.backup_umount_command)) == 0)
		printf("the backup disk is unmounted: it may be taken out\n");
	else
		printf("the backup disk could not be unmounted (status %d, %s): do not take "
		    "it out yet\n", rc, cfg->console.backup_umount_command);
}

int
console_backup_default(const struct config *cfg, char *out, size_t cap)
{
	time_t now = time(NULL);
	struct tm tm;
	char when[32] = "";
	int n;

	if (gmtime_r(&now, &tm) != NULL)
		strftime(when, sizeof(when), "%Y%m%d-%H%M%SZ", &tm);
	n = snprintf(out, cap, "%s/%s-%s.sbx", cfg->console.backup_dir, cfg->appliance.id, when);
	if (n < 0 || (size_t)n >= cap) {
		out[0] = '\0';
		return -1;
	}
	return 0;
}

int
console_backup_send(const char *sock, const char *session, const char *out,
    const struct adm_backup *v, json_t **j)
{
	struct ipc_msg m;
	int fd, st = -1;

	*j = NULL;
	if ((fd = open(out, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600)) < 0) {
		fprintf(stderr, "sealadm: %s: %s%s\n", out, strerror(errno),
		    errno == EEXIST ? " (a backup is never written over a file)" : "");
		return -1;
	}
	if (adm_backup_enc(&m, 1, v) == 0) {
		st = admsock_call_fd(sock, session, &m, fd, j);
		ipc_msg_free(&m);
	} else
		fprintf(stderr, "sealadm: the shares do not fit in a request\n");
	close(fd);
	if (st != 200 && unlink(out) != 0)
		fprintf(stderr, "sealadm: %s: cannot remove the incomplete file: %s\n", out,
		    strerror(errno));
	return st;
}

void
console_backup_show(const char *out, json_t *j)
{
	const char *serial = json_string_value(json_object_get(j, "token"));

	printf("backup written: %s\n"
	    "  %lld bytes, %lld files; the ledger held %lld entries; token serial %s\n"
	    "Keep it away from the appliance. It opens only with %lld shares of the\n"
	    "current ceremony: after a re-share, make a new backup.\n",
	    out, (long long)json_integer_value(json_object_get(j, "bytes")),
	    (long long)json_integer_value(json_object_get(j, "files")),
	    (long long)json_integer_value(json_object_get(j, "ledger_size")),
	    serial ? serial : "?", (long long)json_integer_value(json_object_get(j, "threshold")));
}

int
share_from_file(const char *path, char *share, size_t cap)
{
	uint8_t *text = NULL;
	size_t len, i, n;
	char *line;
	int rc = -1;

	if (read_file(path, 4096, 1, &text, &len) != 0)
		return -1;
	for (line = (char *)text; line && *line;
	    line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
		for (i = 0; line[i] == ' ' || line[i] == '\t'; i++)
			;
		if (line[i] != '#' && line[i] != '\n' && line[i] != '\0')
			break;
	}
	if (line == NULL || *line == '\0')
		fprintf(stderr, "sealadm: %s: no share in it\n", path);
	else if ((n = strcspn(line, "\r\n")) >= cap)
		fprintf(stderr, "sealadm: %s: too long to be a share\n", path);
	else {
		memcpy(share, line, n);
		share[n] = '\0';
		rc = 0;
	}
	secret_free(&text);
	return rc;
}

int
console_gather_shares(const struct opts *o, unsigned need, const char *what,
    struct adm_backup *v)
{
	if (o->n_share_files > 0) {
		for (size_t i = 0; i < o->n_share_files; i++)
			if (share_from_file(o->share_files[i], v->share[i],
			    sizeof(v->share[i])) != 0)
				return -1;
		v->n = (unsigned)o->n_share_files;
		return 0;
	}
	if (!isatty(STDIN_FILENO)) {
		fprintf(stderr, "sealadm: %s needs the shares: --share-file FILE, once per "
		    "share, or type them at a terminal\n", what);
		return -1;
	}
	printf("The %s needs %u shares. Each share holder in turn: step forward and\n"
	    "type your share; it is not shown.\n", what, need);
	for (unsigned i = 0; i < need && i < MSG_BACKUP_SHARES_MAX; i++) {
		/* No fflush: tty_read_line shows it once echo is off. */
		printf("share %u of %u (not shown): ", i + 1, need);
		if (tty_read_line(STDIN_FILENO, v->share[i], sizeof(v->share[i]), 1, 0) !=
		    TTY_OK || v->share[i][0] == '\0') {
			fprintf(stderr, "sealadm: no share read; nothing done\n");
			return -1;
		}
		v->n = i + 1;
	}
	return 0;
}

int
cmd_backup(const struct opts *o, const struct config *cfg)
{
	struct adm_backup *v;
	unsigned need = cfg != NULL ? cfg->quorum.threshold : 2;
	json_t *j = NULL;
	int st, rc = 1;

	if (o->out == NULL) {
		fprintf(stderr, "sealadm: backup create needs --out FILE (a new file)\n");
		return 2;
	}
	if (o->n_share_files == 0 && !isatty(STDIN_FILENO)) {
		fprintf(stderr, "sealadm: backup create needs the shares: --share-file FILE, "
		    "once per share, or type them at a terminal\n");
		return 2;
	}
	if ((v = secret_alloc(sizeof(*v))) == NULL)
		return 1;
	if (console_gather_shares(o, need, "backup", v) != 0)
		goto out;
	st = console_backup_send(o->socket, o->session, o->out, v, &j);
	if (st == 200) {
		console_backup_show(o->out, j);
		rc = 0;
	} else
		(void)console_refusal(j);
out:
	json_decref(j);
	secret_free(&v);
	return rc;
}
