/*
 * utf8 — strict UTF-8 decoding, one code point at a time, for every part
 * that checks text it was given (the net worker's requests, the monitor's
 * sensitive words, pdftotext's output).
 */
#ifndef SB_UTF8_H
#define SB_UTF8_H

#include <stddef.h>
#include <stdint.h>

/*
 * The code point at s (n > 0 bytes) in *cp: its length in bytes, or 0 when
 * it is not strict UTF-8 (overlong, a surrogate, past U+10FFFF, a stray
 * continuation byte, cut short).
 */
size_t utf8_next(const uint8_t *s, size_t n, uint32_t *cp);

#endif
