/*
 * [MS-FSCC] 2.4 / 2.5 information class encoders, search pattern
 * matching ([MS-FSA] 2.1.4.4) and 8.3 names.  See fscc_info.h.
 */
#include <locale.h>
#include <pthread.h>
#include <string.h>
#include <wctype.h>

#include "lib/util/byteorder.h"
#include "lib/util/charset.h"
#include "smbd/fscc_info.h"
#include "smbd/smb2_wire.h"

/* ---- file information classes ([MS-FSCC] 2.4) ---- */

static void push_basic(uint8_t *p, const struct smbd_file_meta *m)
{
	/* FileBasicInformation, 2.4.7: 4 times, FileAttributes, Reserved */
	PUSH_LE64(p, 0, m->creation_time);
	PUSH_LE64(p, 8, m->last_access_time);
	PUSH_LE64(p, 16, m->last_write_time);
	PUSH_LE64(p, 24, m->change_time);
	PUSH_LE32(p, 32, m->attributes);
	PUSH_LE32(p, 36, 0);
}

static void push_standard(uint8_t *p, const struct smbd_file_meta *m,
			  bool delete_pending)
{
	/* FileStandardInformation, 2.4.47 */
	uint32_t nlink = m->nlink;
	if (delete_pending && nlink > 0) {
		nlink -= 1; /* what NTFS reports while delete is pending */
	}
	PUSH_LE64(p, 0, m->allocation_size);
	PUSH_LE64(p, 8, m->end_of_file);
	PUSH_LE32(p, 16, nlink);
	p[20] = delete_pending ? 1 : 0;
	p[21] = m->is_dir ? 1 : 0;
	PUSH_LE16(p, 22, 0);
}

/* The UTF-16LE form of a UTF-8 string; "" gives len 0. */
static bool to_utf16(TALLOC_CTX *mem_ctx, const char *s, uint8_t **out,
		     size_t *len)
{
	if (s == NULL || s[0] == '\0') {
		*out = NULL;
		*len = 0;
		return true;
	}
	return utf8_to_utf16le(mem_ctx, s, out, len);
}

/* FileNameInformation-shaped classes (2.4.27): FileNameLength + name */
static NTSTATUS encode_name_info(TALLOC_CTX *mem_ctx, const char *name,
				 uint8_t **out, size_t *out_len)
{
	uint8_t *u16 = NULL;
	size_t u16_len = 0;
	uint8_t *buf;

	if (!to_utf16(mem_ctx, name, &u16, &u16_len)) {
		return NT_STATUS_OBJECT_NAME_INVALID;
	}
	buf = talloc_zero_array(mem_ctx, uint8_t, 4 + u16_len);
	if (buf == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	PUSH_LE32(buf, 0, (uint32_t)u16_len);
	if (u16_len > 0) {
		memcpy(buf + 4, u16, u16_len);
	}
	talloc_free(u16);
	*out = buf;
	*out_len = 4 + u16_len;
	return NT_STATUS_OK;
}

static char *last_component(TALLOC_CTX *mem_ctx, const char *path)
{
	const char *slash = strrchr(path, '\\');
	return talloc_strdup(mem_ctx, slash != NULL ? slash + 1 : path);
}

NTSTATUS fscc_encode_file_info(TALLOC_CTX *mem_ctx, uint8_t info_class,
			       const struct fscc_file_info *fi, uint8_t **out,
			       size_t *out_len, size_t *fixed_len)
{
	const struct smbd_file_meta *m = fi->meta;
	uint8_t *p = NULL;
	size_t len = 0;
	NTSTATUS status;

	switch (info_class) {
	case FSCC_FILE_BASIC_INFORMATION:
		len = *fixed_len = 40;
		p = talloc_zero_array(mem_ctx, uint8_t, len);
		if (p != NULL) {
			push_basic(p, m);
		}
		break;
	case FSCC_FILE_STANDARD_INFORMATION:
		len = *fixed_len = 24;
		p = talloc_zero_array(mem_ctx, uint8_t, len);
		if (p != NULL) {
			push_standard(p, m, fi->delete_pending);
		}
		break;
	case FSCC_FILE_INTERNAL_INFORMATION:
		len = *fixed_len = 8;
		p = talloc_zero_array(mem_ctx, uint8_t, len);
		if (p != NULL) {
			PUSH_LE64(p, 0, m->index_number);
		}
		break;
	case FSCC_FILE_EA_INFORMATION:
		len = *fixed_len = 4;
		p = talloc_zero_array(mem_ctx, uint8_t, len);
		if (p != NULL) {
			PUSH_LE32(p, 0, fi->ea_size);
		}
		break;
	case FSCC_FILE_ACCESS_INFORMATION:
		len = *fixed_len = 4;
		p = talloc_zero_array(mem_ctx, uint8_t, len);
		if (p != NULL) {
			PUSH_LE32(p, 0, fi->access_mask);
		}
		break;
	case FSCC_FILE_POSITION_INFORMATION:
		len = *fixed_len = 8;
		p = talloc_zero_array(mem_ctx, uint8_t, len);
		if (p != NULL) {
			PUSH_LE64(p, 0, fi->position);
		}
		break;
	case FSCC_FILE_MODE_INFORMATION:
		len = *fixed_len = 4;
		p = talloc_zero_array(mem_ctx, uint8_t, len);
		if (p != NULL) {
			PUSH_LE32(p, 0, fi->mode);
		}
		break;
	case FSCC_FILE_ALIGNMENT_INFORMATION:
		len = *fixed_len = 4;
		p = talloc_zero_array(mem_ctx, uint8_t, len);
		if (p != NULL) {
			PUSH_LE32(p, 0, 0); /* FILE_BYTE_ALIGNMENT */
		}
		break;
	case FSCC_FILE_NAME_INFORMATION: {
		/* 2.4.27: the full path from the share root, with a
		 * leading backslash, as Windows returns it. */
		char *full = talloc_asprintf(mem_ctx, "\\%s", fi->path);
		if (full == NULL) {
			return NT_STATUS_NO_MEMORY;
		}
		status = encode_name_info(mem_ctx, full, &p, &len);
		talloc_free(full);
		if (!NT_STATUS_IS_OK(status)) {
			return status;
		}
		*fixed_len = 4;
		break;
	}
	case FSCC_FILE_NORMALIZED_NAME_INFORMATION:
		/* 2.4.30: no leading backslash; "" for the root */
		status = encode_name_info(mem_ctx, fi->path, &p, &len);
		if (!NT_STATUS_IS_OK(status)) {
			return status;
		}
		*fixed_len = 8; /* as Samba; Windows agrees in smb2.getinfo */
		break;
	case FSCC_FILE_ALTERNATE_NAME_INFORMATION: {
		char *base = last_component(mem_ctx, fi->path);
		char *short_name;
		if (base == NULL) {
			return NT_STATUS_NO_MEMORY;
		}
		if (base[0] == '\0') {
			/* the share root has no short name on NTFS either */
			talloc_free(base);
			return NT_STATUS_OBJECT_NAME_NOT_FOUND;
		}
		short_name = fscc_short_name_always(mem_ctx, base);
		talloc_free(base);
		if (short_name == NULL) {
			return NT_STATUS_NO_MEMORY;
		}
		status = encode_name_info(mem_ctx, short_name, &p, &len);
		talloc_free(short_name);
		if (!NT_STATUS_IS_OK(status)) {
			return status;
		}
		*fixed_len = 8;
		break;
	}
	case FSCC_FILE_ALL_INFORMATION: {
		/* 2.4.2: Basic, Standard, Internal, Ea, Access, Position,
		 * Mode, Alignment, Name - 100 bytes + name. */
		uint8_t *u16 = NULL;
		size_t u16_len = 0;
		char *full = talloc_asprintf(mem_ctx, "\\%s", fi->path);
		if (full == NULL) {
			return NT_STATUS_NO_MEMORY;
		}
		if (!to_utf16(mem_ctx, full, &u16, &u16_len)) {
			talloc_free(full);
			return NT_STATUS_OBJECT_NAME_INVALID;
		}
		talloc_free(full);
		len = 100 + u16_len;
		p = talloc_zero_array(mem_ctx, uint8_t, len);
		if (p == NULL) {
			talloc_free(u16);
			return NT_STATUS_NO_MEMORY;
		}
		push_basic(p, m);
		push_standard(p + 40, m, fi->delete_pending);
		PUSH_LE64(p, 64, m->index_number);
		PUSH_LE32(p, 72, fi->ea_size);
		PUSH_LE32(p, 76, fi->access_mask);
		PUSH_LE64(p, 80, fi->position);
		PUSH_LE32(p, 88, fi->mode);
		PUSH_LE32(p, 92, 0);
		PUSH_LE32(p, 96, (uint32_t)u16_len);
		if (u16_len > 0) {
			memcpy(p + 100, u16, u16_len);
		}
		talloc_free(u16);
		/* Windows and Samba refuse buffers below 104 with
		 * INFO_LENGTH_MISMATCH (smb2.getinfo.qfile_buffercheck). */
		*fixed_len = 104;
		break;
	}
	case FSCC_FILE_STREAM_INFORMATION: {
		/* 2.4.44: files have the unnamed data stream "::$DATA";
		 * directories have no stream at all. */
		static const char data_stream[] = "::$DATA";
		*fixed_len = 32;
		if (m->is_dir) {
			len = 0;
			p = talloc_zero_array(mem_ctx, uint8_t, 1);
			break;
		}
		len = 24 + 2 * (sizeof(data_stream) - 1);
		p = talloc_zero_array(mem_ctx, uint8_t, len);
		if (p == NULL) {
			break;
		}
		PUSH_LE32(p, 0, 0);
		PUSH_LE32(p, 4, 2 * (sizeof(data_stream) - 1));
		PUSH_LE64(p, 8, m->end_of_file);
		PUSH_LE64(p, 16, m->allocation_size);
		for (size_t i = 0; i < sizeof(data_stream) - 1; i++) {
			PUSH_LE16(p, 24 + 2 * i, (uint16_t)data_stream[i]);
		}
		break;
	}
	case FSCC_FILE_COMPRESSION_INFORMATION:
		/* 2.4.9: not compressed: CompressedFileSize = EOF */
		len = *fixed_len = 16;
		p = talloc_zero_array(mem_ctx, uint8_t, len);
		if (p != NULL) {
			PUSH_LE64(p, 0, m->end_of_file);
		}
		break;
	case FSCC_FILE_NETWORK_OPEN_INFORMATION:
		/* 2.4.29 */
		len = *fixed_len = 56;
		p = talloc_zero_array(mem_ctx, uint8_t, len);
		if (p != NULL) {
			PUSH_LE64(p, 0, m->creation_time);
			PUSH_LE64(p, 8, m->last_access_time);
			PUSH_LE64(p, 16, m->last_write_time);
			PUSH_LE64(p, 24, m->change_time);
			PUSH_LE64(p, 32, m->allocation_size);
			PUSH_LE64(p, 40, m->end_of_file);
			PUSH_LE32(p, 48, m->attributes);
		}
		break;
	case FSCC_FILE_ATTRIBUTE_TAG_INFORMATION:
		/* 2.4.6: no reparse points here, tag 0 */
		len = *fixed_len = 8;
		p = talloc_zero_array(mem_ctx, uint8_t, len);
		if (p != NULL) {
			PUSH_LE32(p, 0, m->attributes);
		}
		break;
	case FSCC_FILE_ID_INFORMATION:
		/* 2.4.26: VolumeSerialNumber (8), FileId (16) */
		len = *fixed_len = 24;
		p = talloc_zero_array(mem_ctx, uint8_t, len);
		if (p != NULL) {
			PUSH_LE64(p, 0, m->device);
			PUSH_LE64(p, 8, m->index_number);
		}
		break;
	default:
		return NT_STATUS_INVALID_INFO_CLASS;
	}
	if (p == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	*out = p;
	*out_len = len;
	return NT_STATUS_OK;
}

/* ---- directory entries ([MS-FSCC] 2.4) ---- */

bool fscc_dir_class_supported(uint8_t info_class)
{
	switch (info_class) {
	case FSCC_FILE_DIRECTORY_INFORMATION:
	case FSCC_FILE_FULL_DIRECTORY_INFORMATION:
	case FSCC_FILE_BOTH_DIRECTORY_INFORMATION:
	case FSCC_FILE_NAMES_INFORMATION:
	case FSCC_FILE_ID_BOTH_DIRECTORY_INFORMATION:
	case FSCC_FILE_ID_FULL_DIRECTORY_INFORMATION:
	case FSCC_FILE_ID_EXTD_DIRECTORY_INFORMATION:
		return true;
	default:
		return false;
	}
}

/* Offset of FileName in each directory class */
static size_t dir_name_offset(uint8_t info_class)
{
	switch (info_class) {
	case FSCC_FILE_DIRECTORY_INFORMATION:
		return 64; /* 2.4.10 */
	case FSCC_FILE_FULL_DIRECTORY_INFORMATION:
		return 68; /* 2.4.14 */
	case FSCC_FILE_BOTH_DIRECTORY_INFORMATION:
		return 94; /* 2.4.8 */
	case FSCC_FILE_NAMES_INFORMATION:
		return 12; /* 2.4.28 */
	case FSCC_FILE_ID_BOTH_DIRECTORY_INFORMATION:
		return 104; /* 2.4.17 */
	case FSCC_FILE_ID_FULL_DIRECTORY_INFORMATION:
		return 80; /* 2.4.18 */
	case FSCC_FILE_ID_EXTD_DIRECTORY_INFORMATION:
		return 88; /* 2.4.20 */
	default:
		return 0;
	}
}

/* ShortNameLength(1) Reserved(1) ShortName(24) at p */
static void push_short_name(uint8_t *p, const char *short_name)
{
	ssize_t n = 0;
	if (short_name != NULL) {
		n = utf8_to_utf16le_buf(short_name, p + 2, 24);
		if (n < 0) {
			n = 0;
			memset(p + 2, 0, 24);
		}
	}
	p[0] = (uint8_t)n;
	p[1] = 0;
}

size_t fscc_encode_dir_entry(uint8_t info_class,
			     const struct smbd_file_meta *m, const char *name,
			     const char *short_name, uint8_t *buf,
			     size_t space)
{
	size_t name_ofs = dir_name_offset(info_class);
	ssize_t name_len;

	if (name_ofs == 0 || space < name_ofs) {
		return 0;
	}
	name_len = utf8_to_utf16le_buf(name, buf + name_ofs, space - name_ofs);
	if (name_len <= 0) {
		return 0;
	}
	memset(buf, 0, name_ofs);
	/* NextEntryOffset (0) and FileIndex (0) are the first 8 bytes */
	if (info_class == FSCC_FILE_NAMES_INFORMATION) {
		PUSH_LE32(buf, 8, (uint32_t)name_len);
		return name_ofs + (size_t)name_len;
	}
	PUSH_LE64(buf, 8, m->creation_time);
	PUSH_LE64(buf, 16, m->last_access_time);
	PUSH_LE64(buf, 24, m->last_write_time);
	PUSH_LE64(buf, 32, m->change_time);
	PUSH_LE64(buf, 40, m->end_of_file);
	PUSH_LE64(buf, 48, m->allocation_size);
	PUSH_LE32(buf, 56, m->attributes);
	PUSH_LE32(buf, 60, (uint32_t)name_len);
	/* EaSize (offset 64, where present) stays 0 here: the caller sets
	 * it (fscc_dir_entry_set_ea_size) when the file has EAs */
	switch (info_class) {
	case FSCC_FILE_BOTH_DIRECTORY_INFORMATION:
		push_short_name(buf + 68, short_name);
		break;
	case FSCC_FILE_ID_BOTH_DIRECTORY_INFORMATION:
		push_short_name(buf + 68, short_name);
		/* Reserved2 (2) at 94 */
		PUSH_LE64(buf, 96, m->index_number);
		break;
	case FSCC_FILE_ID_FULL_DIRECTORY_INFORMATION:
		/* Reserved (4) at 68 */
		PUSH_LE64(buf, 72, m->index_number);
		break;
	case FSCC_FILE_ID_EXTD_DIRECTORY_INFORMATION:
		/* ReparsePointTag (4) at 68, FileId (16) at 72 */
		PUSH_LE64(buf, 72, m->index_number);
		break;
	default:
		break;
	}
	return name_ofs + (size_t)name_len;
}

bool fscc_dir_class_has_ea_size(uint8_t info_class)
{
	switch (info_class) {
	case FSCC_FILE_FULL_DIRECTORY_INFORMATION:	/* 2.4.14 */
	case FSCC_FILE_BOTH_DIRECTORY_INFORMATION:	/* 2.4.8 */
	case FSCC_FILE_ID_BOTH_DIRECTORY_INFORMATION:	/* 2.4.17 */
	case FSCC_FILE_ID_FULL_DIRECTORY_INFORMATION:	/* 2.4.18 */
	case FSCC_FILE_ID_EXTD_DIRECTORY_INFORMATION:	/* 2.4.20 */
		return true;
	default:
		return false;
	}
}

void fscc_dir_entry_set_ea_size(uint8_t info_class, uint8_t *entry,
				uint32_t ea_size)
{
	if (fscc_dir_class_has_ea_size(info_class)) {
		PUSH_LE32(entry, 64, ea_size);
	}
}

/* ---- file system information classes ([MS-FSCC] 2.5) ---- */

NTSTATUS fscc_encode_fs_info(TALLOC_CTX *mem_ctx, uint8_t info_class,
			     const struct fscc_fs_info *fsi, uint8_t **out,
			     size_t *out_len, size_t *fixed_len)
{
	uint8_t *p = NULL;
	size_t len = 0;
	uint8_t *u16 = NULL;
	size_t u16_len = 0;

	switch (info_class) {
	case FSCC_FS_VOLUME_INFORMATION:
		/* 2.5.9: CreationTime, SerialNumber, LabelLength,
		 * SupportsObjects, Reserved, Label */
		if (!to_utf16(mem_ctx, fsi->label, &u16, &u16_len)) {
			return NT_STATUS_OBJECT_NAME_INVALID;
		}
		len = 18 + u16_len;
		*fixed_len = 24;
		p = talloc_zero_array(mem_ctx, uint8_t, len);
		if (p != NULL) {
			PUSH_LE64(p, 0, fsi->volume_creation_time);
			PUSH_LE32(p, 8, fsi->serial_number);
			PUSH_LE32(p, 12, (uint32_t)u16_len);
			p[16] = 0; /* no object ids */
			if (u16_len > 0) {
				memcpy(p + 18, u16, u16_len);
			}
		}
		break;
	case FSCC_FS_SIZE_INFORMATION:
		/* 2.5.8 */
		len = *fixed_len = 24;
		p = talloc_zero_array(mem_ctx, uint8_t, len);
		if (p != NULL) {
			PUSH_LE64(p, 0, fsi->total_units);
			PUSH_LE64(p, 8, fsi->free_units);
			PUSH_LE32(p, 16, fsi->sectors_per_unit);
			PUSH_LE32(p, 20, fsi->bytes_per_sector);
		}
		break;
	case FSCC_FS_DEVICE_INFORMATION:
		/* 2.5.10 */
		len = *fixed_len = 8;
		p = talloc_zero_array(mem_ctx, uint8_t, len);
		if (p != NULL) {
			PUSH_LE32(p, 0, FILE_DEVICE_DISK);
			PUSH_LE32(p, 4, fsi->device_characteristics);
		}
		break;
	case FSCC_FS_ATTRIBUTE_INFORMATION:
		/* 2.5.1: Attributes, MaxComponentNameLength,
		 * NameLength, Name */
		if (!to_utf16(mem_ctx, fsi->fs_name, &u16, &u16_len)) {
			return NT_STATUS_OBJECT_NAME_INVALID;
		}
		len = 12 + u16_len;
		*fixed_len = 16;
		p = talloc_zero_array(mem_ctx, uint8_t, len);
		if (p != NULL) {
			PUSH_LE32(p, 0, fsi->fs_attributes);
			PUSH_LE32(p, 4, fsi->max_component_len);
			PUSH_LE32(p, 8, (uint32_t)u16_len);
			if (u16_len > 0) {
				memcpy(p + 12, u16, u16_len);
			}
		}
		break;
	case FSCC_FS_FULL_SIZE_INFORMATION:
		/* 2.5.4 */
		len = *fixed_len = 32;
		p = talloc_zero_array(mem_ctx, uint8_t, len);
		if (p != NULL) {
			PUSH_LE64(p, 0, fsi->total_units);
			PUSH_LE64(p, 8, fsi->free_units);
			PUSH_LE64(p, 16, fsi->actual_free_units);
			PUSH_LE32(p, 24, fsi->sectors_per_unit);
			PUSH_LE32(p, 28, fsi->bytes_per_sector);
		}
		break;
	case FSCC_FS_OBJECTID_INFORMATION:
		/* 2.5.6: ObjectId (16), ExtendedInfo (48) */
		len = *fixed_len = 64;
		p = talloc_zero_array(mem_ctx, uint8_t, len);
		if (p != NULL) {
			memcpy(p, fsi->object_id, 16);
		}
		break;
	case FSCC_FS_SECTOR_SIZE_INFORMATION:
		/* 2.5.7: four sector sizes, Flags, two alignment offsets */
		len = *fixed_len = 28;
		p = talloc_zero_array(mem_ctx, uint8_t, len);
		if (p != NULL) {
			PUSH_LE32(p, 0, fsi->bytes_per_sector);
			PUSH_LE32(p, 4, fsi->bytes_per_sector);
			PUSH_LE32(p, 8, fsi->bytes_per_sector);
			PUSH_LE32(p, 12, fsi->bytes_per_sector);
			/* SSINFO_FLAGS_ALIGNED_DEVICE |
			 * SSINFO_FLAGS_PARTITION_ALIGNED_ON_DEVICE */
			PUSH_LE32(p, 16, 0x00000003);
		}
		break;
	default:
		return NT_STATUS_INVALID_INFO_CLASS;
	}
	talloc_free(u16);
	if (p == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	*out = p;
	*out_len = len;
	return NT_STATUS_OK;
}

/* ---- names ---- */

/* Decode one UTF-8 sequence at *s; -1 on invalid input. */
static int32_t utf8_next(const unsigned char **s)
{
	const unsigned char *p = *s;
	uint32_t c = p[0];
	int n;

	if (c < 0x80) {
		*s = p + 1;
		return (int32_t)c;
	} else if ((c & 0xE0) == 0xC0) {
		c &= 0x1F;
		n = 1;
	} else if ((c & 0xF0) == 0xE0) {
		c &= 0x0F;
		n = 2;
	} else if ((c & 0xF8) == 0xF0) {
		c &= 0x07;
		n = 3;
	} else {
		return -1;
	}
	for (int i = 1; i <= n; i++) {
		if ((p[i] & 0xC0) != 0x80) {
			return -1;
		}
		c = (c << 6) | (p[i] & 0x3F);
	}
	*s = p + n + 1;
	return (int32_t)c;
}

/*
 * Upper-case folding for name comparison: Windows compares names through
 * an upcase table that is the Unicode simple upper-case mapping (what
 * towupper gives in a UTF-8 locale: Latin, Greek, Cyrillic, fullwidth
 * forms...).  A private locale object keeps the process locale untouched.
 */
static locale_t fold_locale;
static pthread_once_t fold_locale_once = PTHREAD_ONCE_INIT;

static void fold_locale_init(void)
{
	fold_locale = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
}

static uint32_t fold_upper(uint32_t c)
{
	if (c < 0x80) {
		return (c >= 'a' && c <= 'z') ? c - 0x20 : c;
	}
	pthread_once(&fold_locale_once, fold_locale_init);
	if (fold_locale == (locale_t)0) {
		return c; /* no UTF-8 locale: non-ASCII compares exactly */
	}
	return (uint32_t)towupper_l((wint_t)c, fold_locale);
}

#define MATCH_MAX_CHARS 1024

/* Decode and fold a string into code points; -1 on invalid/too long. */
static int decode_folded(const char *s, uint32_t *out, int max)
{
	const unsigned char *p = (const unsigned char *)s;
	int n = 0;
	while (*p != '\0') {
		int32_t c = utf8_next(&p);
		if (c < 0 || n == max) {
			return -1;
		}
		out[n++] = fold_upper((uint32_t)c);
	}
	return n;
}

bool fscc_name_equal_ci(const char *a, const char *b)
{
	const unsigned char *pa = (const unsigned char *)a;
	const unsigned char *pb = (const unsigned char *)b;

	if (strcmp(a, b) == 0) {
		return true;
	}
	while (*pa != '\0' && *pb != '\0') {
		int32_t ca = utf8_next(&pa);
		int32_t cb = utf8_next(&pb);

		if (ca < 0 || cb < 0 ||
		    fold_upper((uint32_t)ca) != fold_upper((uint32_t)cb)) {
			return false;
		}
	}
	return *pa == '\0' && *pb == '\0';
}

bool fscc_pattern_is_all(const char *pattern)
{
	return pattern != NULL && (strcmp(pattern, "*") == 0 ||
				   strcmp(pattern, "<.*") == 0 ||
				   strcmp(pattern, "*.*") == 0);
}

/*
 * An NFA over pattern positions, advanced one name character at a time
 * ([MS-FSA] 2.1.4.4 and the FsRtlIsNameInExpression rules it cites):
 *   '*'  zero or more characters
 *   '?'  exactly one character
 *   '<'  zero or more characters, but never the last '.' of the name
 *   '>'  one character other than '.', or nothing when at a '.' or at
 *        the end of the name
 *   '"'  a '.', or nothing at the end of the name
 * Epsilon moves only go forward, so one ascending pass closes a state set.
 */
bool fscc_name_matches(const char *pattern, const char *name)
{
	uint32_t pat[MATCH_MAX_CHARS], nm[MATCH_MAX_CHARS];
	bool cur[MATCH_MAX_CHARS + 1], next[MATCH_MAX_CHARS + 1];
	int plen, nlen, last_dot = -1;

	if (fscc_pattern_is_all(pattern)) {
		return true;
	}
	plen = decode_folded(pattern, pat, MATCH_MAX_CHARS);
	nlen = decode_folded(name, nm, MATCH_MAX_CHARS);
	if (plen < 0 || nlen < 0) {
		return false;
	}
	for (int j = 0; j < nlen; j++) {
		if (nm[j] == '.') {
			last_dot = j;
		}
	}

	memset(cur, 0, sizeof(bool) * (size_t)(plen + 1));
	cur[0] = true;
	for (int j = 0;; j++) {
		bool at_end = (j == nlen);
		/* epsilon closure at name position j */
		for (int i = 0; i < plen; i++) {
			if (!cur[i]) {
				continue;
			}
			switch (pat[i]) {
			case '*':
			case '<':
				cur[i + 1] = true;
				break;
			case '>':
				if (at_end || nm[j] == '.') {
					cur[i + 1] = true;
				}
				break;
			case '"':
				if (at_end) {
					cur[i + 1] = true;
				}
				break;
			default:
				break;
			}
		}
		if (at_end) {
			return cur[plen];
		}
		memset(next, 0, sizeof(bool) * (size_t)(plen + 1));
		bool any = false;
		for (int i = 0; i < plen; i++) {
			if (!cur[i]) {
				continue;
			}
			uint32_t c = nm[j];
			switch (pat[i]) {
			case '*':
				next[i] = true;
				break;
			case '<':
				if (last_dot < 0 || j < last_dot) {
					next[i] = true;
				}
				break;
			case '?':
				next[i + 1] = true;
				break;
			case '>':
				if (c != '.') {
					next[i + 1] = true;
				}
				break;
			case '"':
				if (c == '.') {
					next[i + 1] = true;
				}
				break;
			default:
				if (pat[i] == c) {
					next[i + 1] = true;
				}
				break;
			}
		}
		for (int i = 0; i <= plen; i++) {
			cur[i] = next[i];
			any |= next[i];
		}
		if (!any) {
			return false;
		}
	}
}

/* Characters allowed in an 8.3 name besides A-Z and 0-9 */
static bool valid_83_char(unsigned char c)
{
	if ((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) {
		return true;
	}
	return c != 0 && strchr("!#$%&'()-@^_`{}~", c) != NULL;
}

static bool is_valid_83(const char *name)
{
	const char *dot = strchr(name, '.');
	size_t base_len, ext_len;

	if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0) {
		return true;
	}
	base_len = dot != NULL ? (size_t)(dot - name) : strlen(name);
	ext_len = dot != NULL ? strlen(dot + 1) : 0;
	if (base_len == 0 || base_len > 8 || ext_len > 3) {
		return false;
	}
	if (dot != NULL && (ext_len == 0 || strchr(dot + 1, '.') != NULL)) {
		return false;
	}
	for (const char *p = name; *p != '\0'; p++) {
		unsigned char c = (unsigned char)*p;
		if (c == '.') {
			continue;
		}
		if (c >= 'a' && c <= 'z') {
			c = (unsigned char)(c - 0x20);
		}
		if (!valid_83_char(c)) {
			return false;
		}
	}
	return true;
}

static char *upper_ascii(TALLOC_CTX *mem_ctx, const char *name)
{
	char *s = talloc_strdup(mem_ctx, name);
	if (s == NULL) {
		return NULL;
	}
	for (char *p = s; *p != '\0'; p++) {
		if (*p >= 'a' && *p <= 'z') {
			*p = (char)(*p - 0x20);
		}
	}
	return s;
}

/* Append up to max valid 8.3 characters of [s, end) to out. */
static size_t take_83_chars(const char *s, const char *end, char *out,
			    size_t max)
{
	size_t n = 0;
	for (; s < end && n < max; s++) {
		unsigned char c = (unsigned char)*s;
		if (c >= 'a' && c <= 'z') {
			c = (unsigned char)(c - 0x20);
		}
		if (c != '.' && valid_83_char(c)) {
			out[n++] = (char)c;
		}
	}
	return n;
}

char *fscc_short_name(TALLOC_CTX *mem_ctx, const char *name)
{
	static const char alphabet[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
	const char *dot, *end = name + strlen(name);
	char base[6], ext[4];
	size_t base_len, ext_len;
	uint32_t hash = 2166136261u; /* FNV-1a: stable across runs */

	if (is_valid_83(name)) {
		return NULL;
	}
	for (const char *p = name; *p != '\0'; p++) {
		hash = (hash ^ (unsigned char)*p) * 16777619u;
	}
	dot = strrchr(name, '.');
	if (dot == name) {
		dot = NULL; /* ".profile": all base */
	}
	base_len = take_83_chars(name, dot != NULL ? dot : end, base, 5);
	if (base_len == 0) {
		base[0] = '_';
		base_len = 1;
	}
	base[base_len] = '\0';
	ext_len = dot != NULL ? take_83_chars(dot + 1, end, ext, 3) : 0;
	ext[ext_len] = '\0';
	return talloc_asprintf(mem_ctx, "%s~%c%c%s%s", base,
			       alphabet[hash % 36], alphabet[(hash / 36) % 36],
			       ext_len > 0 ? "." : "", ext);
}

char *fscc_short_name_always(TALLOC_CTX *mem_ctx, const char *name)
{
	char *s = fscc_short_name(mem_ctx, name);
	if (s == NULL) {
		s = upper_ascii(mem_ctx, name);
	}
	return s;
}
