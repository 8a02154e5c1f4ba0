/*
 * INCRBYFLOAT arithmetic in C `long double`, the type Redis uses for it.
 *
 * Why C: Redis parses both operands with strtold, adds them in long double
 * (80-bit on x86-64) and prints the sum with "%.17Lf", trimming trailing
 * zeros. The extra precision shows in replies (123456.789 prints as
 * "123456.78900000000000148", 0.1 + 0.2 as "0.3"), and Rust has no long
 * double. Doing the same three libc calls here gives byte-identical replies
 * on the same platform instead of an approximation.
 *
 * This file must never allocate, and never read or write outside the
 * buffers it is given.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Redis's MAX_LONG_DOUBLE_CHARS: longer input is not a float, and a sum
 * whose "%.17Lf" form does not fit formats as the empty string. */
#define TANDEM_LD_CHARS (5 * 1024)

/* Same acceptance rules as Redis's string2ld(). */
static int parse_ld(const unsigned char *s, size_t len, long double *out) {
    char buf[TANDEM_LD_CHARS];
    char *end;
    long double v;

    if (len == 0 || len >= sizeof(buf)) return 0;
    memcpy(buf, s, len);
    buf[len] = '\0';
    errno = 0;
    v = strtold(buf, &end);
    if (isspace((unsigned char)buf[0]) || end[0] != '\0' ||
        ((errno == ERANGE || errno == EINVAL) &&
         (v == HUGE_VALL || v == -HUGE_VALL || v == 0)) ||
        errno == EINVAL || isnan(v))
        return 0;
    *out = v;
    return 1;
}

/*
 * current/current_len: the stored value, or NULL for a missing key (0).
 * Returns the formatted length (0 when it does not fit, as Redis), or
 * -1 when the stored value is not a float, -2 when the increment is not,
 * -3 when the sum is NaN or infinite.
 */
int tandem_ld_incr(const unsigned char *current, size_t current_len,
                   const unsigned char *incr, size_t incr_len,
                   char *out, size_t out_cap) {
    long double value = 0, delta;
    int n;
    size_t len;

    if (current != NULL && !parse_ld(current, current_len, &value)) return -1;
    if (!parse_ld(incr, incr_len, &delta)) return -2;
    value += delta;
    if (isnan(value) || isinf(value)) return -3;

    n = snprintf(out, out_cap, "%.17Lf", value);
    if (n < 0 || (size_t)n + 1 > out_cap) return 0;
    len = (size_t)n;
    if (memchr(out, '.', len) != NULL) {
        while (len > 0 && out[len - 1] == '0') len--;
        if (len > 0 && out[len - 1] == '.') len--;
    }
    if (len == 2 && out[0] == '-' && out[1] == '0') {
        out[0] = '0';
        len = 1;
    }
    return (int)len;
}

/*
 * A blocking command's timeout, in seconds as text, to milliseconds, as
 * Redis 7.0 reads it: strtold's syntax, times 1000 in long double,
 * rounded up to a long long (0.001 is 0.99999... ms in long double). A product past the long long range comes out
 * as LLONG_MIN (what the x87 conversion gives Redis, so it reports the
 * timeout as negative) without the undefined conversion.
 * Returns 1 and sets *ms, or 0 when the text is not a float.
 */
int tandem_ld_timeout_ms(const unsigned char *s, size_t len, long long *ms) {
    long double v;

    if (!parse_ld(s, len, &v)) return 0;
    v = ceill(v * 1000.0L);
    if (v >= -9223372036854775808.0L && v < 9223372036854775808.0L)
        *ms = (long long)v;
    else
        *ms = LLONG_MIN;
    return 1;
}

/*
 * A score as Redis reads one (getDoubleFromObject): strtod's syntax over
 * the whole NUL-terminated text, not empty, no leading space, no
 * overflow or underflow to zero, not NaN. With `lenient` (the text after
 * a range's '('), only strtod's own rules and not NaN, as zslParseRange.
 * Returns 1 and sets *out, or 0.
 */
int tandem_parse_double(const char *s, int lenient, double *out) {
    char *end;
    double v;

    if (!lenient && (s[0] == '\0' || isspace((unsigned char)s[0]))) return 0;
    errno = 0;
    v = strtod(s, &end);
    if (end[0] != '\0' || isnan(v)) return 0;
    if (!lenient && errno == ERANGE &&
        (v == HUGE_VAL || v == -HUGE_VAL || fpclassify(v) == FP_ZERO))
        return 0;
    *out = v;
    return 1;
}

/* A finite double as Redis 7.0 replies with one: "%.17g". */
int tandem_format_double(double v, char *out, size_t cap) {
    int n = snprintf(out, cap, "%.17g", v);
    if (n < 0 || (size_t)n >= cap) return 0;
    return n;
}

/*
 * A SORT weight as Redis 7.0 reads one: strtod over the whole
 * NUL-terminated text (empty reads as 0, leading space allowed), refused
 * when it overflows or underflows (ERANGE) or is NaN.
 * Returns 1 and sets *out, or 0.
 */
int tandem_parse_sort_score(const char *s, double *out) {
    char *end;
    double v;

    errno = 0;
    v = strtod(s, &end);
    if (end[0] != '\0' || errno == ERANGE || isnan(v)) return 0;
    *out = v;
    return 1;
}
