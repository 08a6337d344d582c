/*
 * Backend lookup by name for twamp-experiment's --backend option.
 */
#include "autoconfig.h"
#include "backend.h"

#include <string.h>

const struct backend_ops *backend_find(const char *name)
{
	if (!strcmp(name, "netns"))
		return &backend_netns;
#ifdef HAVE_LIBVIRT_BACKEND
	if (!strcmp(name, "libvirt"))
		return &backend_libvirt;
#endif
	return NULL;
}
