// SPDX-License-Identifier: GPL-2.0-only
/*
 * The --net option: tap=IFNAME[,vhost=on|off][,mac=M] | user[,hostfwd=...][,mac=M], and
 * rate limits [,rx-bw=B][,rx-ops=B][,tx-bw=B][,tx-ops=B] (B: SIZE:REFILL_MS[:BURST]).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "net.h"

#define SLIRP_NET	 0x0a000200u /* 10.0.2.0/24, the user network */
#define SLIRP_DHCP_START 0x0a00020fu

static int opt_error(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int opt_error(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* xx:xx:xx:xx:xx:xx, a unicast address that is not all zeros. */
static bool parse_mac(const char *s, u8 mac[6])
{
	bool zero = true;

	if (strlen(s) != 17)
		return false;
	for (int i = 0; i < 6; i++) {
		int hi = hex_digit(s[3 * i]), lo = hex_digit(s[3 * i + 1]);

		if (hi < 0 || lo < 0 || (i < 5 && s[3 * i + 2] != ':'))
			return false;
		mac[i] = (u8)(hi << 4 | lo);
		zero = zero && !mac[i];
	}
	/* Bit 0 of the first octet makes it a group address, which no NIC may own. */
	return !zero && !(mac[0] & 1);
}

/* A decimal port in 1..65535, the whole of [s, end). */
static bool parse_port(const char *s, const char *end, u16 *port)
{
	unsigned long v = 0;

	if (s == end || end - s > 5)
		return false;
	for (; s < end; s++) {
		if (*s < '0' || *s > '9')
			return false;
		v = v * 10 + (unsigned long)(*s - '0');
	}
	if (v == 0 || v > 65535)
		return false;
	*port = (u16)v;
	return true;
}

/* An IPv4 address in [s, end), or the default when empty. */
static bool parse_addr(const char *s, const char *end, struct in_addr *addr, u32 dflt)
{
	char buf[INET_ADDRSTRLEN];

	if (s == end) {
		addr->s_addr = htonl(dflt);
		return true;
	}
	if ((size_t)(end - s) >= sizeof(buf))
		return false;
	memcpy(buf, s, (size_t)(end - s));
	buf[end - s] = '\0';
	return inet_pton(AF_INET, buf, addr) == 1;
}

/* PROTO:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT, PROTO tcp, udp or empty (tcp). */
static int parse_hostfwd(const char *s, struct net_hostfwd *fwd, char *err, size_t errlen)
{
	const char *c1 = strchr(s, ':'), *c2, *dash, *c3;

	c2 = c1 ? strchr(c1 + 1, ':') : NULL;
	dash = c2 ? strchr(c2 + 1, '-') : NULL;
	c3 = dash ? strchr(dash + 1, ':') : NULL;
	if (!c3 || strchr(c3 + 1, ':'))
		return opt_error(
			err, errlen,
			"hostfwd=%s: expected tcp:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT", s);
	if (c1 - s == 3 && !strncmp(s, "udp", 3))
		fwd->udp = true;
	else if (c1 != s && !(c1 - s == 3 && !strncmp(s, "tcp", 3)))
		return opt_error(err, errlen, "hostfwd=%s: the protocol must be tcp or udp", s);
	if (!parse_addr(c1 + 1, c2, &fwd->host_addr, INADDR_ANY) ||
	    !parse_addr(dash + 1, c3, &fwd->guest_addr, SLIRP_DHCP_START))
		return opt_error(err, errlen, "hostfwd=%s: bad IPv4 address", s);
	if (!parse_port(c2 + 1, dash, &fwd->host_port) ||
	    !parse_port(c3 + 1, c3 + 1 + strlen(c3 + 1), &fwd->guest_port))
		return opt_error(err, errlen, "hostfwd=%s: ports must be 1..65535", s);
	if ((ntohl(fwd->guest_addr.s_addr) & 0xffffff00u) != SLIRP_NET)
		return opt_error(err, errlen,
				 "hostfwd=%s: the guest address must be in 10.0.2.0/24", s);
	return 0;
}

/* Linux's rules for interface names: short, not "." or "..", no '/', ':' or spaces. */
static bool valid_ifname(const char *s)
{
	size_t len = strlen(s);

	if (len == 0 || len >= IFNAMSIZ || !strcmp(s, ".") || !strcmp(s, ".."))
		return false;
	for (; *s; s++) {
		if (*s == '/' || *s == ':' || *s == ' ' || (*s >= '\t' && *s <= '\r'))
			return false;
	}
	return true;
}

/* rx-bw=, rx-ops=, tx-bw=, tx-ops=: the bucket it names, or NULL. */
static struct tb_config *bucket_of(struct net_options *opt, const char *key)
{
	static const char *const keys[] = {"rx-bw", "rx-ops", "tx-bw", "tx-ops"};
	struct tb_config *tbs[] = {&opt->rx_rl.bw, &opt->rx_rl.ops, &opt->tx_rl.bw,
				   &opt->tx_rl.ops};

	for (unsigned int i = 0; i < ARRAY_SIZE(keys); i++) {
		if (!strcmp(key, keys[i]))
			return tbs[i];
	}
	return NULL;
}

/* One key[=value] item; kind_seen counts tap/user items. */
static int parse_item(char *item, struct net_options *opt, int *kind_seen, char *err, size_t errlen)
{
	char *val = strchr(item, '=');
	struct tb_config *tb;

	if (val)
		*val++ = '\0';
	tb = val ? bucket_of(opt, item) : NULL;
	if (tb) {
		if (tb_parse(val, strlen(val), tb))
			return opt_error(err, errlen,
					 "%s=%s: expected SIZE:REFILL_MS[:BURST] (decimal)", item,
					 val);
	} else if (!strcmp(item, "user") && !val) {
		opt->kind = NET_KIND_USER;
		(*kind_seen)++;
	} else if (!strcmp(item, "tap") && val) {
		if (!valid_ifname(val))
			return opt_error(err, errlen,
					 "tap=%s: not a valid interface name (1..%d characters)",
					 val, IFNAMSIZ - 1);
		opt->kind = NET_KIND_TAP;
		strcpy(opt->ifname, val);
		(*kind_seen)++;
	} else if (!strcmp(item, "vhost") && val) {
		if (strcmp(val, "on") && strcmp(val, "off"))
			return opt_error(err, errlen, "vhost=%s: expected on or off", val);
		opt->vhost = !strcmp(val, "on");
	} else if (!strcmp(item, "mac") && val) {
		if (!parse_mac(val, opt->mac))
			return opt_error(err, errlen,
					 "mac=%s: expected a unicast xx:xx:xx:xx:xx:xx address",
					 val);
	} else if (!strcmp(item, "id") && val) {
		if (!*val || strlen(val) >= sizeof(opt->id))
			return opt_error(err, errlen, "id=%s: 1 to %d characters", val,
					 NET_ID_MAX - 1);
		strcpy(opt->id, val);
	} else if (!strcmp(item, "hostfwd") && val) {
		if (opt->nr_hostfwd == NET_MAX_HOSTFWD)
			return opt_error(err, errlen, "at most %d hostfwd= items", NET_MAX_HOSTFWD);
		return parse_hostfwd(val, &opt->hostfwd[opt->nr_hostfwd++], err, errlen);
	} else {
		return opt_error(
			err, errlen,
			"unknown item '%s%s' (expected tap=, user, vhost=, mac=, id=, hostfwd=, "
			"rx-bw=, rx-ops=, tx-bw=, tx-ops=)",
			item, val ? "=" : "");
	}
	return 0;
}

int net_parse_options(const char *arg, unsigned int index, struct net_options *opt, char *err,
		      size_t errlen)
{
	const u8 mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, (u8)(NET_DEFAULT_MAC0 + index)};
	char buf[512], *item, *save = NULL;
	int kind_seen = 0, ret;

	memset(opt, 0, sizeof(*opt));
	memcpy(opt->mac, mac, sizeof(mac));
	if (strlen(arg) >= sizeof(buf))
		return opt_error(err, errlen, "too long");
	strcpy(buf, arg);
	/* strtok_r would skip empty items; an empty item is a typo worth reporting. */
	for (item = buf; item; item = save) {
		save = strchr(item, ',');
		if (save)
			*save++ = '\0';
		if (!*item)
			return opt_error(err, errlen, "empty item");
		ret = parse_item(item, opt, &kind_seen, err, errlen);
		if (ret)
			return ret;
	}
	if (kind_seen != 1)
		return opt_error(err, errlen, "give exactly one of tap=IFNAME or user");
	if (opt->kind == NET_KIND_USER && opt->vhost)
		return opt_error(err, errlen, "vhost=on needs tap=IFNAME, not user");
	/* vhost-net's rings are the kernel's: no request passes us to be charged. */
	if (opt->vhost && (tb_active(&opt->rx_rl.bw) || tb_active(&opt->rx_rl.ops) ||
			   tb_active(&opt->tx_rl.bw) || tb_active(&opt->tx_rl.ops)))
		return opt_error(
			err, errlen,
			"rate limits (rx-bw= ...) need kvmbox's own rings: give vhost=off");
	if (opt->kind == NET_KIND_TAP && opt->nr_hostfwd)
		return opt_error(err, errlen, "hostfwd= needs user, not tap=");
	return 0;
}
