/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef KVMBOX_API_HTTP_H
#define KVMBOX_API_HTTP_H

#include <sys/types.h>

#include "../util/types.h"

/*
 * The HTTP/1.1 subset Firecracker's clients speak over the API socket: one request line,
 * headers, a Content-Length body. No chunked bodies, no pipelining beyond what is already
 * in the buffer. Everything here is pure (no I/O), so it is unit-tested and fuzzed.
 */
#define HTTP_MAX_HEAD		8192  /* request line and headers */
#define HTTP_MAX_PATH		1024  /* the path after the query is cut off */
#define HTTP_DEFAULT_BODY_LIMIT 51200 /* Firecracker's default payload limit */

enum http_method { HTTP_GET, HTTP_PUT, HTTP_PATCH, HTTP_OTHER };

struct http_request {
	enum http_method method;
	char method_name[16]; /* as sent, for "Invalid request method" messages */
	char path[HTTP_MAX_PATH];
	const char *body; /* points into the parsed buffer; NULL without one */
	size_t body_len;
	bool has_content_length;
	bool keep_alive;
};

/*
 * Parses one request from the start of buf. Returns the bytes it took (> 0) once the whole
 * request is there, 0 while more bytes are needed, or -1 for malformed input with a reason
 * in err (the connection then gets a 400 and is closed).
 */
ssize_t http_parse_request(const char *buf, size_t len, size_t body_limit, struct http_request *req,
			   char *err, size_t errlen);

/*
 * Formats a response: status line, headers and body (JSON, or NULL for none). Returns a
 * heap string (its length in *outlen), or NULL when out of memory.
 */
char *http_format_response(int status, const char *body, bool keep_alive, size_t *outlen);

#endif
