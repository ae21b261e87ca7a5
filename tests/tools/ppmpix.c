/*
 * ppmpix — test tool: print the colour of pixels of a binary PPM (P6, as
 * pdftoppm -ppm writes it), so that shell tests can check where a seal was
 * drawn without python.
 *
 *   ppmpix FILE X Y [X Y ...]   one line "R G B" per point (0,0 = top left)
 *   ppmpix FILE size            "W H"
 *
 * Exit status 1 when the file is not a P6 PPM with maxval 255 or a point is
 * outside the image.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The next header number, skipping whitespace and # comments. */
static long
header_num(FILE *f)
{
	int ch;
	long v = 0, digits = 0;

	while ((ch = fgetc(f)) != EOF) {
		if (ch == '#') {
			while ((ch = fgetc(f)) != EOF && ch != '\n')
				;
		} else if (ch >= '0' && ch <= '9') {
			if (digits++ > 6)
				return -1;
			v = v * 10 + (ch - '0');
		} else if (digits > 0)
			return v;
	}
	return -1;
}

int
main(int argc, char **argv)
{
	FILE *f;
	long w, h, maxval, x, y;
	unsigned char px[3];
	long data;
	int i;

	if (argc < 3 || (argc > 3 && argc % 2 != 0) ||
	    (argc == 3 && strcmp(argv[2], "size") != 0)) {
		fprintf(stderr, "usage: ppmpix FILE X Y [X Y ...] | ppmpix FILE size\n");
		return 2;
	}
	if ((f = fopen(argv[1], "rb")) == NULL || fgetc(f) != 'P' ||
	    fgetc(f) != '6' || (w = header_num(f)) <= 0 ||
	    (h = header_num(f)) <= 0 || (maxval = header_num(f)) != 255) {
		fprintf(stderr, "ppmpix: %s is not a P6 PPM with maxval 255\n", argv[1]);
		return 1;
	}
	data = ftell(f);
	if (argc == 3) {
		printf("%ld %ld\n", w, h);
		return 0;
	}
	for (i = 2; i + 1 < argc; i += 2) {
		x = atol(argv[i]);
		y = atol(argv[i + 1]);
		if (x < 0 || y < 0 || x >= w || y >= h ||
		    fseek(f, data + (y * w + x) * 3, SEEK_SET) != 0 ||
		    fread(px, 1, 3, f) != 3) {
			fprintf(stderr, "ppmpix: point %ld,%ld is outside %ldx%ld\n",
			    x, y, w, h);
			return 1;
		}
		printf("%u %u %u\n", px[0], px[1], px[2]);
	}
	fclose(f);
	return 0;
}
