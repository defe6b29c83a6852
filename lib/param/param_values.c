/*
 * Parsing and printing of single smb.conf values, by parameter type.
 * Every function here works on one table row and a struct base; the
 * file-level logic (sections, includes, line numbers) is in loadparm.c.
 */
#include "lib/param/param_table.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define FIELD(base, p, T) ((T *)((char *)(base) + (p)->offset))
#define CFIELD(base, p, T) ((const T *)((const char *)(base) + (p)->offset))

/* Samba's list separators. */
static const char list_separators[] = " \t,;\r\n";

static bool parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = { "yes", "true", "1", "on" };
	static const char *const no[] = { "no", "false", "0", "off" };
	size_t i;

	for (i = 0; i < 4; i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = true;
			return true;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*out = false;
			return true;
		}
	}
	return false;
}

/* Decimal (base 10) or, with base 8, octal; the whole string must be a
 * number. */
static bool parse_long(const char *s, int base, long *out)
{
	char *end = NULL;
	long v;

	if (*s == '\0' || isspace((unsigned char)*s)) {
		return false;
	}
	errno = 0;
	v = strtol(s, &end, base);
	if (errno != 0 || end == s || *end != '\0') {
		return false;
	}
	*out = v;
	return true;
}

bool param_parse_list(TALLOC_CTX *mem_ctx, const char *value, char ***out,
		      char **err)
{
	char **list = talloc_array(mem_ctx, char *, 1);
	size_t n = 0;
	const char *p = value;

	*out = NULL;
	*err = NULL;
	if (list == NULL) {
		return false;
	}
	list[0] = NULL;
	for (;;) {
		char *item = talloc_strdup(list, "");
		char **grown;

		p += strspn(p, list_separators);
		if (*p == '\0') {
			talloc_free(item);
			break;
		}
		/* An item runs to the next separator outside double quotes;
		 * the quotes themselves are dropped ("a b"c -> a bc). */
		while (item != NULL && *p != '\0' &&
		       strchr(list_separators, *p) == NULL) {
			if (*p == '"') {
				const char *close = strchr(p + 1, '"');

				if (close == NULL) {
					*err = talloc_asprintf(
						mem_ctx,
						"unterminated quote in list "
						"\"%s\"",
						value);
					talloc_free(list);
					return false;
				}
				item = talloc_strndup_append(
					item, p + 1, (size_t)(close - p - 1));
				p = close + 1;
				continue;
			}
			item = talloc_strndup_append(item, p, 1);
			p++;
		}
		if (item == NULL) {
			talloc_free(list);
			return false;
		}
		if (item[0] == '\0') {
			talloc_free(item); /* "" */
			continue;
		}
		grown = talloc_realloc(mem_ctx, list, char *, n + 2);
		if (grown == NULL) {
			talloc_free(list);
			return false;
		}
		list = grown;
		list[n++] = item;
		list[n] = NULL;
	}
	if (n == 0) {
		talloc_free(list);
		return true;
	}
	*out = list;
	return true;
}

static char *enum_names(TALLOC_CTX *mem_ctx, const struct param_enum_value *e)
{
	char *s = talloc_strdup(mem_ctx, "");

	for (; e->name != NULL && s != NULL; e++) {
		s = talloc_asprintf_append(s, "%s%s", s[0] ? ", " : "", e->name);
	}
	return s;
}

static const struct param_enum_value protocol_values[] = {
	{ "SMB2_02", SMB_CONF_PROTOCOL_SMB2_02 },
	{ "SMB2_10", SMB_CONF_PROTOCOL_SMB2_10 },
	{ "SMB2", SMB_CONF_PROTOCOL_SMB2_10 },
	{ "SMB3_00", SMB_CONF_PROTOCOL_SMB3_00 },
	{ "SMB3_02", SMB_CONF_PROTOCOL_SMB3_02 },
	{ "SMB3_11", SMB_CONF_PROTOCOL_SMB3_11 },
	{ "SMB3", SMB_CONF_PROTOCOL_SMB3_11 },
	{ NULL, 0 },
};

const char *smb_conf_protocol_name(uint16_t dialect)
{
	const struct param_enum_value *e;

	for (e = protocol_values; e->name != NULL; e++) {
		if (e->value == dialect) {
			return e->name;
		}
	}
	return NULL;
}

static char *set_protocol(TALLOC_CTX *mem_ctx, const struct param_def *p,
			  void *base, const char *value)
{
	static const char *const smb1[] = { "NT1",     "LANMAN1", "LANMAN2",
					    "CORE",    "COREPLUS", "SMB1" };
	const struct param_enum_value *e;
	size_t i;

	for (e = protocol_values; e->name != NULL; e++) {
		if (strcasecmp(value, e->name) == 0) {
			*FIELD(base, p, uint16_t) = (uint16_t)e->value;
			return NULL;
		}
	}
	for (i = 0; i < sizeof(smb1) / sizeof(smb1[0]); i++) {
		if (strcasecmp(value, smb1[i]) == 0) {
			return talloc_asprintf(mem_ctx,
					       "%s = %s: SMB1 is not supported "
					       "(the lowest protocol is SMB2_02)",
					       p->label, value);
		}
	}
	return talloc_asprintf(mem_ctx,
			       "invalid value \"%s\" for \"%s\" (expected one "
			       "of: %s)",
			       value, p->label,
			       enum_names(mem_ctx, protocol_values));
}

static char *set_ports(TALLOC_CTX *mem_ctx, const struct param_def *p,
		       void *base, TALLOC_CTX *owner, const char *value)
{
	uint16_t **ports = FIELD(base, p, uint16_t *);
	size_t *count = (size_t *)((char *)base + p->offset2);
	char **list = NULL;
	char *err = NULL;
	uint16_t *arr;
	size_t n, i, j;

	if (!param_parse_list(mem_ctx, value, &list, &err)) {
		return err != NULL ? err : talloc_strdup(mem_ctx, "no memory");
	}
	if (list == NULL) {
		return talloc_asprintf(mem_ctx, "\"%s\" needs at least one port",
				       p->label);
	}
	for (n = 0; list[n] != NULL; n++) {
	}
	arr = talloc_array(owner, uint16_t, n);
	if (arr == NULL) {
		return talloc_strdup(mem_ctx, "no memory");
	}
	for (i = 0; i < n; i++) {
		long v;

		if (!parse_long(list[i], 10, &v) || v < 1 || v > 65535) {
			talloc_free(arr);
			return talloc_asprintf(mem_ctx,
					       "invalid port \"%s\" in \"%s\" "
					       "(1..65535)",
					       list[i], p->label);
		}
		for (j = 0; j < i; j++) {
			if (arr[j] == v) {
				talloc_free(arr);
				return talloc_asprintf(
					mem_ctx, "port %ld listed twice in \"%s\"",
					v, p->label);
			}
		}
		arr[i] = (uint16_t)v;
	}
	talloc_free(*ports);
	*ports = arr;
	*count = n;
	return NULL;
}

/* "3" or "3 auth:5 passdb:10": Samba's per-class levels are accepted in
 * form and ignored, there are no classes here. */
static char *set_log_level(TALLOC_CTX *mem_ctx, const struct param_def *p,
			   void *base, const char *value)
{
	char **words = NULL;
	char *err = NULL;
	long level = -1;
	size_t i;

	if (!param_parse_list(mem_ctx, value, &words, &err)) {
		return err != NULL ? err : talloc_strdup(mem_ctx, "no memory");
	}
	for (i = 0; words != NULL && words[i] != NULL; i++) {
		const char *w = words[i];
		const char *colon = strchr(w, ':');
		long v;

		if (i == 0 && colon == NULL) {
			if (!parse_long(w, 10, &level) || level < 0 ||
			    level > 100) {
				break;
			}
			continue;
		}
		if (colon == NULL || colon == w ||
		    !parse_long(colon + 1, 10, &v) || v < 0 || v > 100) {
			level = -1;
			break;
		}
	}
	if (level < 0) {
		return talloc_asprintf(mem_ctx,
				       "invalid value \"%s\" for \"%s\" "
				       "(expected a level 0..100, optionally "
				       "followed by class:level words)",
				       value, p->label);
	}
	*FIELD(base, p, int) = (int)level;
	return NULL;
}

char *param_set_value(TALLOC_CTX *mem_ctx, const struct param_def *p,
		      void *base, TALLOC_CTX *owner, const char *value)
{
	bool b;
	long v;

	switch (p->type) {
	case P_BOOL:
	case P_BOOL_REV:
		if (!parse_bool(value, &b)) {
			return talloc_asprintf(mem_ctx,
					       "invalid boolean value \"%s\" for "
					       "\"%s\" (expected yes/no, true/"
					       "false, on/off or 1/0)",
					       value, p->label);
		}
		*FIELD(base, p, bool) = p->type == P_BOOL ? b : !b;
		return NULL;
	case P_INT:
	case P_UINT32:
		if (!parse_long(value, 10, &v)) {
			return talloc_asprintf(mem_ctx,
					       "invalid number \"%s\" for \"%s\"",
					       value, p->label);
		}
		if (v < p->min || v > p->max) {
			return talloc_asprintf(mem_ctx,
					       "value %ld for \"%s\" is out of "
					       "range (%ld..%ld)",
					       v, p->label, p->min, p->max);
		}
		if (p->type == P_INT) {
			*FIELD(base, p, int) = (int)v;
		} else {
			*FIELD(base, p, uint32_t) = (uint32_t)v;
		}
		return NULL;
	case P_OCTAL:
		if (!parse_long(value, 8, &v) || v < 0 || v > 07777) {
			return talloc_asprintf(mem_ctx,
					       "invalid octal mode \"%s\" for "
					       "\"%s\" (expected 0000..07777)",
					       value, p->label);
		}
		*FIELD(base, p, mode_t) = (mode_t)v;
		return NULL;
	case P_STRING: {
		char **field = FIELD(base, p, char *);
		char *copy;

		if (value[0] == '\0' && (p->flags & P_FLAG_EMPTY_UNSETS)) {
			TALLOC_FREE(*field);
			return NULL;
		}
		if (p->check != NULL) {
			char *msg = p->check(mem_ctx, value);

			if (msg != NULL) {
				return talloc_asprintf(mem_ctx, "%s: %s",
						       p->label, msg);
			}
		}
		copy = talloc_strdup(owner, value);
		if (copy == NULL) {
			return talloc_strdup(mem_ctx, "no memory");
		}
		if (p->flags & P_FLAG_UPPER) {
			char *c;

			for (c = copy; *c != '\0'; c++) {
				*c = (char)toupper((unsigned char)*c);
			}
		}
		talloc_free(*field);
		*field = copy;
		return NULL;
	}
	case P_LIST: {
		char ***field = FIELD(base, p, char **);
		char **list = NULL;
		char *err = NULL;

		size_t i;

		if (!param_parse_list(owner, value, &list, &err)) {
			if (err == NULL) {
				return talloc_strdup(mem_ctx, "no memory");
			}
			return talloc_asprintf(mem_ctx, "%s: %s", p->label,
					       err);
		}
		for (i = 0; p->check != NULL && list != NULL &&
			    list[i] != NULL;
		     i++) {
			char *msg = p->check(mem_ctx, list[i]);

			if (msg != NULL) {
				talloc_free(list);
				return talloc_asprintf(mem_ctx, "%s: %s",
						       p->label, msg);
			}
		}
		talloc_free(*field);
		*field = list;
		return NULL;
	}
	case P_ENUM: {
		const struct param_enum_value *e;

		for (e = p->enums; e->name != NULL; e++) {
			if (strcasecmp(value, e->name) == 0) {
				*FIELD(base, p, int) = e->value;
				return NULL;
			}
		}
		return talloc_asprintf(mem_ctx,
				       "invalid value \"%s\" for \"%s\" "
				       "(expected one of: %s)",
				       value, p->label,
				       enum_names(mem_ctx, p->enums));
	}
	case P_PROTOCOL:
		return set_protocol(mem_ctx, p, base, value);
	case P_PORTS:
		return set_ports(mem_ctx, p, base, owner, value);
	case P_LOG_LEVEL:
		return set_log_level(mem_ctx, p, base, value);
	}
	return talloc_strdup(mem_ctx, "internal error: unknown parameter type");
}

/* A list item that would not survive re-parsing unquoted is quoted. */
static char *format_list(TALLOC_CTX *mem_ctx, char *const *list)
{
	char *s = talloc_strdup(mem_ctx, "");
	size_t i;

	for (i = 0; list != NULL && list[i] != NULL && s != NULL; i++) {
		bool quote = strpbrk(list[i], list_separators) != NULL;

		s = talloc_asprintf_append(s, "%s%s%s%s", i > 0 ? ", " : "",
					   quote ? "\"" : "", list[i],
					   quote ? "\"" : "");
	}
	return s;
}

char *param_format_value(TALLOC_CTX *mem_ctx, const struct param_def *p,
			 const void *base)
{
	switch (p->type) {
	case P_BOOL:
		return talloc_strdup(mem_ctx,
				     *CFIELD(base, p, bool) ? "Yes" : "No");
	case P_BOOL_REV:
		return talloc_strdup(mem_ctx,
				     *CFIELD(base, p, bool) ? "No" : "Yes");
	case P_INT:
	case P_LOG_LEVEL:
		return talloc_asprintf(mem_ctx, "%d", *CFIELD(base, p, int));
	case P_UINT32:
		return talloc_asprintf(mem_ctx, "%u",
				       (unsigned)*CFIELD(base, p, uint32_t));
	case P_OCTAL:
		return talloc_asprintf(mem_ctx, "0%03o",
				       (unsigned)*CFIELD(base, p, mode_t));
	case P_STRING: {
		const char *s = *CFIELD(base, p, char *);

		return talloc_strdup(mem_ctx, s != NULL ? s : "");
	}
	case P_LIST:
		return format_list(mem_ctx, (char *const *)*CFIELD(base, p, char **));
	case P_ENUM: {
		const struct param_enum_value *e;
		int v = *CFIELD(base, p, int);

		for (e = p->enums; e->name != NULL; e++) {
			if (e->value == v) {
				return talloc_strdup(mem_ctx, e->name);
			}
		}
		return talloc_asprintf(mem_ctx, "%d", v);
	}
	case P_PROTOCOL: {
		uint16_t d = *CFIELD(base, p, uint16_t);
		const char *name = smb_conf_protocol_name(d);

		return name != NULL ? talloc_strdup(mem_ctx, name)
				    : talloc_asprintf(mem_ctx, "0x%04x", d);
	}
	case P_PORTS: {
		const uint16_t *ports = *CFIELD(base, p, uint16_t *);
		size_t n = *(const size_t *)((const char *)base + p->offset2);
		char *s = talloc_strdup(mem_ctx, "");
		size_t i;

		for (i = 0; i < n && s != NULL; i++) {
			s = talloc_asprintf_append(s, "%s%u", i > 0 ? " " : "",
						   (unsigned)ports[i]);
		}
		return s;
	}
	}
	return NULL;
}

static char **copy_list(TALLOC_CTX *owner, char *const *list, bool *ok)
{
	char **copy;
	size_t n, i;

	if (list == NULL) {
		return NULL;
	}
	for (n = 0; list[n] != NULL; n++) {
	}
	copy = talloc_array(owner, char *, n + 1);
	if (copy == NULL) {
		*ok = false;
		return NULL;
	}
	for (i = 0; i < n; i++) {
		copy[i] = talloc_strdup(copy, list[i]);
		if (copy[i] == NULL) {
			*ok = false;
		}
	}
	copy[n] = NULL;
	return copy;
}

bool param_share_copy_strings(struct smb_conf_share *dst, TALLOC_CTX *owner)
{
	bool ok = true;
	size_t i;

	/* Walk the table rather than naming fields, so a new share
	 * parameter is copied without touching this function. */
	for (i = 0; i < param_table_count; i++) {
		const struct param_def *p = &param_table[i];

		if (p->scope != P_SHARE || (p->flags & P_FLAG_SYNONYM)) {
			continue;
		}
		if (p->type == P_STRING) {
			char **f = FIELD(dst, p, char *);

			if (*f != NULL) {
				*f = talloc_strdup(owner, *f);
				ok = ok && *f != NULL;
			}
		} else if (p->type == P_LIST) {
			char ***f = FIELD(dst, p, char **);

			*f = copy_list(owner, *f, &ok);
		}
	}
	return ok;
}
