/*
 * png — decode a seal's appearance image (PNG) to 8-bit RGBA, in memory.
 *
 * The image is untrusted in the sense that it is parsed in the sandboxed net
 * worker: it is read from memory by libpng's simplified API only (no file,
 * no stdio, no longjmp left to the caller) and its size is bounded before a
 * byte of pixel memory is allocated.
 */
#ifndef SB_FORMATS_PNG_H
#define SB_FORMATS_PNG_H

#include <stddef.h>
#include <stdint.h>

#define PNG_SIDE_MAX 4096	/* default and largest max_side */

/*
 * Decode png (len bytes) into *rgba: *w x *h pixels, 4 bytes each (R, G, B,
 * A, not premultiplied), rows top to bottom, no padding. Any colour type and
 * bit depth is converted; transparency (alpha channel or tRNS) is kept.
 * max_side: widest and tallest image accepted (0 = PNG_SIDE_MAX; values over
 * PNG_SIDE_MAX are lowered to it). The caller frees *rgba with free().
 * Errors: SB_EINVAL (NULL argument, not a PNG, corrupt or truncated data),
 * SB_ELIMIT (a side is 0 or over max_side), SB_ENOMEM. On error *rgba is
 * NULL.
 */
int png_decode_rgba(const uint8_t *png, size_t len, unsigned max_side,
    uint8_t **rgba, unsigned *w, unsigned *h);

/*
 * The width and height a PNG's header states, without decoding it (the
 * decoder checks them again). SB_EINVAL when png does not start with the
 * signature and an IHDR chunk, or a side is 0 or over 2^31 - 1.
 */
int png_size(const uint8_t *png, size_t len, unsigned *w, unsigned *h);

#endif
