/* ceremony — new shares to their holders at the console (ceremony.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "../../hsm/custody.h"
#include "../../lib/err.h"
#include "../../lib/fdio.h"
#include "../../lib/secret.h"
#include "ceremony.h"
#include "tty.h"

#define SHARE_FILE_MAX 1024	/* a share file: two comment lines and the share */
#define BLANK_LINES 30		/* a "cleared" screen on any terminal: 24 rows and more */

void
ceremony_blank(void)
{
	for (int i = 0; i < BLANK_LINES; i++)
		putchar('\n');
	fputs("\033[H\033[2J\033[3J", stdout);
}

int
ceremony_ask(const char *prompt, char *buf, size_t cap, int hidden)
{
	for (;;) {
		int rc;

		printf("%s", prompt);
		rc = tty_read_line(STDIN_FILENO, buf, cap, hidden, 0);
		if (rc == TTY_EOF) {
			printf("\n");
			return -1;
		}
		if (rc == TTY_LONG)
			printf("input refused: too long (at most %zu characters)\n", cap - 1);
		else if (rc == TTY_BAD)
			printf("input refused: control characters or invalid UTF-8\n");
		else if (buf[0] == '\0')
			printf("input refused: empty\n");
		else
			return 0;
	}
}

int
ceremony_wait_enter(const char *prompt)
{
	char line[CUSTODY_SHARE_TEXT_MAX];
	int rc;

	printf("%s", prompt);
	rc = tty_read_line(STDIN_FILENO, line, sizeof(line), 0, 0);
	secret_wipe(line, sizeof(line));
	if (rc == TTY_EOF)
		printf("\n");
	return rc == TTY_EOF ? -1 : 0;
}

/* The share text, cut at its dashes into lines of at most 50 characters. */
static void
print_share(const char *text)
{
	size_t n = strlen(text), start = 0, len;
	char line[64];

	fflush(stdout);

	while (start < n) {
		size_t end = start + 50 < n ? start + 50 : n;

		if (end < n) {
			size_t cut = end;

			while (cut > start && text[cut - 1] != '-' && text[cut - 1] != ' ')
				cut--;
			if (cut > start)
				end = cut;
		}
		/* Straight to the terminal, not through stdio's buffer, and wiped. */
		len = (size_t)snprintf(line, sizeof(line), "    %.*s\n", (int)(end - start),
		    text + start);
		if (write(STDOUT_FILENO, line, len < sizeof(line) ? len : sizeof(line) - 1) < 0)
			break;
		secret_wipe(line, sizeof(line));
		start = end;
	}
	secret_wipe(line, sizeof(line));
}

/* 1 when typed decodes to the same share as shown. */
static int
same_share(const char *shown, const char *typed)
{
	struct custody_share *a = secret_alloc(sizeof(*a)), *b = secret_alloc(sizeof(*b));
	int same = 0;

	if (a != NULL && b != NULL && custody_share_decode(shown, a) == 0 &&
	    custody_share_decode(typed, b) == 0)
		same = CRYPTO_memcmp(a, b, sizeof(*a)) == 0;
	secret_free(&a);
	secret_free(&b);
	return same;
}

int
ceremony_hand_over(const struct keyctl_shares *sh, unsigned i, const char *name,
    const char *role, const char *appliance)
{
	char *typed = secret_alloc(CUSTODY_SHARE_TEXT_MAX);
	int rc = -1;

	if (typed == NULL)
		return -1;
	ceremony_blank();
	if (role != NULL)
		printf("%s (%s): only you should see the next screen.\n", name, role);
	else
		printf("%s: only you should see the next screen.\n", name);
	if (ceremony_wait_enter("Press Enter to see your share: ") != 0)
		goto out;
	for (;;) {
		ceremony_blank();
		printf("Appliance %s: master-secret share %u of %u, for %s.\n"
		    "Any %u shares unlock the appliance. Write it down now: it is not\n"
		    "stored anywhere and will not be shown again.\n\n", appliance, i + 1,
		    sh->count, name, sh->threshold);
		print_share(sh->text[i]);
		if (ceremony_wait_enter("\nPress Enter when it is written down: ") != 0)
			goto out;
		ceremony_blank();
		printf("%s: type your share back, to check your copy.\n", name);
		if (ceremony_ask("Share: ", typed, CUSTODY_SHARE_TEXT_MAX, 0) != 0)
			goto out;
		if (same_share(sh->text[i], typed))
			break;
		secret_wipe(typed, CUSTODY_SHARE_TEXT_MAX);
		if (ceremony_wait_enter("That is not the share shown (mistyped?). Press Enter to see it "
		    "again: ") != 0)
			goto out;
	}
	ceremony_blank();
	printf("Share %u of %u confirmed by %s.\n", i + 1, sh->count, name);
	rc = 0;
out:
	secret_free(&typed);
	return rc;
}

int
ceremony_write_shares(const struct keyctl_shares *sh, const char *dir, const char *appliance,
    unsigned *written)
{
	char path[4096], *text;
	int fd, rc = 0;

	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		fprintf(stderr, "%s: cannot create %s: %s\n", program_invocation_short_name, dir,
		    strerror(errno));
		return SB_EIO;
	}
	if ((text = secret_alloc(SHARE_FILE_MAX)) == NULL)
		return SB_ENOMEM;
	for (unsigned i = 0; i < sh->count && rc == 0; i++) {
		int len;

		snprintf(path, sizeof(path), "%s/%s-share-%u.txt", dir, appliance, i + 1);
		len = snprintf(text, SHARE_FILE_MAX, "# Sealbox master-secret share %u of %u for "
		    "appliance %s.\n# Any %u shares unlock the appliance. Keep this one to "
		    "yourself.\n%s\n", i + 1, sh->count, appliance, sh->threshold, sh->text[i]);
		/* Straight from secret memory to the file: no stdio buffer. */
		if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) < 0) {
			fprintf(stderr, "%s: cannot create %s: %s\n", program_invocation_short_name,
			    path, strerror(errno));
			rc = SB_EIO;
			break;
		}
		if (len < 0 || len >= SHARE_FILE_MAX || fd_write_all(fd, text, (size_t)len) != 0 ||
		    fsync(fd) != 0) {
			fprintf(stderr, "%s: cannot write %s\n", program_invocation_short_name, path);
			rc = SB_EIO;
		}
		if (close(fd) != 0 && rc == 0) {
			fprintf(stderr, "%s: cannot write %s\n", program_invocation_short_name, path);
			rc = SB_EIO;
		}
		if (rc != 0) {
			(void)unlink(path);
			break;
		}
		if (written != NULL)
			*written = i + 1;
		printf("share %u of %u written to %s\n", i + 1, sh->count, path);
	}
	secret_free(&text);
	return rc;
}
