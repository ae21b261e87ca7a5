/*
 * sealadm — what sealadm.c (the subcommands) and menu.c (the console menu
 * and the script logins) share.
 */
#ifndef SB_APPLIANCE_SEALADM_H
#define SB_APPLIANCE_SEALADM_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "../daemon/msg.h"

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
};

/* One exchange on the admin socket: m sent, the answer shown with show;
 * sealadm's exit status. */
int exchange(const char *sock, struct ipc_msg *m, int (*show)(json_t *));
/* s copied into dst (len bytes), or -1 and a message naming what. */
int fits(char *dst, size_t len, const char *s, const char *what);
/* A connected admin socket, or -1 (the reason printed). */
int connect_admin(const char *path);
/* Print an answer: the JSON indented; the unseal progress. 0. */
int show_json(json_t *j);
int show_unseal(json_t *j);
/* The whole file at path ("-": stdin), at most max bytes; in secret memory
 * when secret. 0, or -1 with the reason printed. */
int read_file(const char *path, size_t max, int secret, uint8_t **out, size_t *len);

/* menu.c */
int menu_main(const char *sock);
int cmd_login(const struct opts *o);
int cmd_logout(const struct opts *o);
int cmd_admin_add(const struct opts *o);

#endif
