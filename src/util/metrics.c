// SPDX-License-Identifier: GPL-2.0-only
/* The metrics registry and its JSON line (see metrics.h). */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"

void metrics_registry_init(struct metrics_registry *r)
{
	pthread_mutex_init(&r->lock, NULL);
	r->head = NULL;
}

static bool valid_id(const char *id)
{
	for (; *id; id++)
		if (!((*id >= 'a' && *id <= 'z') || (*id >= 'A' && *id <= 'Z') ||
		      (*id >= '0' && *id <= '9') || *id == '_' || *id == '-' || *id == '.'))
			return false;
	return true;
}

int metrics_set_init(struct metrics_set *set, const char *group, const char *id,
		     const char *const *names, unsigned int n)
{
	memset(set, 0, sizeof(*set));
	if (id && *id) {
		size_t g = strlen(group), l = strlen(id);

		if (!valid_id(id) || g + 1 + l >= sizeof(set->name))
			return -EINVAL;
		memcpy(set->name, group, g);
		set->name[g] = '_';
		memcpy(set->name + g + 1, id, l + 1);
	}
	set->count = calloc(n, sizeof(*set->count));
	set->reported = calloc(n, sizeof(*set->reported));
	if (!set->count || !set->reported) {
		metrics_set_fini(set);
		return -ENOMEM;
	}
	set->group = group;
	set->names = names;
	set->n = n;
	return 0;
}

void metrics_set_fini(struct metrics_set *set)
{
	free(set->count);
	free(set->reported);
	set->count = NULL;
	set->reported = NULL;
	set->n = 0;
}

void metrics_register(struct metrics_registry *r, struct metrics_set *set)
{
	pthread_mutex_lock(&r->lock);
	set->next = r->head;
	r->head = set;
	pthread_mutex_unlock(&r->lock);
}

void metrics_unregister(struct metrics_registry *r, struct metrics_set *set)
{
	pthread_mutex_lock(&r->lock);
	for (struct metrics_set **p = &r->head; *p; p = &(*p)->next) {
		if (*p == set) {
			*p = set->next;
			break;
		}
	}
	pthread_mutex_unlock(&r->lock);
}

/* Adds v to obj[key], creating it. */
static int add_to(json_t *obj, const char *key, u64 v)
{
	json_t *old = json_object_get(obj, key);
	u64 sum = v + (old ? (u64)json_integer_value(old) : 0);

	return json_object_set_new(obj, key, json_integer((json_int_t)sum));
}

static json_t *group_of(json_t *line, const char *group)
{
	json_t *g = json_object_get(line, group);

	if (!g && json_object_set_new(line, group, json_object()) == 0)
		g = json_object_get(line, group);
	return g;
}

static int add_set(json_t *line, struct metrics_set *set)
{
	json_t *g = group_of(line, set->group), *own = set->name[0] ? json_object() : NULL;
	int ret = g && (own || !set->name[0]) ? 0 : -1;

	for (unsigned int i = 0; !ret && i < set->n; i++) {
		u64 now = atomic_load_explicit(&set->count[i], memory_order_relaxed);
		u64 delta = now - set->reported[i];

		set->reported[i] = now;
		ret = add_to(g, set->names[i], delta) || (own && add_to(own, set->names[i], delta));
	}
	if (own && (ret || json_object_set_new(line, set->name, own)))
		ret = -1;
	return ret;
}

char *metrics_line(struct metrics_registry *r, u64 utc_ms)
{
	json_t *line = json_pack("{s:I}", "utc_timestamp_ms", (json_int_t)utc_ms);
	char *out = NULL, *s;
	int ret = line ? 0 : -1;

	pthread_mutex_lock(&r->lock);
	for (struct metrics_set *set = r->head; set && !ret; set = set->next)
		ret = add_set(line, set);
	pthread_mutex_unlock(&r->lock);
	s = ret ? NULL : json_dumps(line, JSON_COMPACT | JSON_SORT_KEYS);
	if (s && asprintf(&out, "%s\n", s) < 0)
		out = NULL;
	free(s);
	json_decref(line);
	return out;
}
