/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef KVMBOX_API_SERVER_H
#define KVMBOX_API_SERVER_H

#include <pthread.h>

#include "api.h"

/*
 * The API socket: a Unix stream socket served by one thread at a time, a few keep-alive
 * connections, one request handled at a time. Before InstanceStart the main thread
 * serves it (and builds the VM there); after, a thread of its own does while the main
 * thread runs the VM.
 */
#define API_MAX_CONNS 8

struct api_conn {
	int fd; /* -1: free */
	char *buf;
	size_t len;
};

struct api_server {
	struct api *api;
	const char *path;
	int listen_fd;
	int quit_fd; /* an eventfd: ends the post-boot thread */
	struct api_conn conns[API_MAX_CONNS];
	pthread_t thread;
	bool thread_running;
};

/*
 * Creates the socket at path, which must not exist (Firecracker's clients check that it
 * appears). 0, or -exit status after one line: 2 for a path that exists or is too long.
 */
int api_server_open(struct api_server *srv, struct api *api, const char *path);
/*
 * Serves until InstanceStart or a snapshot load succeeds (returns 0), a load fails
 * after it began building the VM (returns the exit status it set), or a termination
 * signal arrives on sig_fd (returns 128 + its number).
 */
int api_server_serve_preboot(struct api_server *srv, int sig_fd);
/* Serves the running VM's calls on a thread of its own until api_server_close(). */
int api_server_start_thread(struct api_server *srv);
/* Stops the thread, closes every connection and removes the socket file. */
void api_server_close(struct api_server *srv);

/* Feeds bytes to a connection's buffer and answers every whole request in it; for tests
 * and the fuzzer through api_conn_process(). Returns false when the connection must close. */
bool api_conn_process(struct api *api, struct api_conn *c, int out_fd);

#endif
