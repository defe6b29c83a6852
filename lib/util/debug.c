#include "lib/util/debug.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

int debug_level = 0;
static FILE *debug_file;
static char debug_prefix[32] = "";

void debug_set_level(int level)
{
	debug_level = level;
}

bool debug_set_logfile(const char *path)
{
	FILE *f;

	if (path == NULL || path[0] == '\0') {
		debug_file = NULL;
		return true;
	}
	f = fopen(path, "a");
	if (f == NULL) {
		return false;
	}
	setvbuf(f, NULL, _IOLBF, 0);
	if (debug_file != NULL) {
		fclose(debug_file);
	}
	debug_file = f;
	return true;
}

void debug_set_prefix(const char *prefix)
{
	snprintf(debug_prefix, sizeof(debug_prefix), "%s", prefix);
}

void debug_printf(int level, const char *file, int line, const char *fmt, ...)
{
	FILE *out = debug_file != NULL ? debug_file : stderr;
	struct timeval tv;
	struct tm tm;
	char stamp[32];
	const char *base = strrchr(file, '/');
	va_list ap;

	gettimeofday(&tv, NULL);
	localtime_r(&tv.tv_sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%d %H:%M:%S", &tm);
	flockfile(out);
	fprintf(out, "[%s.%06ld %s%s%d %d %s:%d] ", stamp, (long)tv.tv_usec,
		debug_prefix, debug_prefix[0] ? " " : "", (int)getpid(), level,
		base ? base + 1 : file, line);
	va_start(ap, fmt);
	vfprintf(out, fmt, ap);
	va_end(ap);
	funlockfile(out);
}
