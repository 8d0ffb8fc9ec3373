// SPDX-License-Identifier: GPL-2.0-only
/* Schema checks and field access for the API's JSON bodies (see fields.h). */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "fields.h"

static const char *const type_names[] = {
	[F_STR] = "a string",
	[F_BOOL] = "a boolean",
	[F_UINT] = "an unsigned integer",
	[F_LIMITER] = "a rate limiter object",
	[F_ANY_OBJ] = "an object",
	[F_ARRAY] = "an array",
};

/* A rate limiter kvmbox can honour: none, i.e. {} or an object of nulls. */
static int check_limiter(const char *name, json_t *v, struct api_resp *resp)
{
	const char *key;
	json_t *item;

	json_object_foreach(v, key, item)
	{
		if (strcmp(key, "bandwidth") && strcmp(key, "ops")) {
			api_fault(resp, "unknown field `%s` in %s", key, name);
			return -1;
		}
		if (!json_is_null(item)) {
			api_fault(resp,
				  "%s: rate limiters are not supported by kvmbox yet "
				  "(give {} or leave it out)",
				  name);
			return -1;
		}
	}
	return 0;
}

static bool type_ok(enum api_ftype type, json_t *v)
{
	switch (type) {
	case F_STR:
		return json_is_string(v);
	case F_BOOL:
		return json_is_boolean(v);
	case F_UINT:
		return json_is_integer(v) && json_integer_value(v) >= 0;
	case F_LIMITER:
	case F_ANY_OBJ:
		return json_is_object(v);
	case F_ARRAY:
		return json_is_array(v);
	}
	return false;
}

static const struct api_field *find_field(const struct api_field *fields, const char *key)
{
	for (; fields->name; fields++) {
		if (!strcmp(fields->name, key))
			return fields;
	}
	return NULL;
}

int api_check_body(json_t *body, const struct api_field *fields, struct api_resp *resp)
{
	const char *key;
	json_t *v;

	if (!json_is_object(body)) {
		api_fault(resp, "The request body must be a JSON object.");
		return -1;
	}
	json_object_foreach(body, key, v)
	{
		const struct api_field *f = find_field(fields, key);

		if (!f) {
			api_fault(resp, "unknown field `%s`", key);
			return -1;
		}
		if (json_is_null(v))
			continue;
		if (!type_ok(f->type, v)) {
			api_fault(resp, "invalid type for field `%s`: expected %s", key,
				  type_names[f->type]);
			return -1;
		}
		if (f->type == F_LIMITER && check_limiter(key, v, resp))
			return -1;
	}
	for (; fields->name; fields++) {
		v = json_object_get(body, fields->name);
		if (fields->required && (!v || json_is_null(v))) {
			api_fault(resp, "missing field `%s`", fields->name);
			return -1;
		}
	}
	return 0;
}

const char *api_str(json_t *body, const char *key)
{
	return json_string_value(json_object_get(body, key));
}

bool api_bool(json_t *body, const char *key, bool dflt)
{
	json_t *v = json_object_get(body, key);

	return json_is_boolean(v) ? json_is_true(v) : dflt;
}

bool api_uint(json_t *body, const char *key, u64 *out)
{
	json_t *v = json_object_get(body, key);

	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return false;
	*out = (u64)json_integer_value(v);
	return true;
}

void api_set_str(char **dst, const char *s)
{
	char *copy = s ? strdup(s) : NULL;

	free(*dst);
	*dst = copy;
}

bool api_valid_id(const char *id)
{
	size_t len = strlen(id);

	if (!len || len > API_ID_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (!isalnum((unsigned char)id[i]) && id[i] != '_')
			return false;
	}
	return true;
}

bool api_valid_ifname(const char *dev)
{
	return *dev && strlen(dev) < 16 && !strchr(dev, ',') && !strchr(dev, '/');
}
