/* query/funcs_ip.c: the IP functions: validity, subnet membership,
 * ipv4ToNumber and the private/public/reserved classes. Addresses are
 * strings; anything else (null, a number, a bad address) is not an IP and
 * every predicate answers false. See funcs_int.h for the contracts. */
#include "query/funcs_int.h"

#include <arpa/inet.h>
#include <string.h>

/*
 * One address space for both families: an IPv4 text a.b.c.d is kept as
 * its IPv4-mapped IPv6 form ::ffff:a.b.c.d, and an IPv4 prefix /p as
 * /(96 + p). So one prefix comparison serves every case, and
 * isIpInSubnet("::ffff:10.1.2.3", "10.0.0.0/8") is true, as is
 * isIpInSubnet("10.1.2.3", "::ffff:0:0/96"). isIpv4InSubnet and
 * isIpv6InSubnet additionally require both texts to be of their family.
 *
 *   bytes  0 .................. 9  10   11   12  13  14  15
 *          00 00 00 00 00 00 00 00 ff   ff   a   b   c   d
 */
struct ip {
    unsigned char b[16];  /* IPv6 form (IPv4 mapped) */
    bool v4;              /* written as a dotted quad */
};

static const unsigned char v4_mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

/* Strict dotted quad: four decimal octets 0-255, no sign, no leading
 * zero ("01" is refused, as inet_pton does), nothing around. */
static bool parse_v4(const char *s, size_t len, unsigned char out[4])
{
    size_t i = 0;

    for (int k = 0; k < 4; k++) {
        size_t start;
        unsigned v = 0;
        if (k > 0 && (i >= len || s[i++] != '.'))
            return false;
        start = i;
        while (i < len && i - start < 4 && s[i] >= '0' && s[i] <= '9')
            v = v * 10 + (unsigned)(s[i++] - '0');
        if (i == start || i - start > 3 || v > 255 ||
            (s[start] == '0' && i - start > 1))
            return false;
        out[k] = (unsigned char)v;
    }
    return i == len;
}

/* IPv6 text as inet_pton reads it (RFC 4291 forms, an embedded strict
 * dotted quad allowed at the end; no zone id, no brackets). */
static bool parse_v6(const char *s, size_t len, unsigned char out[16])
{
    char tmp[64];

    if (len == 0 || len >= sizeof(tmp) || memchr(s, '\0', len) != NULL)
        return false;
    memcpy(tmp, s, len);
    tmp[len] = '\0';
    return inet_pton(AF_INET6, tmp, out) == 1;
}

static bool parse_ip_text(const char *s, size_t len, struct ip *ip)
{
    if (parse_v4(s, len, ip->b + 12)) {
        memcpy(ip->b, v4_mapped, sizeof(v4_mapped));
        ip->v4 = true;
        return true;
    }
    ip->v4 = false;
    return parse_v6(s, len, ip->b);
}

static bool parse_ip(const struct val *v, struct ip *ip)
{
    return v->kind == VAL_STR && parse_ip_text(v->u.s, v->len, ip);
}

static bool family_ok(const struct ip *ip, enum fn_ip_family fam)
{
    return fam == FN_IP_ANY || ip->v4 == (fam == FN_IP_V4);
}

bool fn_ip_valid(const struct val *v, enum fn_ip_family fam)
{
    struct ip ip;
    return parse_ip(v, &ip) && family_ok(&ip, fam);
}

/* Whether the first bits bits of a and b agree. */
static bool prefix_match(const unsigned char *a, const unsigned char *b,
                         unsigned bits)
{
    unsigned full = bits / 8, rest = bits % 8;

    if (memcmp(a, b, full) != 0)
        return false;
    if (rest == 0)
        return true;
    return ((a[full] ^ b[full]) & (0xFFu << (8 - rest)) & 0xFFu) == 0;
}

/* "addr/prefix" (prefix 0-32 for IPv4, 0-128 for IPv6, decimal, no
 * sign); a plain address is a single-host network. Host bits set in addr
 * are ignored ("10.1.2.3/8" is 10.0.0.0/8). *bits is in the unified
 * space. */
static bool parse_cidr(const struct val *v, struct ip *net, unsigned *bits)
{
    const char *slash;
    size_t alen, plen;
    unsigned p = 0;

    if (v->kind != VAL_STR)
        return false;
    slash = memchr(v->u.s, '/', v->len);
    alen = slash != NULL ? (size_t)(slash - v->u.s) : v->len;
    if (!parse_ip_text(v->u.s, alen, net))
        return false;
    if (slash == NULL) {
        *bits = 128;
        return true;
    }
    plen = v->len - alen - 1;
    if (plen == 0 || plen > 3)
        return false;
    for (size_t i = 0; i < plen; i++) {
        char c = slash[1 + i];
        if (c < '0' || c > '9')
            return false;
        p = p * 10 + (unsigned)(c - '0');
    }
    if (p > (net->v4 ? 32u : 128u))
        return false;
    *bits = net->v4 ? 96 + p : p;
    return true;
}

bool fn_ip_in_subnet(const struct val *ip, const struct val *cidr,
                     enum fn_ip_family fam)
{
    struct ip a, net;
    unsigned bits;

    if (!parse_ip(ip, &a) || !parse_cidr(cidr, &net, &bits))
        return false;
    if (!family_ok(&a, fam) || !family_ok(&net, fam))
        return false;
    return prefix_match(a.b, net.b, bits);
}

struct val fn_ip_v4_to_number(const struct val *v)
{
    unsigned char b[4];

    if (v->kind != VAL_STR || !parse_v4(v->u.s, v->len, b))
        return val_null();
    return val_num((double)((uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
                            (uint32_t)b[2] << 8 | b[3]));
}

/* ------------------------------------------------------------------ */
/* Address classes                                                      */

/*
 * isPrivateIP: RFC 1918 (10/8, 172.16/12, 192.168/16) and IPv6 unique
 * local addresses (fc00::/7). Loopback, link-local and shared (CGNAT)
 * space are not "private" networks: they are reserved.
 *
 * isReservedIP: the IANA special-purpose blocks that are not globally
 * reachable, less the private ones: this network 0/8, shared 100.64/10,
 * loopback 127/8, link-local 169.254/16, IETF 192.0.0/24, documentation
 * 192.0.2/24 198.51.100/24 203.0.113/24, 6to4 relay 192.88.99/24,
 * benchmarking 198.18/15, multicast 224/4, future use and broadcast 240/4;
 * IPv6 :: ::1 100::/64 (discard) 2001:db8::/32 and 3fff::/20
 * (documentation) fe80::/10 (link-local) fec0::/10 (old site-local)
 * ff00::/8 (multicast). An IPv4-mapped IPv6 address is classed as its
 * IPv4 address.
 *
 * isPublicIP: a valid address in neither list.
 */
struct net4 {
    uint32_t addr;
    unsigned bits;
};

struct net6 {
    unsigned char b[16];
    unsigned bits;
};

static const struct net4 private4[] = {
    {0x0A000000, 8}, {0xAC100000, 12}, {0xC0A80000, 16}};
static const struct net4 reserved4[] = {
    {0x00000000, 8},  {0x64400000, 10}, {0x7F000000, 8},  {0xA9FE0000, 16},
    {0xC0000000, 24}, {0xC0000200, 24}, {0xC0586300, 24}, {0xC6120000, 15},
    {0xC6336400, 24}, {0xCB007100, 24}, {0xE0000000, 4},  {0xF0000000, 4}};
static const struct net6 private6[] = {{{0xfc}, 7}};
static const struct net6 reserved6[] = {
    {{0}, 128},
    {{[15] = 1}, 128},
    {{0x01, 0x00}, 64},
    {{0x20, 0x01, 0x0d, 0xb8}, 32},
    {{0x3f, 0xff}, 20},
    {{0xfe, 0x80}, 10},
    {{0xfe, 0xc0}, 10},
    {{0xff}, 8}};

static bool in_list4(uint32_t a, const struct net4 *l, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint32_t mask = l[i].bits == 0 ? 0 : 0xFFFFFFFFu << (32 - l[i].bits);
        if ((a & mask) == l[i].addr)
            return true;
    }
    return false;
}

static bool in_list6(const unsigned char *b, const struct net6 *l, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (prefix_match(b, l[i].b, l[i].bits))
            return true;
    return false;
}

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

bool fn_ip_is(const struct val *v, enum fn_ip_class cls)
{
    struct ip ip;
    bool priv, res;

    if (!parse_ip(v, &ip))
        return false;
    if (memcmp(ip.b, v4_mapped, sizeof(v4_mapped)) == 0) {
        uint32_t a = (uint32_t)ip.b[12] << 24 | (uint32_t)ip.b[13] << 16 |
                     (uint32_t)ip.b[14] << 8 | ip.b[15];
        priv = in_list4(a, private4, COUNT(private4));
        res = in_list4(a, reserved4, COUNT(reserved4));
    } else {
        priv = in_list6(ip.b, private6, COUNT(private6));
        res = in_list6(ip.b, reserved6, COUNT(reserved6));
    }
    switch (cls) {
    case FN_IP_PRIVATE: return priv;
    case FN_IP_RESERVED: return res;
    default: return !priv && !res;
    }
}
