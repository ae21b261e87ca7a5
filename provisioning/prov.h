/* sealprov's commands beyond key custody (appliance.c). */
#ifndef SB_PROV_H
#define SB_PROV_H

#include <stdint.h>
#include <sys/types.h>

#include "hsm/hsm.h"
#include "lib/config.h"

/* A TLS certificate to issue: key and certificate go to out_dir/base.{key,pem}. */
struct prov_leaf {
	const char *cn;
	const char *org;
	const char *san;	/* "DNS:localhost,IP:127.0.0.1"; server certificates */
	const char *out_dir;
	const char *base;	/* "server" or "client" */
	int days;		/* 0: the default */
};

/* mkdir -p dir: it and its missing parents, each new one with mode. 0 or -1
 * (errno). */
int prov_mkdir_p(const char *dir, mode_t mode);

int prov_appliance_init(const struct config *cfg, struct hsm *h);
int prov_tls_server(const struct config *cfg, struct hsm *h, const struct prov_leaf *l);
int prov_enrol(const struct config *cfg, struct hsm *h, const struct prov_leaf *l);
/* Adds serial_hex (when not NULL) to the revoked list and writes the CRL,
 * valid for days (0: tls.crl_days), to out (default tls.crl, else
 * state_dir/clients.crl). */
int prov_revoke(const struct config *cfg, struct hsm *h, const char *serial_hex, int days,
    const char *out);

/*
 * sealprov firstboot (firstboot.c): the interactive first boot. config must
 * not exist yet; template is the seald.yaml to use (written to config once
 * the keys are made); san the TLS server names (NULL: asked); wait the
 * seconds to wait for seald's admin socket. The process's exit status.
 */
int prov_firstboot(const char *config, const char *template, const char *san, unsigned wait);

/*
 * sealprov restore (restore.c), in two steps around the shares. First: this
 * appliance can take a restore (never provisioned, hsm.token_dir set, no
 * token of the configured label) and path is a backup of this appliance;
 * *fd is left open on it, after its header (h), and rec is the custody
 * record the shares must match. 0, or 1 with the reason printed.
 */
struct backup_header;
struct custody_record;
int prov_restore_open(const struct config *cfg, const char *path, int *fd,
    struct backup_header *h, struct custody_record *rec);
/* Then, with the file's key: read, check and install it. 0 or 1 (said why);
 * nothing is changed unless the whole file was authentic and complete. With
 * cfg NULL (no configuration at config_path yet: a replacement appliance)
 * the backup's own configuration is checked the same way, must name the
 * same module and commands as template (this appliance's first-boot
 * template), and is installed as config_path, last. With cfg NULL,
 * prov_restore_open checks only the file. */
int prov_restore_run(const struct config *cfg, const char *config_path, const char *template,
    const char *path, int fd, const struct backup_header *h, const uint8_t *key);

#endif
