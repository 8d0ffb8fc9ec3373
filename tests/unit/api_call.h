/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Calling the control API's router as a client would, for its unit tests: a request
 * goes through api_handle(), and every answer is checked for Firecracker's shape (204
 * without a body, a 400 with a fault_message).
 */
#ifndef KVMBOX_TESTS_UNIT_API_CALL_H
#define KVMBOX_TESTS_UNIT_API_CALL_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"

/* Sends method path body to api; returns the status and, in *body_out, the body. */
static inline int call(struct api *api, enum http_method m, const char *path, const char *body,
		       char **body_out)
{
	static const char *const names[] = {"GET", "PUT", "PATCH", "DELETE"};
	struct http_request req = {.method = m, .keep_alive = true};
	struct api_resp resp = {0};

	strcpy(req.method_name, names[m]);
	snprintf(req.path, sizeof(req.path), "%s", path);
	req.body = body;
	req.body_len = body ? strlen(body) : 0;
	api_handle(api, &req, &resp);
	if (resp.status == 204)
		assert_null(resp.body);
	else
		assert_non_null(resp.body);
	if (resp.status == 400)
		assert_non_null(strstr(resp.body, "{\"fault_message\":\""));
	if (body_out)
		*body_out = resp.body;
	else
		free(resp.body);
	return resp.status;
}

#endif
