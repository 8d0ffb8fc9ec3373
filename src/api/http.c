// SPDX-License-Identifier: GPL-2.0-only
/* A small, strict HTTP/1.1 request parser for the API socket (see http.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http.h"

static ssize_t http_fail(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static ssize_t http_fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

/* The end of the head ("\r\n\r\n"), or NULL when it is not (yet) in buf. */
static const char *head_end(const char *buf, size_t len)
{
	size_t n = MIN(len, (size_t)HTTP_MAX_HEAD);

	for (size_t i = 0; i + 4 <= n; i++) {
		if (!memcmp(buf + i, "\r\n\r\n", 4))
			return buf + i;
	}
	return NULL;
}

/* A header or request line holds printable ASCII and tabs only. */
static bool line_is_clean(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if ((c < 0x20 && c != '\t') || c >= 0x7f)
			return false;
	}
	return true;
}

static enum http_method method_of(const char *s, size_t len)
{
	if (len == 3 && !memcmp(s, "GET", 3))
		return HTTP_GET;
	if (len == 3 && !memcmp(s, "PUT", 3))
		return HTTP_PUT;
	if (len == 5 && !memcmp(s, "PATCH", 5))
		return HTTP_PATCH;
	return HTTP_OTHER;
}

/* "http://host/path" (an absolute URI) is taken as "/path"; the query is dropped. */
static int set_path(struct http_request *req, const char *s, size_t len)
{
	const char *q;

	if (len > 7 && !strncasecmp(s, "http://", 7)) {
		const char *slash = memchr(s + 7, '/', len - 7);

		if (!slash)
			return -1;
		len -= (size_t)(slash - s);
		s = slash;
	}
	q = memchr(s, '?', len);
	if (q)
		len = (size_t)(q - s);
	if (!len || s[0] != '/' || len >= sizeof(req->path))
		return -1;
	memcpy(req->path, s, len);
	req->path[len] = '\0';
	return 0;
}

/* "METHOD SP TARGET SP HTTP/1.x" */
static ssize_t parse_request_line(struct http_request *req, const char *s, size_t len, char *err,
				  size_t errlen)
{
	const char *sp1 = memchr(s, ' ', len), *sp2, *ver;
	size_t mlen, tlen, vlen;

	if (!sp1)
		return http_fail(err, errlen, "Invalid HTTP request line.");
	sp2 = memchr(sp1 + 1, ' ', len - (size_t)(sp1 + 1 - s));
	if (!sp2)
		return http_fail(err, errlen, "Invalid HTTP request line.");
	mlen = (size_t)(sp1 - s);
	tlen = (size_t)(sp2 - sp1 - 1);
	ver = sp2 + 1;
	vlen = len - (size_t)(ver - s);
	if (!mlen || mlen >= sizeof(req->method_name))
		return http_fail(err, errlen, "Invalid HTTP method.");
	memcpy(req->method_name, s, mlen);
	req->method_name[mlen] = '\0';
	req->method = method_of(s, mlen);
	if (set_path(req, sp1 + 1, tlen))
		return http_fail(err, errlen, "Invalid URI.");
	if (vlen == 8 && !memcmp(ver, "HTTP/1.1", 8))
		req->keep_alive = true;
	else if (vlen == 8 && !memcmp(ver, "HTTP/1.0", 8))
		req->keep_alive = false;
	else
		return http_fail(err, errlen, "Unsupported HTTP version.");
	return 0;
}

/* A decimal Content-Length within the limit; anything else is malformed. */
static ssize_t parse_length(struct http_request *req, const char *v, size_t vlen, size_t body_limit,
			    char *err, size_t errlen)
{
	size_t n = 0;

	if (!vlen || vlen > 12)
		return http_fail(err, errlen, "Invalid value. Key:Content-Length; Value:%.*s",
				 (int)MIN(vlen, (size_t)32), v);
	for (size_t i = 0; i < vlen; i++) {
		if (v[i] < '0' || v[i] > '9')
			return http_fail(err, errlen,
					 "Invalid value. Key:Content-Length; Value:%.*s",
					 (int)MIN(vlen, (size_t)32), v);
		n = n * 10 + (size_t)(v[i] - '0');
	}
	if (req->has_content_length && n != req->body_len)
		return http_fail(err, errlen, "Conflicting Content-Length headers.");
	if (n > body_limit)
		return http_fail(err, errlen,
				 "Request payload with size %zu is larger than the limit of %zu "
				 "allowed by server.",
				 n, body_limit);
	req->has_content_length = true;
	req->body_len = n;
	return 0;
}

static ssize_t parse_header(struct http_request *req, const char *s, size_t len, size_t body_limit,
			    char *err, size_t errlen)
{
	const char *colon = memchr(s, ':', len), *v;
	size_t nlen, vlen;

	if (!colon || colon == s || s[0] == ' ' || s[0] == '\t')
		return http_fail(err, errlen, "Invalid header.");
	nlen = (size_t)(colon - s);
	v = colon + 1;
	vlen = len - nlen - 1;
	while (vlen && (*v == ' ' || *v == '\t'))
		v++, vlen--;
	while (vlen && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
		vlen--;
	if (nlen == 14 && !strncasecmp(s, "Content-Length", 14))
		return parse_length(req, v, vlen, body_limit, err, errlen);
	if (nlen == 17 && !strncasecmp(s, "Transfer-Encoding", 17))
		return http_fail(err, errlen, "Transfer-Encoding is not supported.");
	if (nlen == 10 && !strncasecmp(s, "Connection", 10)) {
		if (vlen == 5 && !strncasecmp(v, "close", 5))
			req->keep_alive = false;
		else if (vlen == 10 && !strncasecmp(v, "keep-alive", 10))
			req->keep_alive = true;
	}
	return 0;
}

static ssize_t parse_head(struct http_request *req, const char *buf, const char *end,
			  size_t body_limit, char *err, size_t errlen)
{
	const char *line = buf;
	bool first = true;

	while (line < end) {
		const char *eol = memmem(line, (size_t)(end - line) + 2, "\r\n", 2);
		size_t len = (size_t)(eol - line);
		ssize_t ret;

		if (!line_is_clean(line, len))
			return http_fail(err, errlen, "Invalid characters in the request head.");
		if (first)
			ret = parse_request_line(req, line, len, err, errlen);
		else
			ret = parse_header(req, line, len, body_limit, err, errlen);
		if (ret < 0)
			return ret;
		first = false;
		line = eol + 2;
	}
	return first ? http_fail(err, errlen, "Empty request.") : 0;
}

ssize_t http_parse_request(const char *buf, size_t len, size_t body_limit, struct http_request *req,
			   char *err, size_t errlen)
{
	const char *end = head_end(buf, len);
	size_t head_len;

	memset(req, 0, sizeof(*req));
	if (!end) {
		if (len >= HTTP_MAX_HEAD)
			return http_fail(err, errlen, "Request head is too long.");
		return 0;
	}
	if (parse_head(req, buf, end, body_limit, err, errlen) < 0)
		return -1;
	head_len = (size_t)(end - buf) + 4;
	if (len - head_len < req->body_len)
		return 0;
	if (req->body_len)
		req->body = buf + head_len;
	return (ssize_t)(head_len + req->body_len);
}

static const char *status_text(int status)
{
	switch (status) {
	case 200:
		return "OK";
	case 204:
		return "No Content";
	case 400:
		return "Bad Request";
	default:
		return "Internal Server Error";
	}
}

char *http_format_response(int status, const char *body, bool keep_alive, size_t *outlen)
{
	char *out = NULL;
	int n;

	if (body)
		n = asprintf(&out,
			     "HTTP/1.1 %d %s\r\nServer: Firecracker API\r\nConnection: %s\r\n"
			     "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
			     status, status_text(status), keep_alive ? "keep-alive" : "close",
			     strlen(body), body);
	else
		n = asprintf(&out,
			     "HTTP/1.1 %d %s\r\nServer: Firecracker API\r\nConnection: %s\r\n\r\n",
			     status, status_text(status), keep_alive ? "keep-alive" : "close");
	if (n < 0)
		return NULL;
	*outlen = (size_t)n;
	return out;
}
