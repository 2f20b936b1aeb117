// The floor of the boot benchmark: an /init that makes only the system calls
// the job needs and checks nothing. It loads the same certificates into the
// kernel's .ima/.evm keyrings, writes the same policy path and EVM mode,
// mounts the same root and switch_roots, as ima-init and the shell way do;
// no payload, no signature checks, no logging, no error handling beyond
// stopping. It does not empty the initramfs either (busybox switch_root and
// ima-init do): freeing that memory is not needed to reach the real init.
//
// Built with -DVERIFY (and libcrypto) it is the floor of a /init that
// verifies its payload: before the rest it parses the payload's trust
// certificate and checks the payload signature with OpenSSL, the two calls
// no verifying /init can skip, and reboots when that fails. Under TCG these
// cost far more than on hardware (QEMU translates OpenSSL's code on its
// first run), and the benchmark shows how much.
//
// Built statically by tests/bench/run; it is never meant to boot anything
// but the benchmark.
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifdef VERIFY
#include <openssl/evp.h>
#include <openssl/x509.h>
#endif

static char buf[65536];

static ssize_t slurp(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = 0, r;

	if (fd < 0)
		return -1;
	while ((r = read(fd, buf + n, sizeof(buf) - 1 - n)) > 0)
		n += r;
	close(fd);
	buf[n] = '\0';
	return n;
}

static void put(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);

	if (fd >= 0) {
		(void)!write(fd, s, strlen(s));
		close(fd);
	}
}

// /proc/keys: "<serial hex> <flags> <usage> <timeout> <perm> <uid> <gid>
// keyring   .ima: 1". The kernel owns .ima/.evm (INTEGRITY_TRUSTED_KEYRING):
// they are in no process keyring, so /proc/keys is the only way to the id.
static long ring(const char *keys, const char *name)
{
	const char *p = strstr(keys, name);

	while (p && p != keys && p[-1] != '\n')
		p--;
	return p ? strtol(p, NULL, 16) : -1;
}

static void add_cert(const char *path, long ring_id)
{
	ssize_t n = slurp(path);

	if (n > 0)
		syscall(SYS_add_key, "asymmetric", NULL, buf, (size_t)n, ring_id);
}

// root=, rootfstype= and ro from the command line, in place.
static void cmdline(const char **root, const char **fstype, unsigned long *flags)
{
	char *save, *w;

	slurp("/proc/cmdline");
	for (w = strtok_r(buf, " \n", &save); w; w = strtok_r(NULL, " \n", &save)) {
		if (!strncmp(w, "root=", 5))
			*root = strdup(w + 5);
		else if (!strncmp(w, "rootfstype=", 11))
			*fstype = strdup(w + 11);
		else if (!strcmp(w, "ro"))
			*flags |= MS_RDONLY;
	}
}

#ifdef VERIFY
// payload.sig is an IMA digsig v2 (9-byte header) over the SHA-256 of
// payload.tar; trust.der the certificate of its key.
static int payload_verified(void)
{
	static unsigned char tar[1 << 20];
	unsigned char sig[1024], cert[4096];
	const unsigned char *p = cert;
	ssize_t n_tar, n_sig, n_cert;
	EVP_MD_CTX *ctx;
	X509 *x;
	int ok, fd;

	fd = open("/ima-init/payload.tar", O_RDONLY | O_CLOEXEC);
	n_tar = fd < 0 ? -1 : read(fd, tar, sizeof(tar));
	close(fd);
	fd = open("/ima-init/payload.sig", O_RDONLY | O_CLOEXEC);
	n_sig = fd < 0 ? -1 : read(fd, sig, sizeof(sig));
	close(fd);
	fd = open("/ima-init/trust.der", O_RDONLY | O_CLOEXEC);
	n_cert = fd < 0 ? -1 : read(fd, cert, sizeof(cert));
	close(fd);
	if (n_tar <= 0 || n_sig <= 9 || n_cert <= 0)
		return 0;
	x = d2i_X509(NULL, &p, n_cert);
	ctx = EVP_MD_CTX_new();
	ok = x && ctx &&
	     EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, X509_get0_pubkey(x)) == 1 &&
	     EVP_DigestVerify(ctx, sig + 9, n_sig - 9, tar, n_tar) == 1;
	EVP_MD_CTX_free(ctx);
	X509_free(x);
	return ok;
}
#endif

int main(void)
{
	static const char *const moved[] = { "/dev", "/proc", "/sys" };
	const char *root = "/dev/vda", *fstype = "ext4";
	unsigned long flags = 0;
	char keys[4096];
	long ima, evm;

	// Anywhere but PID 1 of a guest this would remount the host's /dev,
	// /proc and /sys and move them away: refuse, as ima-init does.
	if (getpid() != 1)
		return 1;
	mount("devtmpfs", "/dev", "devtmpfs", MS_NOSUID, "mode=0755");
	mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
	mount("sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
	mount("securityfs", "/sys/kernel/security", "securityfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
	      NULL);

#ifdef VERIFY
	if (!payload_verified())
		reboot(RB_AUTOBOOT);
#endif
	slurp("/proc/keys");
	memcpy(keys, buf, sizeof(keys) - 1);
	keys[sizeof(keys) - 1] = '\0';
	ima = ring(keys, " .ima: ");
	evm = ring(keys, " .evm: ");
	add_cert("/etc/keys/x509_ima.der", ima);
	add_cert("/etc/keys/x509_evm.der", evm);

	put("/sys/kernel/security/ima/policy", "/etc/ima/ima-policy");
	put("/sys/kernel/security/evm", "0x80000002");

	cmdline(&root, &fstype, &flags);
	if (mount(root, "/root", fstype, flags, NULL) != 0)
		reboot(RB_AUTOBOOT);
	for (unsigned i = 0; i < sizeof(moved) / sizeof(moved[0]); i++) {
		char to[32] = "/root";

		strcat(to, moved[i]);
		mount(moved[i], to, NULL, MS_MOVE, NULL);
	}
	chdir("/root");
	mount(".", "/", NULL, MS_MOVE, NULL);
	chroot(".");
	chdir("/");
	execl("/sbin/init", "/sbin/init", (char *)NULL);
	reboot(RB_AUTOBOOT);
	return 1;
}
