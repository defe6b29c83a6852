/*
 * Security descriptors: parser (valid and malformed input), access check
 * ([MS-DTYP] 2.5.3.2 cases), inheritance (2.5.3.4), stored encoding.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lib/util/byteorder.h"
#include "smbd/acl_inherit.h"
#include "smbd/acl_store.h"
#include "smbd/nt_access.h"
#include "smbd/nt_acl.h"
#include "smbd/smb2_wire.h"
#include "smbd/vfs/impersonate.h"

/*
 * A descriptor written out by hand from [MS-DTYP] 2.4.6:
 *   owner S-1-5-32-544 (BUILTIN\Administrators), group S-1-5-18 (SYSTEM),
 *   DACL: ALLOWED OI|CI 0x001f01ff S-1-1-0;
 *         DENIED  0     0x00000002 S-1-22-1-1000
 */
static const uint8_t sd_known[] = {
	/* header: rev 1, sbz1, control 0x8004, owner 20, group 36,
	 * sacl 0, dacl 48 */
	0x01, 0x00, 0x04, 0x80, 0x14, 0x00, 0x00, 0x00, 0x24, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x30, 0x00, 0x00, 0x00,
	/* owner S-1-5-32-544 */
	0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05, 0x20, 0x00, 0x00,
	0x00, 0x20, 0x02, 0x00, 0x00,
	/* group S-1-5-18 */
	0x01, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05, 0x12, 0x00, 0x00,
	0x00,
	/* DACL: rev 2, size 8+20+24=52, 2 aces */
	0x02, 0x00, 0x34, 0x00, 0x02, 0x00, 0x00, 0x00,
	/* ACE allowed, OI|CI, size 20, mask, S-1-1-0 */
	0x00, 0x03, 0x14, 0x00, 0xff, 0x01, 0x1f, 0x00, 0x01, 0x01, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
	/* ACE denied, size 24, mask 2, S-1-22-1-1000 */
	0x01, 0x00, 0x18, 0x00, 0x02, 0x00, 0x00, 0x00, 0x01, 0x02, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x16, 0x01, 0x00, 0x00, 0x00, 0xe8, 0x03,
	0x00, 0x00,
};

static void test_parse_known(void **state)
{
	TALLOC_CTX *mem = talloc_new(NULL);
	struct nt_sd *sd;
	uint8_t *out;
	size_t out_len;
	struct nt_sid u1000 = nt_sid_unix_user(1000);

	(void)state;
	assert_true(NT_STATUS_IS_OK(
		nt_sd_parse(mem, sd_known, sizeof(sd_known), &sd)));
	assert_int_equal(sd->control, 0x8004);
	assert_string_equal(nt_sid_string(mem, sd->owner), "S-1-5-32-544");
	assert_string_equal(nt_sid_string(mem, sd->group), "S-1-5-18");
	assert_null(sd->sacl);
	assert_non_null(sd->dacl);
	assert_int_equal(sd->dacl->num_aces, 2);
	assert_int_equal(sd->dacl->aces[0].type, NT_ACE_ACCESS_ALLOWED);
	assert_int_equal(sd->dacl->aces[0].flags, 3);
	assert_int_equal(sd->dacl->aces[0].mask, 0x001f01ff);
	assert_true(nt_sid_equal(&sd->dacl->aces[0].sid, &nt_sid_world));
	assert_true(nt_sid_equal(&sd->dacl->aces[1].sid, &u1000));

	/* round trip: the same bytes */
	assert_true(NT_STATUS_IS_OK(nt_sd_encode(mem, sd, 0xf, &out, &out_len)));
	assert_int_equal(out_len, sizeof(sd_known));
	assert_memory_equal(out, sd_known, sizeof(sd_known));

	/* only the DACL asked for: owner and group gone, flag kept */
	assert_true(NT_STATUS_IS_OK(
		nt_sd_encode(mem, sd, NT_SECINFO_DACL, &out, &out_len)));
	assert_int_equal(out_len, 20 + 52);
	assert_int_equal(PULL_LE32(out, 4), 0);
	assert_int_equal(PULL_LE32(out, 16), 20);
	/* only the owner: no DACL_PRESENT */
	assert_true(NT_STATUS_IS_OK(
		nt_sd_encode(mem, sd, NT_SECINFO_OWNER, &out, &out_len)));
	assert_int_equal(PULL_LE16(out, 2), 0x8000);
	talloc_free(mem);
}

static void expect_invalid(const uint8_t *buf, size_t len)
{
	TALLOC_CTX *mem = talloc_new(NULL);
	struct nt_sd *sd = (struct nt_sd *)1;
	NTSTATUS status = nt_sd_parse(mem, buf, len, &sd);

	assert_true(NT_STATUS_EQUAL(status, NT_STATUS_INVALID_SECURITY_DESCR));
	assert_null(sd);
	talloc_free(mem);
}

static void test_parse_malformed(void **state)
{
	uint8_t b[sizeof(sd_known)];

	(void)state;
	expect_invalid(sd_known, 0);
	expect_invalid(sd_known, 19);
	/* every truncation that cuts into the DACL's last ACE */
	for (size_t n = 20; n < sizeof(sd_known); n++) {
		expect_invalid(sd_known, n);
	}
#define MUTATE(stmt)                                                           \
	do {                                                                   \
		memcpy(b, sd_known, sizeof(b));                                \
		stmt;                                                          \
		expect_invalid(b, sizeof(b));                                  \
	} while (0)
	MUTATE(b[0] = 2);		     /* SD revision */
	MUTATE(b[3] = 0x00);		     /* not self-relative */
	MUTATE(PUSH_LE32(b, 4, 4));	     /* owner inside the header */
	MUTATE(PUSH_LE32(b, 4, 0xfffffff0)); /* owner far outside */
	MUTATE(PUSH_LE32(b, 8, sizeof(b) - 4)); /* group runs off the end */
	MUTATE(b[20] = 2);		     /* SID revision */
	MUTATE(b[21] = 16);		     /* 16 sub-authorities */
	MUTATE(b[37] = 15);		     /* group claims 15: too long */
	MUTATE(b[48] = 3);		     /* ACL revision */
	MUTATE(PUSH_LE16(b, 50, 53));	     /* AclSize past the end */
	MUTATE(PUSH_LE16(b, 50, 7));	     /* AclSize below the header */
	MUTATE(PUSH_LE16(b, 52, 3));	     /* more ACEs than present */
	MUTATE(PUSH_LE16(b, 52, 0xffff));    /* absurd AceCount */
	MUTATE(PUSH_LE16(b, 58, 3));	     /* AceSize below the header */
	MUTATE(PUSH_LE16(b, 58, 48));	     /* AceSize past the ACL */
	MUTATE(PUSH_LE16(b, 58, 12));	     /* ACE too small for its SID */
	MUTATE(b[65] = 5);		     /* ACE SID longer than the ACE */
	MUTATE(PUSH_LE32(b, 16, 0xffffffff)); /* DACL offset */
#undef MUTATE
	/* the same offset without DACL_PRESENT is ignored (Windows) */
	memcpy(b, sd_known, sizeof(b));
	PUSH_LE16(b, 2, 0x8000);
	PUSH_LE32(b, 16, 0xffffffff);
	{
		TALLOC_CTX *mem = talloc_new(NULL);
		struct nt_sd *sd;
		assert_true(NT_STATUS_IS_OK(nt_sd_parse(mem, b, sizeof(b), &sd)));
		assert_null(sd->dacl);
		talloc_free(mem);
	}
}

/* Random damage must never crash the parser, and whatever it accepts must
 * encode and parse again. */
static void test_parse_fuzz(void **state)
{
	uint8_t b[sizeof(sd_known) + 16];
	unsigned seed = 12345;

	(void)state;
	for (int iter = 0; iter < 200000; iter++) {
		TALLOC_CTX *mem = talloc_new(NULL);
		struct nt_sd *sd;
		size_t len = sizeof(sd_known);
		int flips = 1 + rand_r(&seed) % 4;

		memcpy(b, sd_known, sizeof(sd_known));
		for (int i = 0; i < flips; i++) {
			b[rand_r(&seed) % len] = (uint8_t)rand_r(&seed);
		}
		if (rand_r(&seed) % 4 == 0) {
			len = (size_t)rand_r(&seed) % sizeof(b);
		}
		if (NT_STATUS_IS_OK(nt_sd_parse(mem, b, len, &sd))) {
			uint8_t *out;
			size_t out_len;
			struct nt_sd *again;
			if (NT_STATUS_IS_OK(nt_sd_encode(mem, sd, 0xf, &out,
							 &out_len))) {
				assert_true(NT_STATUS_IS_OK(nt_sd_parse(
					mem, out, out_len, &again)));
			}
		}
		talloc_free(mem);
	}
}

/* ---- access check ---- */

static struct nt_token *make_token(TALLOC_CTX *mem, uint32_t uid,
				   uint32_t gid, bool guest)
{
	gid_t groups[2] = { gid, 20 };
	struct vfs_creds creds = {
		.uid = uid, .gid = gid, .ngroups = 2, .groups = groups
	};
	return nt_token_from_creds(mem, &creds, guest);
}

static struct nt_sd *make_sd(TALLOC_CTX *mem, uint32_t owner_uid)
{
	struct nt_sd *sd = talloc_zero(mem, struct nt_sd);
	struct nt_sid owner = nt_sid_unix_user(owner_uid);
	struct nt_sid group = nt_sid_unix_group(100);

	sd->revision = 1;
	sd->control = NT_SD_SELF_RELATIVE | NT_SD_DACL_PRESENT;
	sd->owner = nt_sid_dup(sd, &owner);
	sd->group = nt_sid_dup(sd, &group);
	sd->dacl = talloc_zero(sd, struct nt_acl);
	sd->dacl->revision = 2;
	return sd;
}

static void test_token(void **state)
{
	TALLOC_CTX *mem = talloc_new(NULL);
	struct nt_token *t = make_token(mem, 1000, 100, false);
	struct nt_token *g = make_token(mem, 1000, 100, true);
	struct nt_sid s;

	(void)state;
	assert_false(t->is_root);
	assert_string_equal(nt_sid_string(mem, &t->user), "S-1-22-1-1000");
	assert_true(nt_token_has_sid(t, &t->user));
	s = nt_sid_unix_group(100);
	assert_true(nt_token_has_sid(t, &s));
	s = nt_sid_unix_group(20);
	assert_true(nt_token_has_sid(t, &s));
	assert_true(nt_token_has_sid(t, &nt_sid_world));
	assert_true(nt_token_has_sid(t, &nt_sid_builtin_users));
	assert_true(nt_token_has_sid(t, &nt_sid_authenticated_users));
	assert_false(nt_token_has_sid(g, &nt_sid_authenticated_users));
	assert_int_equal(t->num_sids, 6); /* user, 100, 20, world, users, auth */
	assert_true(make_token(mem, 0, 0, false)->is_root);
	talloc_free(mem);
}

static void test_access_null_and_empty_dacl(void **state)
{
	TALLOC_CTX *mem = talloc_new(NULL);
	struct nt_token *owner = make_token(mem, 1000, 100, false);
	struct nt_token *other = make_token(mem, 1001, 101, false);
	struct nt_token *root = make_token(mem, 0, 0, false);
	struct nt_sd *sd = make_sd(mem, 1000);
	uint32_t g;

	(void)state;
	/* empty DACL: only the owner's implicit rights */
	assert_true(NT_STATUS_IS_OK(
		nt_access_check(sd, owner, SEC_STD_READ_CONTROL, &g)));
	assert_int_equal(g, SEC_STD_READ_CONTROL);
	assert_true(NT_STATUS_EQUAL(
		nt_access_check(sd, owner, SEC_FILE_READ_DATA, &g),
		NT_STATUS_ACCESS_DENIED));
	assert_int_equal(nt_access_maximum(sd, owner),
			 SEC_STD_READ_CONTROL | SEC_STD_WRITE_DAC);
	assert_true(NT_STATUS_EQUAL(
		nt_access_check(sd, other, SEC_STD_READ_CONTROL, &g),
		NT_STATUS_ACCESS_DENIED));
	assert_true(NT_STATUS_EQUAL(
		nt_access_check(sd, other, SEC_FLAG_MAXIMUM_ALLOWED, &g),
		NT_STATUS_ACCESS_DENIED));
	/* root: everything */
	assert_true(NT_STATUS_IS_OK(
		nt_access_check(sd, root, SEC_FLAG_MAXIMUM_ALLOWED, &g)));
	assert_int_equal(g, NT_ACCESS_ALL_FILE_RIGHTS);

	/* NULL DACL: everyone everything; generic bits mapped */
	sd->dacl = NULL;
	assert_true(NT_STATUS_IS_OK(
		nt_access_check(sd, other, SEC_GENERIC_WRITE, &g)));
	assert_int_equal(g, SEC_RIGHTS_FILE_WRITE);
	assert_true(NT_STATUS_IS_OK(
		nt_access_check(sd, other, SEC_FLAG_MAXIMUM_ALLOWED, &g)));
	assert_int_equal(g, NT_ACCESS_ALL_FILE_RIGHTS);
	talloc_free(mem);
}

/* [MS-DTYP] 2.5.3.2: ACE order decides (deny before allow wins; a right
 * already granted cannot be denied later). */
static void test_access_order(void **state)
{
	TALLOC_CTX *mem = talloc_new(NULL);
	struct nt_token *user = make_token(mem, 1000, 100, false);
	struct nt_sd *sd = make_sd(mem, 1);
	struct nt_sid me = nt_sid_unix_user(1000);
	struct nt_sid grp = nt_sid_unix_group(100);
	uint32_t g;

	(void)state;
	nt_acl_add(sd->dacl, NT_ACE_ACCESS_DENIED, 0, SEC_FILE_WRITE_DATA,
		   &nt_sid_world);
	nt_acl_add(sd->dacl, NT_ACE_ACCESS_ALLOWED, 0, SEC_FILE_ALL, &me);
	assert_true(NT_STATUS_IS_OK(
		nt_access_check(sd, user, SEC_FILE_READ_DATA, &g)));
	assert_true(NT_STATUS_EQUAL(
		nt_access_check(sd, user,
				SEC_FILE_READ_DATA | SEC_FILE_WRITE_DATA, &g),
		NT_STATUS_ACCESS_DENIED));
	assert_int_equal(nt_access_maximum(sd, user),
			 SEC_FILE_ALL & ~SEC_FILE_WRITE_DATA);

	/* allow first: the later deny does not take it back */
	sd = make_sd(mem, 1);
	nt_acl_add(sd->dacl, NT_ACE_ACCESS_ALLOWED, 0,
		   SEC_FILE_READ_DATA | SEC_FILE_WRITE_DATA, &grp);
	nt_acl_add(sd->dacl, NT_ACE_ACCESS_DENIED, 0, SEC_FILE_WRITE_DATA,
		   &nt_sid_world);
	assert_true(NT_STATUS_IS_OK(
		nt_access_check(sd, user, SEC_FILE_WRITE_DATA, &g)));
	assert_int_equal(g, SEC_FILE_WRITE_DATA);

	/* inherit-only and CREATOR OWNER ACEs do not apply to the object;
	 * generic bits in an ACE are mapped */
	sd = make_sd(mem, 1000);
	nt_acl_add(sd->dacl, NT_ACE_ACCESS_ALLOWED, NT_ACE_INHERIT_ONLY |
		   NT_ACE_OBJECT_INHERIT, SEC_FILE_ALL, &me);
	nt_acl_add(sd->dacl, NT_ACE_ACCESS_ALLOWED, 0, SEC_FILE_ALL,
		   &nt_sid_creator_owner);
	nt_acl_add(sd->dacl, NT_ACE_ACCESS_ALLOWED, 0, SEC_GENERIC_READ,
		   &nt_sid_builtin_users);
	assert_int_equal(nt_access_maximum(sd, user),
			 SEC_RIGHTS_FILE_READ | SEC_STD_WRITE_DAC);
	assert_true(NT_STATUS_EQUAL(
		nt_access_check(sd, user, SEC_FILE_WRITE_DATA, &g),
		NT_STATUS_ACCESS_DENIED));
	/* ACCESS_SYSTEM_SECURITY is never granted by an ACE */
	assert_true(NT_STATUS_EQUAL(
		nt_access_check(sd, user, SEC_FLAG_SYSTEM_SECURITY, &g),
		NT_STATUS_ACCESS_DENIED));
	talloc_free(mem);
}

/* OWNER RIGHTS (S-1-3-4) replaces the owner's implicit rights. */
static void test_access_owner_rights(void **state)
{
	TALLOC_CTX *mem = talloc_new(NULL);
	struct nt_token *owner = make_token(mem, 1000, 100, false);
	struct nt_token *other = make_token(mem, 1001, 101, false);
	struct nt_sd *sd = make_sd(mem, 1000);
	uint32_t g;

	(void)state;
	nt_acl_add(sd->dacl, NT_ACE_ACCESS_ALLOWED, 0, SEC_FILE_READ_DATA,
		   &nt_sid_owner_rights);
	assert_int_equal(nt_access_maximum(sd, owner), SEC_FILE_READ_DATA);
	assert_true(NT_STATUS_EQUAL(
		nt_access_check(sd, owner, SEC_STD_WRITE_DAC, &g),
		NT_STATUS_ACCESS_DENIED));
	assert_int_equal(nt_access_maximum(sd, other), 0);
	/* an inherit-only OWNER RIGHTS ACE does not count */
	sd = make_sd(mem, 1000);
	nt_acl_add(sd->dacl, NT_ACE_ACCESS_ALLOWED,
		   NT_ACE_INHERIT_ONLY | NT_ACE_CONTAINER_INHERIT,
		   SEC_FILE_READ_DATA, &nt_sid_owner_rights);
	assert_int_equal(nt_access_maximum(sd, owner),
			 SEC_STD_READ_CONTROL | SEC_STD_WRITE_DAC);
	talloc_free(mem);
}

/* ---- inheritance ---- */

static void expect_ace(const struct nt_acl *acl, uint32_t i, uint8_t type,
		       uint8_t flags, uint32_t mask, const struct nt_sid *sid)
{
	assert_true(i < acl->num_aces);
	assert_int_equal(acl->aces[i].type, type);
	assert_int_equal(acl->aces[i].flags, flags);
	assert_int_equal(acl->aces[i].mask, mask);
	assert_true(nt_sid_equal(&acl->aces[i].sid, sid));
}

static void test_inherit(void **state)
{
	TALLOC_CTX *mem = talloc_new(NULL);
	struct nt_acl *parent = talloc_zero(mem, struct nt_acl);
	struct nt_sid owner = nt_sid_unix_user(1000);
	struct nt_sid group = nt_sid_unix_group(100);
	struct nt_sid g7 = nt_sid_unix_group(7);
	struct nt_acl *c;
	const uint8_t I = NT_ACE_INHERITED, OI = NT_ACE_OBJECT_INHERIT,
		      CI = NT_ACE_CONTAINER_INHERIT, IO = NT_ACE_INHERIT_ONLY,
		      NP = NT_ACE_NO_PROPAGATE_INHERIT;

	(void)state;
	parent->revision = 2;
	nt_acl_add(parent, 0, OI | CI | IO, SEC_GENERIC_ALL,
		   &nt_sid_creator_owner);
	nt_acl_add(parent, 0, OI, SEC_RIGHTS_FILE_READ, &nt_sid_world);
	nt_acl_add(parent, 1, CI, SEC_FILE_WRITE_DATA, &g7);
	nt_acl_add(parent, 0, CI | NP, SEC_FILE_READ_DATA, &group);
	nt_acl_add(parent, 0, 0, SEC_FILE_ALL, &owner); /* not inheritable */

	c = acl_inherit_dacl(mem, parent, false, true, &owner, &group);
	assert_int_equal(c->num_aces, 2);
	expect_ace(c, 0, 0, I, SEC_FILE_ALL, &owner);
	expect_ace(c, 1, 0, I, SEC_RIGHTS_FILE_READ, &nt_sid_world);

	/* without auto-inheritance: the same ACEs, not marked INHERITED */
	c = acl_inherit_dacl(mem, parent, false, false, &owner, &group);
	assert_int_equal(c->num_aces, 2);
	expect_ace(c, 0, 0, 0, SEC_FILE_ALL, &owner);

	c = acl_inherit_dacl(mem, parent, true, true, &owner, &group);
	assert_int_equal(c->num_aces, 5);
	/* CREATOR OWNER split: effective for the owner + inherit-only */
	expect_ace(c, 0, 0, I, SEC_FILE_ALL, &owner);
	expect_ace(c, 1, 0, OI | CI | IO | I, SEC_GENERIC_ALL,
		   &nt_sid_creator_owner);
	/* file-only ACE passes through a directory as inherit-only */
	expect_ace(c, 2, 0, OI | IO | I, SEC_RIGHTS_FILE_READ, &nt_sid_world);
	/* container ACE applies and stays inheritable */
	expect_ace(c, 3, 1, CI | I, SEC_FILE_WRITE_DATA, &g7);
	/* no-propagate: applies to this directory only */
	expect_ace(c, 4, 0, I, SEC_FILE_READ_DATA, &group);
	talloc_free(mem);
}

static void test_create_descriptor(void **state)
{
	TALLOC_CTX *mem = talloc_new(NULL);
	struct nt_token *tok = make_token(mem, 1000, 100, false);
	struct nt_sd *parent = make_sd(mem, 1);
	struct nt_sd *creator = make_sd(mem, 1000);
	struct nt_acl *def = talloc_zero(mem, struct nt_acl);
	struct nt_sd *sd;

	(void)state;
	def->revision = 2;
	nt_acl_add(def, 0, 0, SEC_FILE_ALL, &tok->user);

	/* nothing to inherit, nothing given: token owner/group, default */
	assert_true(NT_STATUS_IS_OK(
		acl_create_descriptor(mem, parent, NULL, false, tok, def, &sd)));
	assert_true(nt_sid_equal(sd->owner, &tok->user));
	assert_true(nt_sid_equal(sd->group, &tok->group));
	assert_int_equal(sd->control, NT_SD_SELF_RELATIVE | NT_SD_DACL_PRESENT);
	assert_int_equal(sd->dacl->num_aces, 1);

	/* inheritable parent ACE, parent not auto-inherited */
	nt_acl_add(parent->dacl, 0, NT_ACE_OBJECT_INHERIT, SEC_FILE_READ_DATA,
		   &nt_sid_world);
	assert_true(NT_STATUS_IS_OK(
		acl_create_descriptor(mem, parent, NULL, false, tok, def, &sd)));
	assert_int_equal(sd->control, NT_SD_SELF_RELATIVE | NT_SD_DACL_PRESENT);
	expect_ace(sd->dacl, 0, 0, 0, SEC_FILE_READ_DATA, &nt_sid_world);
	/* auto-inherited parent */
	parent->control |= NT_SD_DACL_AUTO_INHERITED;
	assert_true(NT_STATUS_IS_OK(
		acl_create_descriptor(mem, parent, NULL, false, tok, def, &sd)));
	assert_int_equal(sd->control, NT_SD_SELF_RELATIVE |
					      NT_SD_DACL_PRESENT |
					      NT_SD_DACL_AUTO_INHERITED);
	assert_int_equal(sd->dacl->num_aces, 1);
	expect_ace(sd->dacl, 0, 0, NT_ACE_INHERITED, SEC_FILE_READ_DATA,
		   &nt_sid_world);

	/* creator DACL: explicit ACEs first, then the inherited ones */
	nt_acl_add(creator->dacl, 1, 0, SEC_FILE_WRITE_DATA, &nt_sid_world);
	assert_true(NT_STATUS_IS_OK(acl_create_descriptor(
		mem, parent, creator, false, tok, def, &sd)));
	assert_int_equal(sd->dacl->num_aces, 2);
	expect_ace(sd->dacl, 0, 1, 0, SEC_FILE_WRITE_DATA, &nt_sid_world);
	expect_ace(sd->dacl, 1, 0, NT_ACE_INHERITED, SEC_FILE_READ_DATA,
		   &nt_sid_world);
	/* protected: nothing inherited, flags as given */
	creator->control |= NT_SD_DACL_PROTECTED;
	assert_true(NT_STATUS_IS_OK(acl_create_descriptor(
		mem, parent, creator, false, tok, def, &sd)));
	assert_int_equal(sd->dacl->num_aces, 1);
	assert_int_equal(sd->control, NT_SD_SELF_RELATIVE |
					      NT_SD_DACL_PRESENT |
					      NT_SD_DACL_PROTECTED);
	/* a NULL DACL given stays NULL */
	creator->dacl = NULL;
	assert_true(NT_STATUS_IS_OK(acl_create_descriptor(
		mem, parent, creator, false, tok, def, &sd)));
	assert_null(sd->dacl);
	assert_true(sd->control & NT_SD_DACL_PRESENT);
	talloc_free(mem);
}

/* ---- stored encoding ---- */

static void test_blob(void **state)
{
	TALLOC_CTX *mem = talloc_new(NULL);
	struct nt_sd *sd, *back;
	uint8_t *blob, *enc;
	size_t len, enc_len;

	(void)state;
	assert_true(NT_STATUS_IS_OK(
		nt_sd_parse(mem, sd_known, sizeof(sd_known), &sd)));
	assert_true(NT_STATUS_IS_OK(acl_blob_encode(mem, sd, &blob, &len)));
	assert_int_equal(len, ACL_BLOB_HEADER + sizeof(sd_known));
	assert_memory_equal(blob, "S3NA\x01\x00\x01\x00", 8);
	assert_int_equal(PULL_LE32(blob, 8), sizeof(sd_known));
	assert_true(NT_STATUS_IS_OK(acl_blob_decode(mem, blob, len, &back)));
	assert_true(NT_STATUS_IS_OK(nt_sd_encode(mem, back, 0xf, &enc, &enc_len)));
	assert_memory_equal(enc, sd_known, sizeof(sd_known));

	/* any changed byte, any truncation: refused */
	for (size_t i = 0; i < len; i++) {
		blob[i] ^= 0x40;
		assert_false(NT_STATUS_IS_OK(
			acl_blob_decode(mem, blob, len, &back)));
		blob[i] ^= 0x40;
	}
	for (size_t n = 0; n < len; n++) {
		assert_false(NT_STATUS_IS_OK(
			acl_blob_decode(mem, blob, n, &back)));
	}
	talloc_free(mem);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_known),
		cmocka_unit_test(test_parse_malformed),
		cmocka_unit_test(test_parse_fuzz),
		cmocka_unit_test(test_token),
		cmocka_unit_test(test_access_null_and_empty_dacl),
		cmocka_unit_test(test_access_order),
		cmocka_unit_test(test_access_owner_rights),
		cmocka_unit_test(test_inherit),
		cmocka_unit_test(test_create_descriptor),
		cmocka_unit_test(test_blob),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
