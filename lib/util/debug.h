/*
 * Logging.  One process-wide sink (stderr or a file) and one level, set at
 * start-up from "log level" / "log file"; the only process-global state
 * the code base allows itself, as every layer must be able to log.
 *
 *   DBG_ERR("open %s: %s\n", path, strerror(errno));
 *
 * Levels follow Samba's: 0 errors, 1 warnings, 2 notices, 3 info,
 * 5 and up debug.  Lines carry time, pid, and file:line.
 */
#ifndef LIB_UTIL_DEBUG_H
#define LIB_UTIL_DEBUG_H

#include <stdbool.h>

extern int debug_level;

void debug_set_level(int level);
/* NULL or "" means stderr.  Returns false (and keeps stderr) on error. */
bool debug_set_logfile(const char *path);
void debug_set_prefix(const char *prefix);
void debug_printf(int level, const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#define DEBUG_AT(level, ...)                                                   \
	do {                                                                   \
		if ((level) <= debug_level) {                                  \
			debug_printf((level), __FILE__, __LINE__,              \
				     __VA_ARGS__);                             \
		}                                                              \
	} while (0)

#define DBG_ERR(...) DEBUG_AT(0, __VA_ARGS__)
#define DBG_WARNING(...) DEBUG_AT(1, __VA_ARGS__)
#define DBG_NOTICE(...) DEBUG_AT(2, __VA_ARGS__)
#define DBG_INFO(...) DEBUG_AT(3, __VA_ARGS__)
#define DBG_DEBUG(...) DEBUG_AT(5, __VA_ARGS__)

#endif
