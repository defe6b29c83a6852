/*
 * smb_conf_dump(): the effective configuration in smb.conf syntax, like
 * "testparm -s".  Values are compared as printed text, so every type is
 * handled by the one formatter in param_values.c.
 */
#include "lib/param/loadparm.h"

#include <string.h>

#include "lib/param/param_table.h"

static void dump_row(FILE *f, const struct param_def *p, const void *base,
		     const void *default_base, bool show_defaults,
		     TALLOC_CTX *tmp)
{
	char *value = param_format_value(tmp, p, base);
	char *def;

	if (value == NULL) {
		return;
	}
	if (!show_defaults) {
		def = param_format_value(tmp, p, default_base);
		if (def != NULL && strcmp(value, def) == 0) {
			return;
		}
	}
	fprintf(f, "\t%s = %s\n", p->label, value);
}

static void dump_share_rows(FILE *f, const struct smb_conf_share *share,
			    const struct smb_conf_share *defaults,
			    bool show_defaults, TALLOC_CTX *tmp)
{
	size_t i;

	for (i = 0; i < param_table_count; i++) {
		const struct param_def *p = &param_table[i];

		if (p->scope != P_SHARE || (p->flags & P_FLAG_SYNONYM)) {
			continue;
		}
		dump_row(f, p, share, defaults, show_defaults, tmp);
	}
}

void smb_conf_dump(const struct smb_conf *conf, FILE *f, bool show_defaults)
{
	TALLOC_CTX *tmp = talloc_new(NULL);
	struct smb_conf *def;
	char *compiled_state_dir;
	size_t i;

	if (tmp == NULL) {
		return;
	}
	def = talloc_zero(tmp, struct smb_conf);
	if (def == NULL) {
		talloc_free(tmp);
		return;
	}
	/* The defaults as this file would derive them: the directories
	 * below a changed "state directory" are not changes of their own. */
	param_global_defaults(def);
	param_share_defaults(def, &def->share_defaults);
	compiled_state_dir = def->global.state_directory;
	def->global.state_directory =
		talloc_strdup(def, conf->global.state_directory);
	if (compiled_state_dir == NULL || def->global.state_directory == NULL ||
	    !param_resolve_derived(def)) {
		talloc_free(tmp);
		return;
	}
	def->global.state_directory = compiled_state_dir;

	fprintf(f, "# Global parameters\n[global]\n");
	for (i = 0; i < param_table_count; i++) {
		const struct param_def *p = &param_table[i];

		if (p->scope != P_GLOBAL || (p->flags & P_FLAG_SYNONYM)) {
			continue;
		}
		dump_row(f, p, &conf->global, &def->global, show_defaults,
			 tmp);
	}
	dump_share_rows(f, &conf->share_defaults, &def->share_defaults,
			show_defaults, tmp);

	for (i = 0; i < conf->num_shares; i++) {
		const struct smb_conf_share *s = conf->shares[i];

		fprintf(f, "\n[%s]\n", s->name);
		dump_share_rows(f, s, &conf->share_defaults, show_defaults,
				tmp);
	}
	talloc_free(tmp);
}
