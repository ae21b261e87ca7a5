/*
 * codec — the small encodings and file chores sealctl's commands share:
 * strict base64 and hex, bounded whole-file reads, atomic file writes, the
 * SHA-256 of a file, and printing text that came from a server so that it
 * cannot drive the terminal.
 *
 * Everything here treats its input as untrusted: decoders accept only the
 * canonical form and stop at a maximum set by the caller.
 *
 * Errors: SB_EINVAL (not canonical base64 or hex), SB_ELIMIT (over the
 * caller's maximum), SB_EIO (a file could not be read or written; err says
 * which and why), SB_ENOMEM.
 */
#ifndef SB_CLIENT_CODEC_H
#define SB_CLIENT_CODEC_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Base64 (RFC 4648, with padding) of n bytes; *out is malloc'd and NUL-ended. */
int codec_b64_encode(const uint8_t *p, size_t n, char **out);
/*
 * Decodes slen characters of canonical base64 (alphabet, padding and unused
 * bits exactly as codec_b64_encode makes them; no whitespace) into a new
 * buffer *out (malloc'd; freed with free()) of *n bytes, at most max,
 * followed by a NUL byte that *n does not count.
 */
int codec_b64_decode(const char *s, size_t slen, size_t max, uint8_t **out, size_t *n);

/* Lower-case hex of n bytes into out (2n + 1 bytes). */
void codec_hex(const uint8_t *p, size_t n, char *out);
/* Hex (either case) of exactly want bytes into out. */
int codec_unhex(const char *s, uint8_t *out, size_t want);

/* The whole file at path ("-": stdin), at most max bytes, into *out (malloc'd,
 * NUL-ended, NUL not counted). */
int codec_read_file(const char *path, size_t max, uint8_t **out, size_t *n,
    char *err, size_t errlen);
/* Writes n bytes to path ("-": stdout) through a temporary file in the same
 * directory renamed into place, so a reader never sees half a file. Mode 0644
 * less the umask. */
int codec_write_file(const char *path, const void *p, size_t n, char *err,
    size_t errlen);
/* SHA-256 of the file at path, streamed. */
int codec_sha256_file(const char *path, uint8_t out[32], char *err, size_t errlen);

/* Writes s to f with control characters and backslashes as \xNN (bytes from
 * 0x80 up, i.e. UTF-8, pass unchanged). */
void codec_print_safe(FILE *f, const char *s);
/* Same, into dst (size bytes, NUL-ended, cut if needed). Returns dst. */
char *codec_safe(char *dst, size_t size, const char *s);

#endif
