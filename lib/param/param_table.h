/*
 * The smb.conf parameter table: one row per accepted name, saying where
 * the value lives and how it is parsed and printed.  Internal to
 * lib/param (loadparm.c parses with it, param_dump.c prints with it).
 */
#ifndef LIB_PARAM_PARAM_TABLE_H
#define LIB_PARAM_PARAM_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <talloc.h>

#include "lib/param/loadparm.h"

enum param_type {
	P_BOOL,	     /* bool */
	P_BOOL_REV,  /* bool, stores the inverse ("writeable") */
	P_INT,	     /* int within [min, max] */
	P_UINT32,    /* uint32_t within [min, max] */
	P_OCTAL,     /* mode_t, at most 07777 */
	P_STRING,    /* char *, NULL = not set */
	P_LIST,	     /* char **, NULL-terminated, NULL = empty */
	P_ENUM,	     /* an enum (int sized), names in .enums */
	P_PROTOCOL,  /* uint16_t SMB2 dialect */
	P_PORTS,     /* "smb ports": uint16_t * plus size_t count */
	P_LOG_LEVEL, /* int, first word of "N class:M ..." */
};

enum param_scope {
	P_GLOBAL, /* struct smb_conf_global; only in [global] */
	P_SHARE,  /* struct smb_conf_share; [global] sets the default */
};

/* Table row flags. */
#define P_FLAG_SYNONYM 0x1 /* another name for an earlier row: not printed */
#define P_FLAG_UPPER 0x2   /* string is stored upper-cased */
#define P_FLAG_EMPTY_UNSETS 0x4 /* "" sets the string back to NULL */

struct param_enum_value {
	const char *name; /* the first row of a value is how it is printed */
	int value;
};

/* A check for a string value: NULL if acceptable, else a message
 * allocated on mem_ctx. */
typedef char *(*param_string_check_fn)(TALLOC_CTX *mem_ctx, const char *value);

struct param_def {
	const char *label;
	enum param_type type;
	enum param_scope scope;
	size_t offset;	/* into the scope's struct */
	size_t offset2; /* P_PORTS: the count */
	const struct param_enum_value *enums;
	long min, max;	/* P_INT, P_UINT32 */
	/* P_STRING: the value; P_LIST: each item.  NULL = anything goes. */
	param_string_check_fn check;
	unsigned flags;
};

extern const struct param_def param_table[];
extern const size_t param_table_count;

/* The row for a name as written in smb.conf (case, spaces and
 * underscores ignored), or NULL. */
const struct param_def *param_find(const char *name);

/* Canonical form of a name for comparisons: lower case, without spaces,
 * tabs and underscores.  Writes at most out_len bytes; false if it does
 * not fit. */
bool param_normalize_name(const char *name, char *out, size_t out_len);

/* The compiled-in defaults. */
void param_global_defaults(struct smb_conf *conf);
void param_share_defaults(struct smb_conf *conf, struct smb_conf_share *share);

/* Fill the directory and passdb values that derive from others when the
 * file did not set them. */
bool param_resolve_derived(struct smb_conf *conf);

/* Base of the struct a row's offset applies to. */
static inline void *param_base(const struct param_def *p, struct smb_conf *conf,
			       struct smb_conf_share *share)
{
	return p->scope == P_GLOBAL ? (void *)&conf->global : (void *)share;
}

/* Set a row's value from text.  owner: talloc parent for strings and
 * lists.  Returns NULL on success, else an error message on mem_ctx. */
char *param_set_value(TALLOC_CTX *mem_ctx, const struct param_def *p,
		      void *base, TALLOC_CTX *owner, const char *value);

/* The value of a row as smb.conf text, on mem_ctx. */
char *param_format_value(TALLOC_CTX *mem_ctx, const struct param_def *p,
			 const void *base);

/* Deep copy of every string and list of a share (struct already copied by
 * assignment); new strings hang off owner.  false on no memory. */
bool param_share_copy_strings(struct smb_conf_share *dst, TALLOC_CTX *owner);

/* Split a list value (separators: space, tab, ',' and ';'; double quotes
 * group).  NULL with *err set on a bad quote; *out is NULL for an empty
 * list. */
bool param_parse_list(TALLOC_CTX *mem_ctx, const char *value, char ***out,
		      char **err);

#endif
