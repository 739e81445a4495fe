/* common/hex.h: hexadecimal digits, for the decoders that meet them
 * (percent-encoding in URLs and query strings, \uXXXX in JSON, the Insights
 * hex functions). Header only: these sit in inner loops. */
#ifndef SLUICE_COMMON_HEX_H
#define SLUICE_COMMON_HEX_H

/* The value of hex digit c (either case), or -1. */
static inline int sl_hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* The value of the four hex digits at p (4 bytes readable), or -1. */
static inline long sl_hex4(const char *p)
{
    long v = 0;
    for (int i = 0; i < 4; i++) {
        int h = sl_hex_digit(p[i]);
        if (h < 0)
            return -1;
        v = v * 16 + h;
    }
    return v;
}

#endif
