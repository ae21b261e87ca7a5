/*
 * png — libpng's simplified read API over a memory buffer.
 *
 * png_image_begin_read_from_memory reads the header only, so the size check
 * comes before the pixel buffer is allocated; png_image_finish_read does the
 * conversion to RGBA. libpng reports errors in image.message, never on
 * stderr and never by longjmp into our frames.
 */
#include <stdlib.h>
#include <string.h>

#include <png.h>

#include "../../lib/err.h"
#include "png.h"

int
png_decode_rgba(const uint8_t *png, size_t len, unsigned max_side,
    uint8_t **rgba, unsigned *w, unsigned *h)
{
	png_image img;
	uint8_t *px;
	size_t stride, size;

	if (rgba == NULL || w == NULL || h == NULL)
		return SB_EINVAL;
	*rgba = NULL;
	if (png == NULL || len < 8 || png_sig_cmp(png, 0, 8) != 0)
		return SB_EINVAL;
	if (max_side == 0 || max_side > PNG_SIDE_MAX)
		max_side = PNG_SIDE_MAX;
	memset(&img, 0, sizeof(img));
	img.version = PNG_IMAGE_VERSION;
	if (!png_image_begin_read_from_memory(&img, png, len))
		return SB_EINVAL;
	if (img.width == 0 || img.height == 0 || img.width > max_side ||
	    img.height > max_side) {
		png_image_free(&img);
		return SB_ELIMIT;
	}
	img.format = PNG_FORMAT_RGBA;
	stride = (size_t)img.width * 4;
	size = stride * img.height;
	if ((px = malloc(size)) == NULL) {
		png_image_free(&img);
		return SB_ENOMEM;
	}
	if (!png_image_finish_read(&img, NULL, px, (png_int_32)stride, NULL)) {
		png_image_free(&img);
		free(px);
		return SB_EINVAL;
	}
	*rgba = px;
	*w = img.width;
	*h = img.height;
	return 0;
}

int
png_size(const uint8_t *png, size_t len, unsigned *w, unsigned *h)
{
	static const uint8_t sig[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
	uint32_t v[2];

	if (png == NULL || len < 24 || memcmp(png, sig, 8) != 0 || memcmp(png + 12, "IHDR", 4) != 0)
		return SB_EINVAL;
	for (int i = 0; i < 2; i++)
		v[i] = (uint32_t)png[16 + 4 * i] << 24 | (uint32_t)png[17 + 4 * i] << 16 |
		    (uint32_t)png[18 + 4 * i] << 8 | png[19 + 4 * i];
	if (v[0] == 0 || v[1] == 0 || v[0] > 0x7fffffff || v[1] > 0x7fffffff)
		return SB_EINVAL;
	*w = v[0];
	*h = v[1];
	return 0;
}
