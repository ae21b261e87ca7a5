/*
 * mkstamp — writes a red seal image (PNG, RGBA with transparency): a ring, an
 * inner ring and a five-pointed star, as an organisation's round seal looks.
 * Used by `make run` for the demo seal and by the tests. No zlib: the image
 * data goes in stored (uncompressed) deflate blocks, which every PNG reader
 * accepts.
 *
 *   mkstamp OUT.png [SIZE]
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint32_t crc_table[256];

static void
crc_init(void)
{
	for (uint32_t n = 0; n < 256; n++) {
		uint32_t c = n;

		for (int k = 0; k < 8; k++)
			c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
		crc_table[n] = c;
	}
}

static uint32_t
crc(uint32_t c, const uint8_t *p, size_t n)
{
	c ^= 0xffffffffu;
	while (n--)
		c = crc_table[(c ^ *p++) & 0xff] ^ (c >> 8);
	return c ^ 0xffffffffu;
}

static void
be32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24; p[1] = v >> 16; p[2] = v >> 8; p[3] = v;
}

static int
chunk(FILE *f, const char *type, const uint8_t *data, uint32_t len)
{
	uint8_t h[8], t[4];
	uint32_t c;

	be32(h, len);
	memcpy(h + 4, type, 4);
	c = crc(0, h + 4, 4);
	c = crc(c, data, len);
	be32(t, c);
	return fwrite(h, 1, 8, f) == 8 && fwrite(data, 1, len, f) == len &&
	    fwrite(t, 1, 4, f) == 4 ? 0 : -1;
}

/* Is (x, y) inside a five-pointed star of outer radius r centred at 0? */
static int
in_star(double x, double y, double r)
{
	double a = atan2(x, -y), d = hypot(x, y);
	double seg = 2 * M_PI / 5, t = fmod(a + 2 * M_PI + seg / 2, seg) - seg / 2;
	double inner = r * 0.382;
	/* Radius of the star's edge at angle t, by linear interpolation between tip and notch. */
	double edge = r - (r - inner) * fabs(t) / (seg / 2);

	return d <= edge;
}

int
main(int argc, char **argv)
{
	int size = argc > 2 ? atoi(argv[2]) : 200;
	size_t row = (size_t)size * 4 + 1, raw_len, z_len, off = 0;
	uint8_t *raw, *z, ihdr[13];
	uint32_t a = 1, b = 0;
	FILE *f;

	if (argc < 2 || size < 16 || size > 2000) {
		fprintf(stderr, "usage: mkstamp OUT.png [SIZE 16..2000]\n");
		return 2;
	}
	crc_init();
	raw_len = row * (size_t)size;
	raw = calloc(1, raw_len);
	z_len = 2 + raw_len + 5 * (raw_len / 65535 + 1) + 4;
	z = malloc(z_len);
	if (raw == NULL || z == NULL)
		return 1;
	for (int y = 0; y < size; y++) {
		for (int x = 0; x < size; x++) {
			double cx = x - size / 2.0 + 0.5, cy = y - size / 2.0 + 0.5;
			double d = hypot(cx, cy), R = size / 2.0;
			int on = (d <= R - 1 && d >= R * 0.86) || (d <= R * 0.80 && d >= R * 0.76) ||
			    in_star(cx, cy, R * 0.42);
			uint8_t *p = raw + (size_t)y * row + 1 + (size_t)x * 4;

			if (on) {
				p[0] = 0xd4; p[1] = 0x1e; p[2] = 0x1e; p[3] = 0xe6;
			}
		}
	}
	/* zlib header, stored blocks, Adler-32. */
	z[off++] = 0x78;
	z[off++] = 0x01;
	for (size_t pos = 0; pos < raw_len;) {
		size_t n = raw_len - pos > 65535 ? 65535 : raw_len - pos;

		z[off++] = pos + n == raw_len;
		z[off++] = n & 0xff; z[off++] = n >> 8;
		z[off++] = ~n & 0xff; z[off++] = (~n >> 8) & 0xff;
		memcpy(z + off, raw + pos, n);
		off += n;
		pos += n;
	}
	for (size_t i = 0; i < raw_len; i++) {
		a = (a + raw[i]) % 65521;
		b = (b + a) % 65521;
	}
	be32(z + off, b << 16 | a);
	off += 4;
	be32(ihdr, (uint32_t)size);
	be32(ihdr + 4, (uint32_t)size);
	ihdr[8] = 8; ihdr[9] = 6; ihdr[10] = 0; ihdr[11] = 0; ihdr[12] = 0;
	if ((f = fopen(argv[1], "wb")) == NULL ||
	    fwrite("\x89PNG\r\n\x1a\n", 1, 8, f) != 8 || chunk(f, "IHDR", ihdr, 13) != 0 ||
	    chunk(f, "IDAT", z, (uint32_t)off) != 0 || chunk(f, "IEND", NULL, 0) != 0 ||
	    fclose(f) != 0) {
		fprintf(stderr, "mkstamp: cannot write %s\n", argv[1]);
		return 1;
	}
	free(raw);
	free(z);
	return 0;
}
