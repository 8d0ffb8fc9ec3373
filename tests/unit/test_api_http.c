// SPDX-License-Identifier: GPL-2.0-only
/*
 * The control API's HTTP/1.1 request parser (src/api/http.c): whole, partial and
 * malformed requests, keep-alive, Content-Length and the body limit.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "api/http.h"

static ssize_t parse(const char *s, struct http_request *req, char *err)
{
	return http_parse_request(s, strlen(s), HTTP_DEFAULT_BODY_LIMIT, req, err, 256);
}

static void test_get(void **state)
{
	const char *s = "GET /machine-config HTTP/1.1\r\nHost: localhost\r\n\r\n";
	struct http_request req;
	char err[256];

	(void)state;
	assert_int_equal(parse(s, &req, err), strlen(s));
	assert_int_equal(req.method, HTTP_GET);
	assert_string_equal(req.path, "/machine-config");
	assert_true(req.keep_alive);
	assert_null(req.body);
	assert_int_equal(req.body_len, 0);
}

static void test_put_body_and_pipelining(void **state)
{
	const char *s = "PUT /drives/root HTTP/1.1\r\ncontent-length:  4 \r\n\r\n{}\r\n"
			"GET / HTTP/1.1\r\n\r\n";
	struct http_request req;
	char err[256];
	ssize_t n;

	(void)state;
	n = parse(s, &req, err);
	assert_true(n > 0);
	assert_int_equal(req.method, HTTP_PUT);
	assert_string_equal(req.path, "/drives/root");
	assert_int_equal(req.body_len, 4);
	assert_memory_equal(req.body, "{}\r\n", 4);
	/* The next request starts where this one ended. */
	assert_int_equal(parse(s + n, &req, err), strlen(s + n));
	assert_int_equal(req.method, HTTP_GET);
}

static void test_partial(void **state)
{
	const char *s = "PATCH /vm HTTP/1.1\r\nContent-Length: 10\r\n\r\n{\"state\":1}";
	struct http_request req;
	char err[256];

	(void)state;
	/* Every prefix short of the whole request asks for more. */
	for (size_t len = 0; len < strlen(s) - 1; len++)
		assert_int_equal(http_parse_request(s, len, 51200, &req, err, sizeof(err)), 0);
	assert_int_equal(http_parse_request(s, strlen(s) - 1, 51200, &req, err, sizeof(err)),
			 strlen(s) - 1);
	assert_int_equal(req.method, HTTP_PATCH);
}

static void test_keep_alive(void **state)
{
	struct http_request req;
	char err[256];

	(void)state;
	assert_true(parse("GET / HTTP/1.1\r\nConnection: close\r\n\r\n", &req, err) > 0);
	assert_false(req.keep_alive);
	assert_true(parse("GET / HTTP/1.0\r\n\r\n", &req, err) > 0);
	assert_false(req.keep_alive);
	assert_true(parse("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", &req, err) > 0);
	assert_true(req.keep_alive);
}

static void test_uri_forms(void **state)
{
	struct http_request req;
	char err[256];

	(void)state;
	assert_true(parse("GET http://localhost/version HTTP/1.1\r\n\r\n", &req, err) > 0);
	assert_string_equal(req.path, "/version");
	assert_true(parse("GET /vm/config?x=1 HTTP/1.1\r\n\r\n", &req, err) > 0);
	assert_string_equal(req.path, "/vm/config");
	assert_true(parse("DELETE /x HTTP/1.1\r\n\r\n", &req, err) > 0);
	assert_int_equal(req.method, HTTP_OTHER);
	assert_string_equal(req.method_name, "DELETE");
}

static void test_malformed(void **state)
{
	static const char *const bad[] = {
		"GET\r\n\r\n",
		"GET /\r\n\r\n",
		"GET / HTTP/2.0\r\n\r\n",
		"GET x HTTP/1.1\r\n\r\n",
		"GET http://host HTTP/1.1\r\n\r\n",
		"GET / HTTP/1.1\r\nNoColon\r\n\r\n",
		"GET / HTTP/1.1\r\n: empty-name\r\n\r\n",
		"GET / HTTP/1.1\r\n folded: x\r\n\r\n",
		"PUT / HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
		"PUT / HTTP/1.1\r\nContent-Length: 1x\r\n\r\n",
		"PUT / HTTP/1.1\r\nContent-Length:\r\n\r\n",
		"PUT / HTTP/1.1\r\nContent-Length: 99999999999999\r\n\r\n",
		"PUT / HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n",
		"PUT / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n",
		"GET / HTTP/1.1\r\nX: a\x01b\r\n\r\n",
		"VERYLONGMETHODNAME / HTTP/1.1\r\n\r\n",
		"\r\n\r\n",
	};
	struct http_request req;
	char err[256];

	(void)state;
	for (unsigned int i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		if (parse(bad[i], &req, err) != -1)
			fail_msg("accepted: %s", bad[i]);
		assert_true(strlen(err) > 0);
	}
}

static void test_body_limit(void **state)
{
	struct http_request req;
	char err[256];

	(void)state;
	assert_int_equal(parse("PUT / HTTP/1.1\r\nContent-Length: 51201\r\n\r\n", &req, err), -1);
	assert_non_null(strstr(err, "51200"));
	/* At the limit: accepted, waiting for the body. */
	assert_int_equal(parse("PUT / HTTP/1.1\r\nContent-Length: 51200\r\n\r\n", &req, err), 0);
}

static void test_long_head(void **state)
{
	char *s = malloc(HTTP_MAX_HEAD + 16);
	struct http_request req;
	char err[256];

	(void)state;
	memset(s, 'a', HTTP_MAX_HEAD + 16);
	memcpy(s, "GET / HTTP/1.1\r\nX: ", 19);
	assert_int_equal(http_parse_request(s, HTTP_MAX_HEAD - 1, 51200, &req, err, sizeof(err)),
			 0);
	assert_int_equal(http_parse_request(s, HTTP_MAX_HEAD + 16, 51200, &req, err, sizeof(err)),
			 -1);
	free(s);
}

static void test_response(void **state)
{
	size_t len;
	char *r;

	(void)state;
	r = http_format_response(204, NULL, true, &len);
	assert_string_equal(r, "HTTP/1.1 204 No Content\r\nServer: Firecracker API\r\n"
			       "Connection: keep-alive\r\n\r\n");
	assert_int_equal(len, strlen(r));
	free(r);
	r = http_format_response(400, "{\"fault_message\":\"x\"}", false, &len);
	assert_non_null(strstr(r, "HTTP/1.1 400 Bad Request\r\n"));
	assert_non_null(strstr(r, "Content-Length: 21\r\n\r\n{\"fault_message\":\"x\"}"));
	assert_non_null(strstr(r, "Connection: close\r\n"));
	free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_get),	   cmocka_unit_test(test_put_body_and_pipelining),
		cmocka_unit_test(test_partial),	   cmocka_unit_test(test_keep_alive),
		cmocka_unit_test(test_uri_forms),  cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_body_limit), cmocka_unit_test(test_long_head),
		cmocka_unit_test(test_response),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
