/*
 * Builds the libvirt guests' kernel and initramfs (see guest_image.h).
 *
 * The initramfs is a newc cpio written here (no cpio program needed) and
 * compressed with gzip -n; entries are sorted, owned by root and dated 0,
 * so equal inputs give equal octets and the SHA-256 over the inputs names
 * the image.  Modules are taken from the unpacked package's tree (it has no
 * modules.dep: it was never installed), their order from the "depends="
 * field of each module's .modinfo section.
 */
#include "autoconfig.h"
#include "guest_image.h"

#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <libgen.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "exec.h"

#define MAX_ENTRIES 512

const char *const guest_image_modules[] = {
	"virtio_ring", "virtio", "virtio_pci_legacy_dev", "virtio_pci_modern_dev", "virtio_pci",
	"failover", "net_failover", "virtio_net", "virtio_console", "e1000", NULL,
};

struct entry {
	char path[256];                 /* inside the archive, without the leading / */
	char src[PATH_MAX];             /* host file, or "" for inline data */
	const char *data;               /* inline content (static strings) */
	unsigned mode;                  /* full st_mode */
	unsigned rdev_major, rdev_minor;
};

struct image {
	struct entry *e;
	size_t n;
	char modules_list[1024];        /* /etc/tk-modules */
};

static bool is_file(const char *p)
{
	struct stat st;
	return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

const char *guest_image_find_init(char *buf, size_t len)
{
	const char *env = getenv("TK_GUEST_INIT");
	if (env && is_file(env))
		return tk_path(buf, len, "%s", env) ? NULL : buf;
	env = getenv("TK_SRCDIR");
	if (env && tk_path(buf, len, "%s/experiments/guest_agent/init", env) == 0 && is_file(buf))
		return buf;
#ifdef TK_GUEST_AGENT_SRCDIR
	if (tk_path(buf, len, "%s/init", TK_GUEST_AGENT_SRCDIR) == 0 && is_file(buf))
		return buf;
#endif
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		self[n] = 0;
		char *dir = dirname(self);
		/* In-tree build, then a build directory inside the source tree (./build). */
		const char *rel[] = { "%s/guest_agent/init", "%s/../../experiments/guest_agent/init" };
		for (size_t i = 0; i < 2; i++)
			if (tk_path(buf, len, rel[i], dir) == 0 && is_file(buf))
				return buf;
	}
#ifdef TK_GUEST_AGENT_DIR
	if (tk_path(buf, len, "%s/init", TK_GUEST_AGENT_DIR) == 0 && is_file(buf))
		return buf;
#endif
	return NULL;
}

/* --- archive entries ----------------------------------------------------------- */

static struct entry *add(struct image *im, const char *path, unsigned mode, char *err,
			 size_t errlen)
{
	while (*path == '/')
		path++;
	for (size_t i = 0; i < im->n; i++)
		if (!strcmp(im->e[i].path, path))
			return &im->e[i]; /* the same library twice */
	if (im->n == MAX_ENTRIES) {
		tk_errf(err, errlen, "initramfs: more than %d entries", MAX_ENTRIES);
		return NULL;
	}
	struct entry *e = &im->e[im->n];
	memset(e, 0, sizeof(*e));
	if (tk_path(e->path, sizeof(e->path), "%s", path)) {
		tk_errf(err, errlen, "initramfs: path too long: %s", path);
		return NULL;
	}
	e->mode = mode;
	im->n++;
	return e;
}

/* Adds path's parent directories, then path as a copy of src (symlinks followed). */
static int add_file(struct image *im, const char *path, const char *src, unsigned perm, char *err,
		    size_t errlen)
{
	char dir[256];
	if (tk_path(dir, sizeof(dir), "%s", path))
		return -ENAMETOOLONG;
	for (char *p = dir + 1; (p = strchr(p, '/')); p++) {
		*p = 0;
		if (!add(im, dir, 040755, err, errlen))
			return -E2BIG;
		*p = '/';
	}
	struct entry *e = add(im, path, 0100000 | perm, err, errlen);
	if (!e)
		return -E2BIG;
	if (tk_path(e->src, sizeof(e->src), "%s", src))
		return -ENAMETOOLONG;
	if (!is_file(src)) {
		tk_errf(err, errlen, "initramfs: %s is not a readable file", src);
		return -ENOENT;
	}
	return 0;
}

static int add_data(struct image *im, const char *path, const char *data, char *err, size_t errlen)
{
	struct entry *e = add(im, path, 0100644, err, errlen);
	if (!e)
		return -E2BIG;
	e->data = data;
	return 0;
}

static int cmp_entry(const void *a, const void *b)
{
	return strcmp(((const struct entry *)a)->path, ((const struct entry *)b)->path);
}

/* --- programs and their libraries ------------------------------------------------- */

static int find_in_path(const char *prog, char *buf, size_t len)
{
	if (strchr(prog, '/'))
		return tk_path(buf, len, "%s", prog) == 0 && access(buf, X_OK) == 0 ? 0 : -ENOENT;
	const char *path = getenv("PATH");
	char copy[4096];
	snprintf(copy, sizeof(copy), "%s:/usr/sbin:/sbin", path ? path : "/usr/bin:/bin");
	char *save = NULL;
	for (char *d = strtok_r(copy, ":", &save); d; d = strtok_r(NULL, ":", &save))
		if (tk_path(buf, len, "%s/%s", d, prog) == 0 && access(buf, X_OK) == 0 && is_file(buf))
			return 0;
	return -ENOENT;
}

/* Runs argv with stdout into a temporary file; returns its malloc'd content or NULL. */
static char *capture_stdout(char *const argv[], int *status)
{
	char tmp[] = "/tmp/tk-img.XXXXXX";
	int fd = mkstemp(tmp);
	if (fd < 0)
		return NULL;
	close(fd);
	struct exec_opts o = { .stdout_path = tmp, .stderr_path = "/dev/null" };
	*status = exec_run(argv, &o, 120000);
	char *buf = NULL;
	FILE *f = fopen(tmp, "r");
	if (f) {
		buf = calloc(1, 1 << 20);
		if (buf)
			buf[fread(buf, 1, (1 << 20) - 1, f)] = 0;
		fclose(f);
	}
	unlink(tmp);
	return buf;
}

static int add_libraries(struct image *im, const char *bin, char *err, size_t errlen)
{
	char *const argv[] = { "ldd", exec_arg(bin), NULL };
	int st;
	char *out = capture_stdout(argv, &st);
	if (!out) {
		tk_errf(err, errlen, "cannot run ldd on %s", bin);
		return -EIO;
	}
	if (st != 0) {
		/* Static programs are fine ("not a dynamic executable"). */
		free(out);
		return 0;
	}
	int rc = 0;
	char *save = NULL;
	for (char *line = strtok_r(out, "\n", &save); line && !rc; line = strtok_r(NULL, "\n", &save)) {
		if (strstr(line, "not found")) {
			tk_errf(err, errlen, "%s needs a library that is missing: %s", bin, line);
			rc = -ENOENT;
			break;
		}
		char *p = strstr(line, "=> ");
		p = p ? p + 3 : line;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p != '/')
			continue; /* linux-vdso.so.1 */
		char lib[PATH_MAX];
		size_t n = strcspn(p, " (");
		if (n >= sizeof(lib))
			continue;
		memcpy(lib, p, n);
		lib[n] = 0;
		rc = add_file(im, lib, lib, 0755, err, errlen);
	}
	free(out);
	return rc;
}

/* --- kernel ------------------------------------------------------------------------ */

static int resolve_package(const char *pkg, char *out, size_t len, char *err, size_t errlen)
{
	/* A versioned package is itself; a metapackage names it in its Depends. */
	char *const argv[] = { "apt-cache", "depends", exec_arg(pkg), NULL };
	int st;
	char *txt = capture_stdout(argv, &st);
	if (!txt || st != 0) {
		free(txt);
		tk_errf(err, errlen, "apt-cache does not know %s (apt-get update?)", pkg);
		return -ENOENT;
	}
	const char *d = strstr(txt, "Depends: linux-image-");
	if (d) {
		d += strlen("Depends: ");
		size_t n = strcspn(d, " \n");
		snprintf(out, len, "%.*s", (int)n, d);
	} else {
		snprintf(out, len, "%s", pkg);
	}
	free(txt);
	return 0;
}

static int find_kernel(const char *root, struct guest_image *out)
{
	char dir[PATH_MAX];
	tk_path(dir, sizeof(dir), "%s/boot", root);
	DIR *d = opendir(dir);
	if (!d)
		return -ENOENT;
	struct dirent *e;
	int rc = -ENOENT;
	while ((e = readdir(d))) {
		if (!strncmp(e->d_name, "vmlinuz-", 8)) {
			snprintf(out->kernel_version, sizeof(out->kernel_version), "%s", e->d_name + 8);
			rc = tk_path(out->kernel, sizeof(out->kernel), "%s/%s", dir, e->d_name);
			break;
		}
	}
	closedir(d);
	if (!rc) {
		tk_path(dir, sizeof(dir), "%s/lib/modules/%s", root, out->kernel_version);
		if (access(dir, F_OK) != 0)
			rc = -ENOENT;
	}
	return rc;
}

static int fetch_kernel(const struct guest_image_req *r, struct guest_image *out, char *root,
			size_t rootlen, char *err, size_t errlen)
{
	int rc = resolve_package(r->kernel_package, out->kernel_package,
				 sizeof(out->kernel_package), err, errlen);
	if (rc)
		return rc;
	if (tk_path(root, rootlen, "%s/%s", r->cache_dir, out->kernel_package))
		return -ENAMETOOLONG;
	if (find_kernel(root, out) == 0)
		return 0;
	/* apt-get download writes into the current directory. */
	char cwd[PATH_MAX];
	if (!getcwd(cwd, sizeof(cwd)))
		return -errno;
	if (chdir(r->cache_dir) < 0) {
		tk_errf(err, errlen, "cannot enter %s: %s", r->cache_dir, strerror(errno));
		return -errno;
	}
	char *const dl[] = { "apt-get", "download", "-q", out->kernel_package, NULL };
	char msg[256] = "";
	rc = exec_run_capture_err(dl, NULL, msg, sizeof(msg));
	if (chdir(cwd) < 0 && !rc)
		rc = -errno;
	if (rc) {
		tk_errf(err, errlen, "apt-get download %s failed: %s", out->kernel_package, msg);
		return rc < 0 ? rc : -EIO;
	}
	DIR *d = opendir(r->cache_dir);
	char deb[PATH_MAX] = "";
	struct dirent *e;
	size_t plen = strlen(out->kernel_package);
	while (d && (e = readdir(d)))
		if (!strncmp(e->d_name, out->kernel_package, plen) && e->d_name[plen] == '_' &&
		    strstr(e->d_name, ".deb"))
			tk_path(deb, sizeof(deb), "%s/%s", r->cache_dir, e->d_name);
	if (d)
		closedir(d);
	if (!deb[0]) {
		tk_errf(err, errlen, "apt-get download %s left no .deb in %s", out->kernel_package,
		    r->cache_dir);
		return -ENOENT;
	}
	char tmp[PATH_MAX];
	tk_path(tmp, sizeof(tmp), "%s.tmp", root);
	char *const rmv[] = { "rm", "-rf", tmp, NULL };
	exec_run(rmv, NULL, 60000);
	/* Unpacked, never installed: the host's /boot and module tree stay as they are. */
	char *const x[] = { "dpkg-deb", "-x", deb, tmp, NULL };
	rc = exec_run_capture_err(x, NULL, msg, sizeof(msg));
	unlink(deb);
	if (rc) {
		tk_errf(err, errlen, "dpkg-deb -x %s failed: %s", deb, msg);
		return rc < 0 ? rc : -EIO;
	}
	if (rename(tmp, root) < 0) {
		tk_errf(err, errlen, "cannot rename %s: %s", tmp, strerror(errno));
		return -errno;
	}
	if (find_kernel(root, out)) {
		tk_errf(err, errlen, "%s holds no boot/vmlinuz-* and lib/modules", root);
		return -ENOENT;
	}
	return 0;
}

/* --- modules ---------------------------------------------------------------------- */

static char found_path[PATH_MAX];
static const char *wanted_name;

static int find_ko(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)ftw;
	if (flag != FTW_F)
		return 0;
	const char *b = strrchr(path, '/');
	b = b ? b + 1 : path;
	size_t n = strlen(wanted_name);
	if (!strncmp(b, wanted_name, n) && !strcmp(b + n, ".ko")) {
		snprintf(found_path, sizeof(found_path), "%s", path);
		return 1;
	}
	return 0;
}

/* The "depends=" value of a module's .modinfo (NUL-separated key=value strings). */
static int module_depends(const char *ko, char *out, size_t len)
{
	FILE *f = fopen(ko, "rb");
	if (!f)
		return -errno;
	struct stat st;
	if (fstat(fileno(f), &st) < 0 || st.st_size <= 0 || st.st_size > (64 << 20)) {
		fclose(f);
		return -EINVAL;
	}
	char *buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		fclose(f);
		return -ENOMEM;
	}
	size_t n = fread(buf, 1, (size_t)st.st_size, f);
	fclose(f);
	buf[n] = 0;
	out[0] = 0;
	static const char key[] = "depends=";
	int rc = -ENOENT;
	for (char *p = memmem(buf, n, key, sizeof(key) - 1); p;
	     p = memmem(p + 1, n - (size_t)(p + 1 - buf), key, sizeof(key) - 1)) {
		if (p > buf && p[-1] != 0)
			continue; /* inside another string */
		snprintf(out, len, "%s", p + sizeof(key) - 1);
		rc = 0;
		break;
	}
	free(buf);
	return rc;
}

static int add_module(struct image *im, const char *moddir, const char *name, int depth,
		      char *err, size_t errlen)
{
	if (depth > 8) {
		tk_errf(err, errlen, "module dependencies of %s nest too deep", name);
		return -ELOOP;
	}
	char arc[256];
	tk_path(arc, sizeof(arc), "lib/modules/%s.ko", name);
	for (size_t i = 0; i < im->n; i++)
		if (!strcmp(im->e[i].path, arc))
			return 0;
	wanted_name = name;
	found_path[0] = 0;
	nftw(moddir, find_ko, 32, FTW_PHYS);
	if (!found_path[0]) {
		tk_errf(err, errlen, "kernel module %s.ko not found under %s (compressed modules are not "
		    "supported)", name, moddir);
		return -ENOENT;
	}
	char ko[PATH_MAX], deps[256];
	snprintf(ko, sizeof(ko), "%s", found_path);
	if (module_depends(ko, deps, sizeof(deps)) == 0 && deps[0]) {
		char *save = NULL;
		for (char *d = strtok_r(deps, ",", &save); d; d = strtok_r(NULL, ",", &save)) {
			int rc = add_module(im, moddir, d, depth + 1, err, errlen);
			if (rc)
				return rc;
		}
	}
	int rc = add_file(im, arc, ko, 0644, err, errlen);
	if (!rc) {
		size_t used = strlen(im->modules_list);
		snprintf(im->modules_list + used, sizeof(im->modules_list) - used, "%s\n", name);
	}
	return rc;
}

/* --- hashing and writing -------------------------------------------------------- */

static int hash_file(EVP_MD_CTX *md, const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return -errno;
	char buf[65536];
	size_t n;
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		EVP_DigestUpdate(md, buf, n);
	int rc = ferror(f) ? -EIO : 0;
	fclose(f);
	return rc;
}

static int image_hash(const struct image *im, const char *kver, char hex[65])
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	if (!md || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
		EVP_MD_CTX_free(md);
		return -ENOMEM;
	}
	/* Format version first: a change to the archive layout must change every name. */
	EVP_DigestUpdate(md, "twampkit-initramfs/1", 20);
	EVP_DigestUpdate(md, kver, strlen(kver) + 1);
	int rc = 0;
	for (size_t i = 0; i < im->n && !rc; i++) {
		const struct entry *e = &im->e[i];
		char hdr[300];
		int n = snprintf(hdr, sizeof(hdr), "%s %o", e->path, e->mode);
		EVP_DigestUpdate(md, hdr, (size_t)n + 1);
		if (e->data)
			EVP_DigestUpdate(md, e->data, strlen(e->data));
		else if (e->src[0])
			rc = hash_file(md, e->src);
	}
	unsigned char d[32];
	unsigned dl = 0;
	EVP_DigestFinal_ex(md, d, &dl);
	EVP_MD_CTX_free(md);
	for (unsigned i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", d[i]);
	return rc;
}

static void pad4(FILE *f, unsigned long long off)
{
	while (off % 4) {
		fputc(0, f);
		off++;
	}
}

static unsigned long long cpio_header(FILE *f, unsigned ino, unsigned mode, unsigned long long size,
				      unsigned rmaj, unsigned rmin, const char *name)
{
	size_t namesize = strlen(name) + 1;
	fprintf(f, "070701%08X%08X%08X%08X%08X%08X%08llX%08X%08X%08X%08X%08zX%08X", ino, mode, 0u,
		0u, 1u, 0u, size, 0u, 0u, rmaj, rmin, namesize, 0u);
	fwrite(name, 1, namesize, f);
	pad4(f, 110 + namesize);
	return 0;
}

static int write_cpio(const struct image *im, const char *path, unsigned long long *bytes)
{
	FILE *f = fopen(path, "wb");
	if (!f)
		return -errno;
	int rc = 0;
	*bytes = 0;
	for (size_t i = 0; i < im->n && !rc; i++) {
		const struct entry *e = &im->e[i];
		unsigned long long size = 0;
		if (e->data)
			size = strlen(e->data);
		else if (e->src[0]) {
			struct stat st;
			if (stat(e->src, &st) < 0) {
				rc = -errno;
				break;
			}
			size = (unsigned long long)st.st_size;
		}
		cpio_header(f, (unsigned)i + 1, e->mode, size, e->rdev_major, e->rdev_minor, e->path);
		if (e->data) {
			fwrite(e->data, 1, size, f);
		} else if (e->src[0]) {
			FILE *in = fopen(e->src, "rb");
			if (!in) {
				rc = -errno;
				break;
			}
			char buf[65536];
			size_t n;
			unsigned long long copied = 0;
			while ((n = fread(buf, 1, sizeof(buf), in)) > 0) {
				fwrite(buf, 1, n, f);
				copied += n;
			}
			fclose(in);
			if (copied != size)
				rc = -EIO; /* changed while we read it */
		}
		pad4(f, size);
		*bytes += size;
	}
	cpio_header(f, 0, 0, 0, 0, 0, "TRAILER!!!");
	if (fflush(f) != 0 || ferror(f))
		rc = rc ? rc : -EIO;
	if (fclose(f) != 0 && !rc)
		rc = -EIO;
	return rc;
}

int guest_image_build(const struct guest_image_req *r, struct guest_image *out, char *err,
		      size_t errlen)
{
	memset(out, 0, sizeof(*out));
	if (!r || !r->cache_dir || !r->kernel_package || !r->init_path) {
		tk_errf(err, errlen, "guest image: cache directory, kernel package and init are needed");
		return -EINVAL;
	}
	const char *tools[][2] = { { "apt-get", "apt" }, { "apt-cache", "apt" },
				   { "dpkg-deb", "dpkg" }, { "ldd", "libc-bin" }, { "gzip", "gzip" } };
	for (size_t i = 0; i < sizeof(tools) / sizeof(tools[0]); i++)
		if (!exec_have_program(tools[i][0])) {
			tk_errf(err, errlen, "guest image: %s not found: apt-get install %s", tools[i][0],
			    tools[i][1]);
			return -ENOENT;
		}
	const char *busybox = r->busybox;
	if (!busybox)
		busybox = is_file("/bin/busybox") ? "/bin/busybox" : "/usr/bin/busybox";
	if (!is_file(busybox)) {
		tk_errf(err, errlen, "guest image: busybox not found: apt-get install busybox-static");
		return -ENOENT;
	}
	char *const bb_ldd[] = { "ldd", exec_arg(busybox), NULL };
	int st;
	free(capture_stdout(bb_ldd, &st));
	if (st == 0) {
		tk_errf(err, errlen, "guest image: %s is dynamically linked: apt-get install busybox-static",
		    busybox);
		return -ENOENT;
	}
	if (mkdir(r->cache_dir, 0755) < 0 && errno != EEXIST) {
		tk_errf(err, errlen, "cannot create %s: %s", r->cache_dir, strerror(errno));
		return -errno;
	}
	char root[PATH_MAX];
	int rc = fetch_kernel(r, out, root, sizeof(root), err, errlen);
	if (rc)
		return rc;

	struct image im;
	memset(&im, 0, sizeof(im));
	im.e = calloc(MAX_ENTRIES, sizeof(*im.e));
	if (!im.e)
		return -ENOMEM;
	struct entry *con = add(&im, "dev", 040755, err, errlen);
	con = con ? add(&im, "dev/console", 020600, err, errlen) : NULL;
	if (!con) {
		free(im.e);
		return -E2BIG;
	}
	con->rdev_major = 5;
	con->rdev_minor = 1;
	const char *dirs[] = { "proc", "sys", "tmp", "run", "etc", "root" };
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
		add(&im, dirs[i], 040755, err, errlen);
	rc = add_file(&im, "init", r->init_path, 0755, err, errlen);
	if (!rc)
		rc = add_file(&im, "bin/busybox", busybox, 0755, err, errlen);
	char moddir[PATH_MAX];
	tk_path(moddir, sizeof(moddir), "%s/lib/modules/%s/kernel", root, out->kernel_version);
	for (size_t i = 0; !rc && guest_image_modules[i]; i++)
		rc = add_module(&im, moddir, guest_image_modules[i], 0, err, errlen);
	for (size_t i = 0; !rc && i < r->n_programs; i++) {
		char bin[PATH_MAX], arc[256];
		if (find_in_path(r->programs[i], bin, sizeof(bin))) {
			tk_errf(err, errlen, "guest image: program %s not found on this host", r->programs[i]);
			rc = -ENOENT;
			break;
		}
		char base[PATH_MAX];
		snprintf(base, sizeof(base), "%s", bin);
		tk_path(arc, sizeof(arc), "usr/bin/%s", basename(base));
		rc = add_file(&im, arc, bin, 0755, err, errlen);
		if (!rc)
			rc = add_libraries(&im, bin, err, errlen);
	}
	if (!rc)
		rc = add_data(&im, "etc/tk-modules", im.modules_list, err, errlen);
	if (!rc)
		rc = add_data(&im, "etc/passwd", "root:x:0:0:root:/root:/bin/sh\n", err, errlen);
	if (!rc)
		rc = add_data(&im, "etc/group", "root:x:0:\n", err, errlen);
	if (!rc)
		rc = add_data(&im, "etc/hosts", "127.0.0.1 localhost\n", err, errlen);
	if (rc) {
		free(im.e);
		return rc;
	}
	qsort(im.e, im.n, sizeof(im.e[0]), cmp_entry);
	rc = image_hash(&im, out->kernel_version, out->hash);
	if (rc) {
		tk_errf(err, errlen, "guest image: cannot read its files: %s", strerror(-rc));
		free(im.e);
		return rc;
	}
	for (size_t i = 0; i < im.n; i++) {
		if ((im.e[i].mode & 0170000) == 0100000) {
			out->files++;
			struct stat sb;
			if (im.e[i].data)
				out->bytes += strlen(im.e[i].data);
			else if (stat(im.e[i].src, &sb) == 0)
				out->bytes += (unsigned long long)sb.st_size;
		}
	}
	tk_path(out->initrd, sizeof(out->initrd), "%s/initrd-%.16s.img", r->cache_dir, out->hash);
	if (is_file(out->initrd)) {
		out->cached = true;
		free(im.e);
		return 0;
	}
	char tmp[PATH_MAX], gz[PATH_MAX + 8];
	tk_path(tmp, sizeof(tmp), "%s/initrd-%.16s.cpio.%d", r->cache_dir, out->hash, (int)getpid());
	unsigned long long bytes;
	rc = write_cpio(&im, tmp, &bytes);
	free(im.e);
	if (rc) {
		unlink(tmp);
		tk_errf(err, errlen, "cannot write %s: %s", tmp, strerror(-rc));
		return rc;
	}
	char *const gzip[] = { "gzip", "-n", "-1", "-f", tmp, NULL };
	char msg[256];
	rc = exec_run_capture_err(gzip, NULL, msg, sizeof(msg));
	tk_path(gz, sizeof(gz), "%s.gz", tmp);
	if (rc || rename(gz, out->initrd) < 0) {
		unlink(tmp);
		unlink(gz);
		tk_errf(err, errlen, "cannot compress the initramfs: %s", rc ? msg : strerror(errno));
		return -EIO;
	}
	chmod(out->initrd, 0644);
	return 0;
}
