/*
 * clientcfg — sealctl's own YAML file (~/.config/sealbox/client.yaml, or
 * $SEALCTL_CONFIG): where the appliance is and which certificate to present.
 *
 *   server: sealbox.example.org:8443   # host:port, [v6-address]:port
 *   cert: /home/erp/sealbox/client.pem  # client certificate (chain) PEM
 *   key: /home/erp/sealbox/client.key   # its private key, PEM
 *   ca: /home/erp/sealbox/ca.pem        # CA that issued the server's certificate
 *   timeout: 30                        # seconds per request, 1..3600
 *
 * Every key is optional here (a command-line flag may supply it). Read by
 * the appliance's own loader (lib/cfg.c), with its rules and messages: one
 * flat mapping; an unknown or duplicate key, a value of the wrong type or
 * out of range, anchors, aliases and tags are errors "FILE:LINE: KEY: what
 * is wrong". A relative path is taken relative to the directory of the file
 * (clientcfg_load only; clientcfg_load_buffer leaves it as written).
 *
 * This file names the key file; it never holds key material. The strings
 * are owned by the struct and freed by clientcfg_free().
 */
#ifndef SB_CLIENT_CLIENTCFG_H
#define SB_CLIENT_CLIENTCFG_H

#include <stddef.h>

#define CLIENTCFG_MAX_BYTES 65536	/* a larger file is refused */
#define CLIENTCFG_ERR_MAX 512
#define CLIENTCFG_TIMEOUT_DEFAULT 30
#define CLIENTCFG_REL_PATH ".config/sealbox/client.yaml"	/* under $HOME */

struct clientcfg {
	char *server;		/* NULL when absent; "host:port" */
	char *cert;		/* NULL when absent */
	char *key;
	char *ca;
	unsigned timeout;	/* CLIENTCFG_TIMEOUT_DEFAULT when absent */
};

/*
 * Loads path. 0 and a new *out; or, with *out NULL and one line in err:
 * SB_EIO (cannot open or read; the message carries strerror; ENOENT can be
 * told by errno, which is left as open(2) set it), SB_ECONFIG (the content
 * is wrong, or over CLIENTCFG_MAX_BYTES), SB_ENOMEM.
 */
int clientcfg_load(const char *path, struct clientcfg **out, char *err, size_t errlen);
/* Same from len bytes; name ("(config)" when NULL) is used in messages. */
int clientcfg_load_buffer(const char *name, const char *data, size_t len,
    struct clientcfg **out, char *err, size_t errlen);
/* Accepts NULL. */
void clientcfg_free(struct clientcfg *c);

/*
 * Splits "host:port" or "[v6]:port" into host (without brackets) and port
 * (1..65535). 0 or SB_EINVAL. host must have room for hostlen bytes.
 */
int clientcfg_split_server(const char *server, char *host, size_t hostlen,
    unsigned *port);

#endif
