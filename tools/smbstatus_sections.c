/*
 * The list of smbstatus sections (smbstatus_sections.h).  Share modes,
 * leases and byte-range locks add themselves here as their databases
 * land.
 */
#include "tools/smbstatus_sections.h"

#include <stddef.h>

const struct status_section status_sections[] = {
	{NULL, NULL},
};
