/*
 * The guest image of the libvirt testbed: a kernel from Debian's kernel
 * package (downloaded with apt-get download and unpacked with dpkg-deb -x
 * into the cache, never installed into the host's /boot) and an initramfs
 * holding busybox-static, the NIC and console modules, the guest agent's
 * /init and host programs copied with the shared libraries ldd names.  The
 * initramfs is cached under the SHA-256 of everything that goes into it, so
 * a rebuilt twamp-client or a kernel update makes a new image and an
 * unchanged tree reuses the old one.
 */
#ifndef TK_GUEST_IMAGE_H
#define TK_GUEST_IMAGE_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

struct guest_image_req {
	const char *cache_dir;          /* e.g. /var/cache/twampkit (created 0755) */
	const char *kernel_package;     /* "linux-image-amd64" (a metapackage is resolved) */
	const char *init_path;          /* the guest agent's /init script */
	const char *busybox;            /* static busybox, NULL = /bin/busybox or /usr/bin/busybox */
	const char *const *programs;    /* host programs: absolute paths or names in PATH */
	size_t n_programs;
};

struct guest_image {
	char kernel[PATH_MAX];          /* vmlinuz inside the unpacked package */
	char initrd[PATH_MAX];          /* cache_dir/initrd-HASH.img (gzip'd newc cpio) */
	char kernel_version[64];        /* "6.1.0-56-amd64" */
	char kernel_package[96];        /* the versioned package unpacked */
	char hash[65];                  /* SHA-256 of the initramfs content, hex */
	bool cached;                    /* the initramfs was already there */
	size_t files;                   /* regular files in the initramfs */
	unsigned long long bytes;       /* their total size before compression */
};

/* Builds (or finds) the image.  0, or -errno with a one-line err naming what to install. */
int guest_image_build(const struct guest_image_req *r, struct guest_image *out, char *err,
		      size_t errlen);

/* The kernel modules the guests load, in dependency order (for the manifest and the tests). */
extern const char *const guest_image_modules[];

/*
 * Where the guest agent's init is: $TK_GUEST_INIT, $TK_SRCDIR/experiments/
 * guest_agent/init, the source tree the program was built from
 * (TK_GUEST_AGENT_SRCDIR), beside the program, or the installed copy
 * (TK_GUEST_AGENT_DIR).  NULL when none is found.
 */
const char *guest_image_find_init(char *buf, size_t len);

#endif
