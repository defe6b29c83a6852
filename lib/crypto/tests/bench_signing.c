/*
 * Micro-benchmark, not a test: throughput of smb2_signing_sign for each
 * algorithm and of smb2_encrypt/smb2_decrypt for each cipher, over
 * messages of a 64-byte header plus 1 MiB of payload (two iovecs, as a
 * READ response is sent).  Usage: bench_signing [seconds per case]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/crypto/smb2_encryption.h"
#include "lib/crypto/smb2_kdf.h"
#include "lib/crypto/smb2_signing.h"

#define PAYLOAD (1024 * 1024)

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void report(const char *what, unsigned long iterations, double secs)
{
	double mb = (double)iterations * (PAYLOAD + 64) / (1024.0 * 1024.0);

	printf("%-26s %8.0f MB/s  (%lu x 1 MiB in %.2f s)\n", what, mb / secs,
	       iterations, secs);
}

int main(int argc, char **argv)
{
	double budget = argc > 1 ? atof(argv[1]) : 1.0;
	uint8_t *hdr = calloc(1, 64);
	uint8_t *payload = malloc(PAYLOAD);
	uint8_t key[32];
	struct iovec iov[2] = { { hdr, 64 }, { payload, PAYLOAD } };
	static const struct {
		enum smb2_signing_algo algo;
		const char *name;
	} algos[] = {
		{ SMB2_SIGNING_HMAC_SHA256, "sign HMAC-SHA256" },
		{ SMB2_SIGNING_AES_CMAC, "sign AES-128-CMAC" },
		{ SMB2_SIGNING_AES_GMAC, "sign AES-128-GMAC" },
	};
	static const struct {
		uint16_t id;
		size_t key_len;
		const char *enc;
		const char *dec;
	} ciphers[] = {
		{ SMB2_ENCRYPTION_AES128_CCM, 16, "encrypt AES-128-CCM",
		  "decrypt AES-128-CCM" },
		{ SMB2_ENCRYPTION_AES128_GCM, 16, "encrypt AES-128-GCM",
		  "decrypt AES-128-GCM" },
		{ SMB2_ENCRYPTION_AES256_CCM, 32, "encrypt AES-256-CCM",
		  "decrypt AES-256-CCM" },
		{ SMB2_ENCRYPTION_AES256_GCM, 32, "encrypt AES-256-GCM",
		  "decrypt AES-256-GCM" },
	};
	size_t i;

	if (hdr == NULL || payload == NULL) {
		return 1;
	}
	memset(payload, 0x5a, PAYLOAD);
	memset(key, 0x11, sizeof(key));
	memcpy(hdr, "\xfeSMB", 4);
	hdr[4] = 64;
	hdr[16] = 0x09; /* SERVER_TO_REDIR | SIGNED */

	for (i = 0; i < sizeof(algos) / sizeof(algos[0]); i++) {
		unsigned long n = 0;
		double start = now(), t;

		do {
			hdr[24] = (uint8_t)n; /* MessageId */
			if (!NT_STATUS_IS_OK(smb2_signing_sign(algos[i].algo,
							       key, iov, 2))) {
				fprintf(stderr, "sign failed\n");
				return 1;
			}
			n++;
			t = now() - start;
		} while (t < budget);
		report(algos[i].name, n, t);
	}

	for (i = 0; i < sizeof(ciphers) / sizeof(ciphers[0]); i++) {
		uint8_t tf[SMB2_TF_HDR_SIZE];
		unsigned long n = 0;
		double start = now(), t, dec_time = 0;

		do {
			if (!NT_STATUS_IS_OK(smb2_encrypt(
				    ciphers[i].id, key, ciphers[i].key_len, 1,
				    tf, iov, 2))) {
				fprintf(stderr, "encrypt failed\n");
				return 1;
			}
			n++;
			t = now() - start;
		} while (t < budget);
		report(ciphers[i].enc, n, t);

		/* decrypt takes one contiguous buffer: seal one, then open
		 * copies of it (the copy is timed separately and removed) */
		{
			uint8_t *sealed = malloc(PAYLOAD + 64);
			uint8_t *work = malloc(PAYLOAD + 64);
			struct iovec one = { sealed, PAYLOAD + 64 };
			double copy_time = 0;

			memcpy(sealed, hdr, 64);
			memcpy(sealed + 64, payload, PAYLOAD);
			smb2_encrypt(ciphers[i].id, key, ciphers[i].key_len, 1,
				     tf, &one, 1);
			n = 0;
			start = now();
			do {
				double c0 = now();

				memcpy(work, sealed, PAYLOAD + 64);
				copy_time += now() - c0;
				if (!NT_STATUS_IS_OK(smb2_decrypt(
					    ciphers[i].id, key,
					    ciphers[i].key_len, tf, work,
					    PAYLOAD + 64))) {
					fprintf(stderr, "decrypt failed\n");
					return 1;
				}
				n++;
				t = now() - start;
			} while (t < budget);
			dec_time = t - copy_time;
			report(ciphers[i].dec, n, dec_time);
			free(sealed);
			free(work);
		}
	}
	free(hdr);
	free(payload);
	return 0;
}
