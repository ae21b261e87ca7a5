/*
 * sealadm — what sealadm.c (the subcommands) and menu.c (the console menu
 * and the script logins) share.
 */
#ifndef SB_APPLIANCE_SEALADM_H
#define SB_APPLIANCE_SEALADM_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "../daemon/msg.h"
#include "../lib/config.h"

#define FILE_MAX (1024 * 1024)

struct opts {
	const char *config, *socket, *share_file, *name, *type, *key, *image, *unit, *id;
	const char *cert, *seal, *principal;
	const char *act_for[MSG_ACT_FOR_MAX];	/* --may-act-for, in order */
	size_t n_act_for;
	int act_for_over;			/* more were given than fit */
	const char *kind, *parent;
	const char *roles[MSG_ROLES_MAX];	/* --role, in order */
	size_t n_roles;
	int roles_over;
	/* grant add's conditions */
	const char *doc_types, *per_day, *per_month, *from, *to, *hours, *days, *approval;
	const char *confirm, *apps;
	/* the sensitive-word library */
	const char *word, *category, *on_sensitive;
	/* console accounts */
	const char *user, *pass_fd, *session_fd;
	const char *new_pass_fd;	/* totp recover: the passphrase that replaces it */
	const char *template;			/* the first-boot template */
	const char *csr, *valid_days;		/* enrol */
	const char *start, *count;		/* ledger entries, alerts: paging */
	const char *seq;			/* evidence */
	const char *document_name;		/* ledger entries */
	int must_change;			/* admin add --must-change */
	const char *out;			/* backup create --out */
	const char *share_files[MSG_BACKUP_SHARES_MAX];	/* --share-file, in order */
	size_t n_share_files;
	int share_files_over;			/* more were given than fit */
	const char *address, *gateway, *dns, *ntp, *syslog;	/* network set */
	const char *otp_fd;			/* login, totp: a one-time code */
	const char *serial, *reason;		/* cert revoke */
	const char *san;			/* tls issue|request */
	const char *share_dir;			/* custody reshare --share-dir */
	/* alerts thresholds: the four to set (none: show them) */
	const char *burst_max, *burst_window, *refusals_max, *refusals_window;
	/* the session the command runs under (--session-fd; main reads it, and
	 * wipes it): "" for none */
	char session[MSG_SESSION_MAX];
};

/* One exchange on the admin socket: m sent (as o->session, if any), the
 * answer shown with show; sealadm's exit status. */
int exchange(const struct opts *o, struct ipc_msg *m, int (*show)(json_t *));
/* The alert thresholds as ADM_ALERT_THRESHOLDS(_SET) answer them, a line each. */
int show_thresholds(json_t *j);
/* seald's refusal in the answer j (may be NULL), as "sealadm: code: message"
 * on stderr: 1 when j held one, else 0 (nothing said). */
int console_refusal(json_t *j);
/* The first line read from the descriptor numbered fdtext into buf; what
 * names the option in messages. 0, or -1 said why. */
int read_fd_line(const char *fdtext, const char *what, char *buf, size_t cap);
/* s copied into dst (len bytes), or -1 and a message naming what. */
int fits(char *dst, size_t len, const char *s, const char *what);
/* Print an answer: the JSON indented; the unseal progress. 0. */
int show_json(json_t *j);
int show_unseal(json_t *j);
/* A revocation's answer (ADM_REVOKE), one line. */
int show_revoked(json_t *j);
/* The whole file at path ("-": stdin), at most max bytes; in secret memory
 * when secret. 0, or -1 with the reason printed. */
int read_file(const char *path, size_t max, int secret, uint8_t **out, size_t *len);

/* "2026-01-31" (midnight) or "2026-01-31T09:30:00Z", UTC, as seconds; 0,
 * or -1 with a message naming what. */
int parse_utc(const char *arg, const char *what, uint64_t *secs);

/* The ledger filters of the console: "" for one not given. */
struct audit_filter {
	const char *seal, *principal;	/* principal: the actor or the one acted for */
	const char *unit;		/* entries of the seals in its subtree */
	const char *document_name;	/* text the document name contains */
	uint64_t from, to;		/* [from, to) in seconds; 0: no bound */
};

/*
 * The console auditor's reads (ADM_LEDGER_ENTRIES, ADM_ALERTS) as messages
 * in *m: the ledger's entries from seq start on (count of them) that match
 * f; or the alerts of kind in [from, to). "" for a filter not given. 0, or
 * -1 (a bad filter, said why).
 */
int audit_entries_msg(struct ipc_msg *m, uint64_t start, uint32_t count,
    const struct audit_filter *f);
int audit_alerts_msg(struct ipc_msg *m, uint64_t start, uint32_t count, const char *kind,
    uint64_t from, uint64_t to);
/* ADM_EVIDENCE for the signature entry whose number is text (digits); 0,
 * or -1 said why. */
int audit_evidence_msg(struct ipc_msg *m, const char *text);

/* command split at spaces (no shell, at most 15 words) run and waited
 * for: its exit status, or -1 when it could not run. */
int run_command(const char *command);

/* What the console sees itself, for status: {"clock", "disk":{"path",
 * "free_bytes", "total_bytes"}, "certificates":[{"name", "path",
 * "not_after", "days_left", "expired"} or {..., "error"}]}; NULL when out of
 * memory. */
json_t *local_status(const struct config *cfg);

/* console_backup.c */
/* The first line of the file at path ("-": stdin) that is neither blank nor
 * a comment, into share (cap bytes, secret memory); 0, or -1 said why. */
int share_from_file(const char *path, char *share, size_t cap);
/* The quorum's shares into v: from o's --share-file files, or need of them
 * typed (not shown) at a terminal, for what ("backup", "re-share"). 0, or
 * -1 said why. */
int console_gather_shares(const struct opts *o, unsigned need, const char *what,
    struct adm_backup *v);
/* Opens out (a new file, mode 0600) and has seald write the backup into it,
 * opened with v's shares, as session: the reply's status with its JSON in
 * *j (or -1, said why). out is removed unless the status is 200. */
/*
 * The backup disk (console.backup_dir): _mount runs console.backup_mount_command
 * when there is one and checks that the directory is there: 0, or -1 having
 * said why on stdout. _umount runs console.backup_umount_command and says
 * whether the disk may be taken out. _default is the name a backup gets on
 * it: DIR/APPLIANCE-ID-YYYYMMDD-HHMMSSZ.sbx (-1, out "", when it does not
 * fit in cap).
 */
int console_backup_disk_mount(const struct config *cfg);
void console_backup_disk_umount(const struct config *cfg);
int console_backup_default(const struct config *cfg, char *out, size_t cap);
int console_backup_send(const char *sock, const char *session, const char *out,
    const struct adm_backup *v, json_t **j);
/* The outcome of a backup written to out, from seald's reply. */
void console_backup_show(const char *out, json_t *j);
/* sealadm backup create --out FILE [--share-file F]... */
int cmd_backup(const struct opts *o, const struct config *cfg);

/* Send ADM_TOTP_ENROL (otp: "" or a code of the current secret) or
 * ADM_TOTP_CONFIRM as session; the reply's status and JSON (or -1). */
int console_totp(const char *sock, const char *session, uint16_t type, const char *otp,
    json_t **j);
/* What an enrolment's reply says: the secret to type into an authenticator. */
void console_totp_show(json_t *j);
/* ADM_TOTP_RESET of user's code, as session (a secadmin's). */
int console_totp_reset(const char *sock, const char *session, const char *user, json_t **j);
/* ADM_TOTP_RECOVER (no session): the reply's status and JSON, as admsock_call. */
int console_totp_recover(const char *sock, const char *user, const char *pass,
    const char *new_pass, const struct adm_backup *shares, json_t **j);
/* What a successful recovery prints. */
void console_totp_recovered(json_t *j);
/* sealadm totp enrol [--otp-fd N] | confirm --otp-fd N | reset --user NAME */
int cmd_totp(const struct opts *o, const struct config *cfg, const char *verb);

/* console_ledger.c */
#define LEDGER_EXPORT_MAX 100000	/* entries in one export */
/* Entries start.. (at most count) to out, one JSON a line; *written of
 * them. 0, or -1 said why. */
int console_ledger_export(const char *sock, const char *session, uint64_t start, uint64_t count,
    FILE *out, uint64_t *written);
/* sealadm ledger export --start N --count K [--out FILE] */
int cmd_ledger_export(const struct opts *o);

/* console_network.c */
struct netcfg;
/* The settings in the files under console.network_root (empty: none). */
void console_network_read(const struct config *cfg, struct netcfg *cur);
void console_network_print(const struct netcfg *n);
/* Checked, ledgered by the monitor (as session), written, applied; what
 * happened is printed (seald's refusal as "sealadm: code: message" on
 * stderr for a script, as "refused: ..." at the menu). 0, or -1. */
int console_network_apply(const char *sock, const char *session, const struct config *cfg,
    const struct netcfg *n, int script);
/* sealadm network show | set --address A [--gateway G] [--dns L] [--ntp L]
 * [--syslog L] */
int cmd_network(const struct opts *o, const struct config *cfg, const char *verb);

/* menu.c */
/* The console; cfg (NULL: none, with --socket) gives console.*_command and
 * what status shows of the appliance itself. */
int menu_main(const char *sock, const struct config *cfg);
int menu_firstboot(const char *path, const char *template);
int cmd_login(const struct opts *o);
int cmd_logout(const struct opts *o);
int cmd_admin_add(const struct opts *o);

/* console_tls.c: seald's TLS server certificate. show: what tls.certificate
 * holds (and a pending request); names: its DNS/IP names into out. issue:
 * a new key here, its certificate from the appliance CA, installed.
 * request: a new key kept as tls.key.pending and its request (*csr, PEM,
 * malloc'd) for an outside CA. install: that CA's certificate (chain PEM)
 * for the pending key. Each installs through the monitor (ledgered) and
 * checks that seald presents the new certificate; 0, or non-zero said why. */
int console_tls_show(const struct config *cfg);
int console_tls_names(const struct config *cfg, char *out, size_t len);
int console_tls_issue(const char *sock, const char *session, const struct config *cfg,
    const char *san, unsigned days);
int console_tls_request(const char *sock, const char *session, const struct config *cfg,
    const char *san, char **csr);
int console_tls_install(const char *sock, const char *session, const struct config *cfg,
    const char *chain, size_t len);
int cmd_tls(const struct opts *o, const struct config *cfg, const char *verb);
/* console_reshare.c: the master secret re-shared (o: --share-file for the
 * quorum's shares, else typed; --share-dir for the new ones, else handed
 * over at the console), ledgered first. 0, or 1 said why. */
int console_reshare(const char *sock, const char *session, const struct config *cfg,
    const struct opts *o);

#endif
