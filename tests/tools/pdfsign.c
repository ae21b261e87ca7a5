/*
 * pdfsign — test tool: seal a PDF with daemon/formats/pdf.c and a SOFTWARE
 * key, so that pdf.c can be checked by pdfsig and qpdf without the daemon.
 *
 *   pdfsign sign IN OUT KEY CERT [-c CHAIN] [-i PNG] [-p PAGE] [-x X] [-y Y]
 *                [-w W] [-h H] [-r REASON] [-l LOCATION] [-n NAME] [-f FIELD]
 *                [-m CONTENTS_MAX] [-X]
 *     -X: a cross-page seal, one slice per page at the right edge (-y, -w, -h)
 *   pdfsign mkpng OUT W H   a W x H PNG: left quarter transparent, rest red
 *
 * The CMS is OpenSSL's CMS_sign (CMS_DETACHED|CMS_BINARY|CMS_NOSMIMECAP)
 * over the ByteRange bytes: enough to test the PDF side; the appliance's
 * PAdES CMS comes from the monitor. Exit status 0 on success; on a refusal
 * pdf_prepare's status, code and message are printed on stderr, exit 1.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <png.h>

#include "daemon/formats/pdf.h"
#include "lib/err.h"

#define FILE_MAX (256u * 1024 * 1024)

static int
slurp(const char *path, uint8_t **p, size_t *n)
{
	FILE *f = fopen(path, "rb");
	size_t cap = 0, got;
	uint8_t *d = NULL, *nd;

	*n = 0;
	if (f == NULL)
		return -1;
	for (;;) {
		if (*n == cap) {
			cap = cap ? cap * 2 : 65536;
			if (cap > FILE_MAX || (nd = realloc(d, cap)) == NULL)
				goto bad;
			d = nd;
		}
		got = fread(d + *n, 1, cap - *n, f);
		*n += got;
		if (got == 0)
			break;
	}
	if (ferror(f))
		goto bad;
	fclose(f);
	*p = d;
	return 0;
bad:
	free(d);
	fclose(f);
	return -1;
}

static int
spit(const char *path, const uint8_t *p, size_t n)
{
	FILE *f = fopen(path, "wb");
	int ok;

	if (f == NULL)
		return -1;
	ok = fwrite(p, 1, n, f) == n;
	return fclose(f) == 0 && ok ? 0 : -1;
}

static int
mkpng(const char *out, unsigned w, unsigned h)
{
	png_image img;
	uint8_t *px;
	unsigned x, y;
	int ok;

	if (w == 0 || h == 0 || w > 4096 || h > 4096 ||
	    (px = calloc((size_t)w * h, 4)) == NULL)
		return 1;
	for (y = 0; y < h; y++)
		for (x = 0; x < w; x++) {
			uint8_t *q = px + ((size_t)y * w + x) * 4;
			q[0] = 255;
			q[3] = x < w / 4 ? 0 : 255;
		}
	memset(&img, 0, sizeof(img));
	img.version = PNG_IMAGE_VERSION;
	img.width = w;
	img.height = h;
	img.format = PNG_FORMAT_RGBA;
	ok = png_image_write_to_file(&img, out, 0, px, 0, NULL);
	free(px);
	return ok ? 0 : 1;
}

/* The DER CMS over the two byte ranges. */
static int
cms_over(const struct pdf_prepared *p, EVP_PKEY *key, X509 *cert,
    STACK_OF(X509) *chain, uint8_t **der, int *der_len)
{
	BIO *in = BIO_new(BIO_s_mem());
	CMS_ContentInfo *cms = NULL;
	int ok = 0;

	*der = NULL;
	if (in != NULL && BIO_write(in, p->data, (int)p->range[1]) ==
	    (int)p->range[1] && BIO_write(in, p->data + p->range[2],
	    (int)p->range[3]) == (int)p->range[3] &&
	    (cms = CMS_sign(cert, key, chain, in,
	    CMS_DETACHED | CMS_BINARY | CMS_NOSMIMECAP)) != NULL &&
	    (*der_len = i2d_CMS_ContentInfo(cms, der)) > 0)
		ok = 1;
	CMS_ContentInfo_free(cms);
	BIO_free(in);
	return ok ? 0 : -1;
}

static int
load_signer(const char *keyf, const char *certf, const char *chainf,
    EVP_PKEY **key, X509 **cert, STACK_OF(X509) **chain)
{
	FILE *f;
	X509 *x;

	*key = NULL;
	*cert = NULL;
	*chain = sk_X509_new_null();
	if ((f = fopen(keyf, "r")) != NULL) {
		*key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
		fclose(f);
	}
	if ((f = fopen(certf, "r")) != NULL) {
		*cert = PEM_read_X509(f, NULL, NULL, NULL);
		fclose(f);
	}
	if (chainf != NULL && (f = fopen(chainf, "r")) != NULL) {
		while ((x = PEM_read_X509(f, NULL, NULL, NULL)) != NULL)
			sk_X509_push(*chain, x);
		ERR_clear_error();
		fclose(f);
	}
	return *key && *cert && *chain ? 0 : -1;
}

static int
parse_opts(int argc, char **argv, struct pdf_opts *o, const char **png,
    const char **chain)
{
	int ch;

	while ((ch = getopt(argc, argv, "c:i:p:x:y:w:h:r:l:n:f:m:X")) != -1) {
		switch (ch) {
		case 'c': *chain = optarg; break;
		case 'i': *png = optarg; break;
		case 'p': o->page = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'x': o->x = strtod(optarg, NULL); break;
		case 'y': o->y = strtod(optarg, NULL); break;
		case 'w': o->w = strtod(optarg, NULL); break;
		case 'h': o->h = strtod(optarg, NULL); break;
		case 'r': o->reason = optarg; break;
		case 'l': o->location = optarg; break;
		case 'n': o->name = optarg; break;
		case 'f': o->field_name = optarg; break;
		case 'm': o->contents_max = strtoul(optarg, NULL, 10); break;
		case 'X': o->cross_page = 1; break;
		default: return -1;
		}
	}
	return 0;
}

static int
sign(int argc, char **argv)
{
	struct pdf_opts o = { .page = 1, .x = 36, .y = 36, .w = 100 };
	const char *png = NULL, *chainf = NULL;
	struct pdf_prepared p;
	struct pdf_err e;
	uint8_t *in = NULL, *img = NULL, *der = NULL;
	size_t in_len, img_len = 0;
	EVP_PKEY *key;
	X509 *cert;
	STACK_OF(X509) *chain;
	int der_len = 0, rc = 1;

	if (argc < 6 || parse_opts(argc - 5, argv + 5, &o, &png, &chainf) != 0)
		return 2;
	if (slurp(argv[2], &in, &in_len) != 0 ||
	    (png && slurp(png, &img, &img_len) != 0) ||
	    load_signer(argv[4], argv[5], chainf, &key, &cert, &chain) != 0) {
		fprintf(stderr, "pdfsign: cannot read an input file\n");
		return 1;
	}
	o.png = img;
	o.png_len = img_len;
	o.when = time(NULL);
	if (pdf_prepare(in, in_len, &o, &p, &e) != 0)
		fprintf(stderr, "pdfsign: %d %s: %s\n", e.status, e.code, e.message);
	else if (cms_over(&p, key, cert, chain, &der, &der_len) != 0)
		fprintf(stderr, "pdfsign: CMS_sign failed\n");
	else if (pdf_splice(&p, der, (size_t)der_len) != 0)
		fprintf(stderr, "pdfsign: the CMS (%d bytes) does not fit\n", der_len);
	else if (spit(argv[3], p.data, p.len) != 0)
		fprintf(stderr, "pdfsign: cannot write %s\n", argv[3]);
	else
		rc = 0;
	pdf_prepared_free(&p);
	OPENSSL_free(der);
	free(in);
	free(img);
	EVP_PKEY_free(key);
	X509_free(cert);
	sk_X509_pop_free(chain, X509_free);
	return rc;
}

int
main(int argc, char **argv)
{
	if (argc == 5 && strcmp(argv[1], "mkpng") == 0)
		return mkpng(argv[2], (unsigned)atoi(argv[3]), (unsigned)atoi(argv[4]));
	if (argc >= 6 && strcmp(argv[1], "sign") == 0)
		return sign(argc, argv);
	fprintf(stderr, "usage: pdfsign sign IN OUT KEY CERT [-c CHAIN] [-i PNG] "
	    "[-p PAGE] [-x X] [-y Y] [-w W] [-h H] [-r REASON] [-l LOCATION] "
	    "[-n NAME] [-f FIELD] [-m CONTENTS_MAX] [-X]\n"
	    "       pdfsign mkpng OUT W H\n");
	return 2;
}
