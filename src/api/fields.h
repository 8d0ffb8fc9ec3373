/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef KVMBOX_API_FIELDS_H
#define KVMBOX_API_FIELDS_H

#include "../util/token_bucket.h"
#include "api.h"

/*
 * A JSON body's schema: every field it may have, its type and whether it must be there.
 * As Firecracker (serde's deny_unknown_fields), an unknown field is an error, and null
 * stands for an optional field left out.
 */
enum api_ftype {
	F_STR,
	F_BOOL,
	F_UINT,
	F_LIMITER, /* a RateLimiter: {bandwidth, ops}, each a TokenBucket or null */
	F_ANY_OBJ,
	F_ARRAY, /* of anything: the handler checks the items */
};

struct api_field {
	const char *name;
	enum api_ftype type;
	bool required;
};

#define API_FIELDS_END         \
	{                      \
		NULL, 0, false \
	}

/* 0, or -1 with a 400 in resp. */
int api_check_body(json_t *body, const struct api_field *fields, struct api_resp *resp);
/* The string field key, or NULL when absent or null. */
const char *api_str(json_t *body, const char *key);
/* The boolean field key, or dflt when absent or null. */
bool api_bool(json_t *body, const char *key, bool dflt);
/* The unsigned field key into *out; false when absent or null. */
bool api_uint(json_t *body, const char *key, u64 *out);
/* Replaces *dst with a copy of s (NULL stays NULL). */
void api_set_str(char **dst, const char *s);
/*
 * A RateLimiter at field name (v may be NULL or null: none) into *out; *given says which
 * buckets the body named (bit 0 bandwidth, bit 1 ops), as PATCH leaves the others alone.
 * 0, or -1 with a 400 naming the field in resp.
 */
int api_parse_limiter(const char *name, json_t *v, struct rl_config *out, unsigned int *given,
		      struct api_resp *resp);
/* A limiter as GET /vm/config reports it: null when nothing limits. */
json_t *api_limiter_json(const struct rl_config *rl);
/* Firecracker's ids: 1 to 64 characters, letters, digits and '_'. */
bool api_valid_id(const char *id);
/* A host network interface name kvmbox's --net syntax can carry (IFNAMSIZ, no ',' or '/'). */
bool api_valid_ifname(const char *dev);

#endif
