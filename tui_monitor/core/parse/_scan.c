/*
 * _scan: the compiled forms of three per-chunk scans of the console reader and of two per-run checks
 * of its record policy (4., `survey`, and 5., `run_moves`, are described above their functions).
 * The Python code stays the reference for every rule (columnar.py, steps.py, framing.py,
 * boundaries.py); tests/parse/test_scan_paths.py compares both paths on every fixture, generated
 * and random logs, in every chunking (tests/parse/test_spe_bounds.py and test_run_moves.py the
 * checks on random batches).
 *
 * 1. read_run(buf, start, shapes, min_lines): the columnar run reader (columnar.py `read_run`).
 *
 * What it recognises: a *run* of console lines that are flat metric dicts of known key
 * sequences (shapes), exactly what `columnar._read_run_py` matches with the shapes' regexes:
 *
 *     {'k0': V, 'k1': V, ...}\n            the first line (starting at the given offset), of
 *                                          the first shape
 *     P{'j0': V, 'j1': V, ...}\n           each next line, of any of the shapes (a log's train
 *                                          records switch key sequence now and then and its eval
 *                                          records come between them); P = CLEAR_PREFIX:
 *                                          nothing, or "\r", or "\r" [ \r]* "\r" (tqdm.write's
 *                                          clears)
 *     L\n                                  before a next line, any number of lines the run
 *                                          passes over (columnar.PASSABLE; not rows): a blank
 *                                          line, or a nested tqdm bar's draw (an eval bar):
 *                                          "\r"? " "* D{1,3} "%|" B "|" " "* INT "/" INT " "*
 *                                          "[" [0-9:]+ "<" ([0-9:]+ | "?") "," " "*
 *                                          ([0-9.]+ ("it/s" | "s/it") | "?it/s") "]" ESC "[A",
 *                                          B any bytes but letters, "|", "\r", "\n", ESC,
 *                                          "{", "}"; INT 1..MAX_DIGITS digits
 *
 * where each V is a bare number (values.NUM: [-+]?digits[.digits][e[-+]digits], .digits[e..],
 * or [-+]?nan|NaN|inf|Infinity) or a quoted one ('…' around values.FAST_QNUM: the same
 * numbers, or nan / inf / infinity in any case).
 *
 * What it hands back: `read_run(buf, start, base, shapes, dest, min_lines)` (`shapes` a tuple of
 * 1 to 255 key tuples; `dest` one native int32 per key of every shape, in order: the name id of
 * its column, 0 <= id < the number of keys, shared by the keys of one metric name in several
 * shapes, or -1 for a key that is no metric, -2 for the epoch) returns None when fewer than
 * `min_lines` whole lines match, else the run's columns as columnar.py's `Batch` holds them,
 * `(end, used, values, epochs, offsets, row_shapes)`: `end` base + the index just past the
 * run's last "\n"; `used` the bytes of the shapes that have lines, in order of their first line
 * (used[0] is 0); `values` a bytearray of n rows of float64, one column per name id of the used
 * shapes' keys in that order (each id once: columnar.ShapePlan.layout), each line's values in
 * its columns and numpy's NaN in the others; `epochs` a bytearray of n float64 (each line's
 * epoch), or None when the first shape has no epoch key;
 * the values converted by PyOS_string_to_double, the very function behind Python's float(), or
 * where that is sure to give the same bits by Clinger's fast path, `fast_value`: every bit is
 * the same; `offsets` a bytearray of n int64: base + the index of each line's "{"; and
 * `row_shapes` n bytes, each line's shape as an index into `used`, or b"" when every line is of
 * the first shape. Any other text (a line of no known shape, a summary) ends the run there
 * (the Python path reads it); passed lines not followed by a line of the run are not part of
 * it (`end` is after its last dict line).
 *
 * 2. scan_steps(buf, base, total, armed): tqdm's log events (steps.py `StepTracker.scan` and
 * `_walk`, for a known train-bar total; the Python side handles "no total" and "disabled").
 *
 * What it recognises, in buf cut into segments at every "\r" and "\n":
 *   - a *clear*: a segment of 1..4097 spaces ended by "\r" (tqdm's "\r<spaces>\r");
 *   - after a clear (or from buf[0] when `armed`: a clear of an earlier buffer awaits its
 *     redraw), segments that are skipped: empty or ANSI escapes only (ESC [ params
 *     intermediates final), the message (`{'` or `{"` after any of ESC, "[", "A"), spaces only;
 *   - the first other segment closes the clear: with ESC[A removed, it is a tqdm redraw when
 *     it matches steps._REDRAW_RE (<=80 bytes without "|", whitespace, 1-3 digits, "%|", bar,
 *     "|", whitespace, N "/" T, whitespace, "[", where N and T are runs of 1..MAX_DIGITS
 *     digits: values.INT): with T == total a "step" N; another bar's redraw (T != total) is
 *     skipped unless it holds a "{"; any other text (a count or total of more digits too) is
 *     a "cancel".
 *
 * What it hands back: `(markers, armed)`: markers a list of (offset, kind, n, end) tuples in
 * buf order, offsets = base + index: ("open" at a clear whose redraw does not follow at once),
 * ("step" N at a redraw), ("cancel" at other text), or ("pair" N: a clear at offset, and
 * right after the skipped segments its redraw at end, complete, without any ESC: steps.py
 * `_FAST_RE`'s shape); `armed` is True when the last clear still awaits its redraw.
 * N and T have at most MAX_DIGITS digits, so they are read as long long (and are below 2^63).
 *
 * 3. spe_span(steps, epochs, spe, tol, halves, lo_epoch, hi_epoch): the common case of
 * steps.py `StepTracker.peek_batch` (its numpy form and epoch_bounds.py `spe_bounds_span` are the
 * reference): k queued steps (int64) paired with k epochs (float64), when every epoch is within
 * [lo_epoch, hi_epoch] and every step > 0 (else None: the Python path decides). Each ratio
 * step / epoch must be within tol * spe of spe (spe None: the first ratio), else False; then
 * what each pairing allows the steps per epoch to be, (step - slack) / (epoch + half) ..
 * (step + slack) / (epoch - half) with slack = floor(epoch) + 0.5 and half = halves[d] for the
 * fewest decimals d in 0..8 with |rint(epoch * 10^d) / 10^d - epoch| <= 1e-9 * max(1, epoch),
 * else 9. Returns (spe, max of the lows, min of the highs). The same IEEE operations as numpy's,
 * one element at a time (no mul-add to fuse), so the same bits; `halves` is numpy's table
 * (its 10**-5 is not C's).
 *
 * Safety: every read is checked against the buffer's length; a value is copied into a
 * NUL-terminated array before conversion (on the stack, or the heap past MAX_TOKEN bytes); a
 * segment with ESC[A is copied (without them) into a heap array of the segment's length.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <string.h>

#define MAX_TOKEN 127
/* values.MAX_DIGITS: the most digits of a bar's count or total (more: no bar; past 4300
 * digits Python's int() would raise). The module exports it; tests compare the two. */
#define MAX_DIGITS 18
/* The form of read_run's arguments and answer (columnar.RUN_FORM); a build of another form is
 * out of date (accel.is_current). 2: the run's columns laid out in C. */
#define RUN_FORM 2

typedef struct {
    const char *p;
    Py_ssize_t len;
} Key;

static int is_digit(char c) { return c >= '0' && c <= '9'; }

static int lower(char c) { return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c; }

/* [-+]? (digits .? digits* | . digits+) ([eE] [-+]? digits+)?  : the whole of t[0:n]. */
static int full_decimal(const char *t, Py_ssize_t n)
{
    Py_ssize_t i = 0;
    if (i < n && (t[i] == '-' || t[i] == '+'))
        i++;
    if (i < n && is_digit(t[i])) {
        while (i < n && is_digit(t[i]))
            i++;
        if (i < n && t[i] == '.')
            i++;
        while (i < n && is_digit(t[i]))
            i++;
    }
    else if (i + 1 < n && t[i] == '.' && is_digit(t[i + 1])) {
        i++;
        while (i < n && is_digit(t[i]))
            i++;
    }
    else {
        return 0;
    }
    if (i < n && (t[i] == 'e' || t[i] == 'E')) {
        i++;
        if (i < n && (t[i] == '-' || t[i] == '+'))
            i++;
        if (!(i < n && is_digit(t[i])))
            return 0;
        while (i < n && is_digit(t[i]))
            i++;
    }
    return i == n;
}

static int same(const char *t, Py_ssize_t n, const char *word, int any_case)
{
    Py_ssize_t w = (Py_ssize_t)strlen(word);
    if (n != w)
        return 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        if (any_case ? lower(t[i]) != word[i] : t[i] != word[i])
            return 0;
    }
    return 1;
}

/* values.NUM (bare) or values.FAST_QNUM (quoted), as a whole-token match. */
static int valid_number(const char *t, Py_ssize_t n, int quoted)
{
    if (full_decimal(t, n))
        return 1;
    if (n > 0 && (t[0] == '-' || t[0] == '+')) {
        t++;
        n--;
    }
    if (quoted)
        return same(t, n, "nan", 1) || same(t, n, "inf", 1) || same(t, n, "infinity", 1);
    return same(t, n, "nan", 0) || same(t, n, "NaN", 0) || same(t, n, "inf", 0) || same(t, n, "Infinity", 0);
}

/* One value at buf[i:]: its token [*ts, *ts + *tn) and the index after it; -1 when none.
 * A token ends at the first byte that can not be in it, so what follows must be the literal
 * the caller expects (", '" or "}"), as after the regex's value group. */
static Py_ssize_t value_at(const char *buf, Py_ssize_t len, Py_ssize_t i, Py_ssize_t *ts, Py_ssize_t *tn)
{
    int quoted = i < len && buf[i] == '\'';
    Py_ssize_t s = quoted ? i + 1 : i;
    Py_ssize_t j = s;
    while (j < len && buf[j] != '\'' && buf[j] != ',' && buf[j] != '}' && buf[j] != '\n' && buf[j] != '\r')
        j++;
    if (!valid_number(buf + s, j - s, quoted))
        return -1;
    if (quoted) {
        if (!(j < len && buf[j] == '\''))
            return -1;
        *ts = s;
        *tn = j - s;
        return j + 1;
    }
    *ts = s;
    *tn = j - s;
    return j;
}

/* Exact powers of ten: 10^22 is the largest a double holds exactly (5^22 < 2^53). */
static const double POW10[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                                 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

/* The value at buf[i:] read in one pass when it is a decimal (bare, or quoted) whose exact
 * conversion is sure to be the same bits as PyOS_string_to_double's: at most 19 significant
 * digits whose integer m <= 2^53 and a decimal exponent e with |e| <= 22. Then m and 10^|e| are
 * exact doubles and one IEEE multiplication or division rounds correctly, as a correctly
 * rounded strtod does (Clinger's fast path: W. D. Clinger, "How to read floating point numbers
 * accurately", PLDI 1990). Returns the index after the value, where `value_at` would end it
 * (after the closing quote of a quoted one); -1 for every other value (nan, inf, long or
 * extreme numbers, text that is not a number): `value_at` and the conversion read it then. */
static Py_ssize_t fast_value(const char *buf, Py_ssize_t len, Py_ssize_t i, double *out)
{
    int quoted = 0, neg = 0, digits = 0, seen = 0;
    unsigned long long m = 0;
    long e = 0;
    if (i < len && buf[i] == '\'') {
        quoted = 1;
        i++;
    }
    if (i < len && (buf[i] == '-' || buf[i] == '+'))
        neg = buf[i++] == '-';
    for (int frac = 0;; frac = 1) {
        for (; i < len && is_digit(buf[i]); i++) {
            seen = 1;
            if (m || buf[i] != '0') {
                if (++digits > 19)
                    return -1;
                m = m * 10 + (unsigned long long)(buf[i] - '0');
            }
            if (frac)
                e--;
        }
        if (frac || !(i < len && buf[i] == '.'))
            break;
        i++;
    }
    if (!seen)
        return -1; /* no digit: ".", "nan", "inf", ... */
    if (i < len && (buf[i] == 'e' || buf[i] == 'E')) {
        i++;
        int eneg = 0;
        long x = 0;
        if (i < len && (buf[i] == '-' || buf[i] == '+'))
            eneg = buf[i++] == '-';
        if (!(i < len && is_digit(buf[i])))
            return -1;
        for (; i < len && is_digit(buf[i]); i++) {
            if (x < 100000)
                x = x * 10 + (buf[i] - '0');
        }
        e += eneg ? -x : x;
    }
    /* The number must end where `value_at` ends a token. */
    if (!(i < len && (buf[i] == '\'' || buf[i] == ',' || buf[i] == '}' || buf[i] == '\n' || buf[i] == '\r')))
        return -1;
    if (quoted) {
        if (buf[i] != '\'')
            return -1;
        i++;
    }
    if (m > (1ULL << 53) || e < -22 || e > 22)
        return -1;
    double v = (double)m;
    v = e < 0 ? v / POW10[-e] : v * POW10[e];
    *out = neg ? -v : v;
    return i;
}

/* One dict line of the key sequence at buf[i] ("{" ... "}\n"): its values converted into
 * row[0:nk]; returns the index after its "\n", -1 when the line is not of this shape, -2 when
 * memory ran out. */
static Py_ssize_t line_at(const char *buf, Py_ssize_t len, Py_ssize_t i, const Key *keys, Py_ssize_t nk, double *row)
{
    char tok[MAX_TOKEN + 1];
    if (!(i < len && buf[i] == '{'))
        return -1;
    i++;
    for (Py_ssize_t k = 0; k < nk; k++) {
        if (k) {
            if (!(i + 1 < len && buf[i] == ',' && buf[i + 1] == ' '))
                return -1;
            i += 2;
        }
        /* 'key': */
        if (!(i + keys[k].len + 4 <= len && buf[i] == '\'' && memcmp(buf + i + 1, keys[k].p, (size_t)keys[k].len) == 0))
            return -1;
        i += 1 + keys[k].len;
        if (!(buf[i] == '\'' && buf[i + 1] == ':' && buf[i + 2] == ' '))
            return -1;
        i += 3;
        Py_ssize_t fast = fast_value(buf, len, i, &row[k]);
        if (fast >= 0) {
            i = fast;
            continue;
        }
        Py_ssize_t ts, tn;
        i = value_at(buf, len, i, &ts, &tn);
        if (i < 0)
            return -1;
        /* A NUL-terminated copy: the conversion never reads past the token. */
        char *t = tn <= MAX_TOKEN ? tok : PyMem_Malloc((size_t)tn + 1);
        if (t == NULL)
            return -2;
        memcpy(t, buf + ts, (size_t)tn);
        t[tn] = '\0';
        char *end = NULL;
        double v = PyOS_string_to_double(t, &end, NULL);
        int ok = !(v == -1.0 && PyErr_Occurred()) && end == t + tn;
        if (t != tok)
            PyMem_Free(t);
        if (!ok) {
            PyErr_Clear();
            return -1;
        }
        row[k] = v;
    }
    if (!(i + 1 < len && buf[i] == '}' && buf[i + 1] == '\n'))
        return -1;
    return i + 2;
}

/* CLEAR_PREFIX at buf[i]: the index of the "{" after it, or i when there is no prefix, or
 * -1 when the bytes are a prefix not followed by "{". */
static Py_ssize_t after_prefix(const char *buf, Py_ssize_t len, Py_ssize_t i)
{
    if (!(i < len && buf[i] == '\r'))
        return i;
    Py_ssize_t j = i;
    while (j < len && (buf[j] == ' ' || buf[j] == '\r'))
        j++;
    if (buf[j - 1] != '\r' || !(j < len && buf[j] == '{'))
        return -1;
    return j;
}

/* The digits at b[*i:] (1..MAX_DIGITS of them, a whole run: values.INT) skipped: 1, or 0. */
static int skip_int(const char *b, Py_ssize_t len, Py_ssize_t *i)
{
    Py_ssize_t j = *i;
    while (j < len && is_digit(b[j]))
        j++;
    if (j == *i || j - *i > MAX_DIGITS)
        return 0;
    *i = j;
    return 1;
}

/* Whether b[i:] starts with the n bytes of `lit`; then *i is moved past them. */
static int skip_lit(const char *b, Py_ssize_t len, Py_ssize_t *i, const char *lit, Py_ssize_t n)
{
    if (!(n <= len - *i && memcmp(b + *i, lit, (size_t)n) == 0))
        return 0;
    *i += n;
    return 1;
}

static Py_ssize_t skip_spaces(const char *b, Py_ssize_t len, Py_ssize_t i)
{
    while (i < len && b[i] == ' ')
        i++;
    return i;
}

/* [0-9:]* (clock) or [0-9.]* (rate) at b[i]: the index after them. */
static Py_ssize_t skip_digits_or(const char *b, Py_ssize_t len, Py_ssize_t i, char also)
{
    while (i < len && (is_digit(b[i]) || b[i] == also))
        i++;
    return i;
}

static int is_letter(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }

/* One line a run passes over at b[i] (columnar.PASSABLE, one of its lines, see the module
 * comment): the index after its "\n", or -1. */
static Py_ssize_t passable(const char *b, Py_ssize_t len, Py_ssize_t i)
{
    if (!(i < len))
        return -1;
    if (b[i] == '\n')
        return i + 1; /* a blank line */
    if (b[i] == '{')
        return -1; /* the common case: a dict line (decided at once) */
    if (b[i] == '\r')
        i++;
    i = skip_spaces(b, len, i);
    Py_ssize_t d = i;
    while (d < len && d - i < 3 && is_digit(b[d]))
        d++;
    if (d == i || !skip_lit(b, len, &d, "%|", 2))
        return -1;
    i = d;
    while (i < len && !is_letter(b[i]) && b[i] != '|' && b[i] != '\r' && b[i] != '\n' && b[i] != 0x1b && b[i] != '{' &&
           b[i] != '}')
        i++;
    if (!skip_lit(b, len, &i, "|", 1))
        return -1;
    i = skip_spaces(b, len, i);
    if (!skip_int(b, len, &i) || !skip_lit(b, len, &i, "/", 1) || !skip_int(b, len, &i))
        return -1;
    i = skip_spaces(b, len, i);
    if (!skip_lit(b, len, &i, "[", 1))
        return -1;
    Py_ssize_t j = skip_digits_or(b, len, i, ':');
    if (j == i || !skip_lit(b, len, &j, "<", 1))
        return -1;
    i = j;
    if (!skip_lit(b, len, &i, "?", 1)) {
        j = skip_digits_or(b, len, i, ':');
        if (j == i)
            return -1;
        i = j;
    }
    if (!skip_lit(b, len, &i, ",", 1))
        return -1;
    i = skip_spaces(b, len, i);
    if (!skip_lit(b, len, &i, "?it/s", 5)) {
        j = skip_digits_or(b, len, i, '.');
        if (j == i)
            return -1;
        i = j;
        if (!skip_lit(b, len, &i, "it/s", 4) && !skip_lit(b, len, &i, "s/it", 4))
            return -1;
    }
    if (!skip_lit(b, len, &i, "]\x1b[A\n", 5))
        return -1;
    return i;
}

static PyObject *read_run(PyObject *self, PyObject *args)
{
    Py_buffer view, dview;
    Py_ssize_t start, base, min_lines;
    PyObject *shapes_obj;
    if (!PyArg_ParseTuple(args, "y*nnO!y*n", &view, &start, &base, &PyTuple_Type, &shapes_obj, &dview, &min_lines))
        return NULL;
    PyObject *result = NULL;
    Key *keys = NULL;
    Py_ssize_t *first = NULL, *count = NULL, *colof = NULL;
    int *dest = NULL;
    double *vals = NULL;
    long long *offs = NULL;
    unsigned char *shape = NULL;
    const char *buf = (const char *)view.buf;
    Py_ssize_t len = view.len;
    Py_ssize_t ns = PyTuple_GET_SIZE(shapes_obj), total = 0, widest = 0;
    if (start < 0 || start > len || ns == 0 || ns > 255) {
        PyErr_SetString(PyExc_ValueError, "read_run: start out of range, or not 1 to 255 shapes");
        goto done;
    }
    first = PyMem_Calloc((size_t)ns, sizeof(Py_ssize_t));
    count = PyMem_Calloc((size_t)ns, sizeof(Py_ssize_t));
    if (first == NULL || count == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    for (Py_ssize_t q = 0; q < ns; q++) {
        PyObject *ks = PyTuple_GET_ITEM(shapes_obj, q);
        if (!PyTuple_Check(ks) || PyTuple_GET_SIZE(ks) == 0) {
            PyErr_SetString(PyExc_TypeError, "read_run: each shape must be a non-empty tuple of bytes");
            goto done;
        }
        first[q] = total;
        count[q] = PyTuple_GET_SIZE(ks);
        total += count[q];
        if (count[q] > widest)
            widest = count[q];
    }
    /* `dest`: per key of every shape (in order) its column's name id (0 <= id < total; keys of
     * one name in several shapes share it), -1 (not a metric: dropped) or -2 (the epoch). */
    if (dview.len != total * (Py_ssize_t)sizeof(int)) {
        PyErr_SetString(PyExc_ValueError, "read_run: dest must hold one int32 per key");
        goto done;
    }
    dest = PyMem_Malloc((size_t)total * sizeof(int)); /* (copied: the buffer may not be aligned) */
    if (dest == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    memcpy(dest, dview.buf, (size_t)total * sizeof(int));
    for (Py_ssize_t k = 0; k < total; k++) {
        if (dest[k] < -2 || dest[k] >= total) {
            PyErr_SetString(PyExc_ValueError, "read_run: a name id out of range");
            goto done;
        }
    }
    keys = PyMem_Calloc((size_t)total, sizeof(Key));
    colof = PyMem_Malloc((size_t)total * sizeof(Py_ssize_t));
    if (keys == NULL || colof == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    for (Py_ssize_t q = 0; q < ns; q++) {
        PyObject *ks = PyTuple_GET_ITEM(shapes_obj, q);
        for (Py_ssize_t k = 0; k < count[q]; k++) {
            PyObject *key = PyTuple_GET_ITEM(ks, k);
            if (!PyBytes_Check(key)) {
                PyErr_SetString(PyExc_TypeError, "read_run: keys must be bytes");
                goto done;
            }
            keys[first[q] + k].p = PyBytes_AS_STRING(key);
            keys[first[q] + k].len = PyBytes_GET_SIZE(key);
        }
    }
    /* rows: up to `cap` lines; values: up to `vcap` doubles (rows of different widths). */
    Py_ssize_t cap = 256, vcap = 256 * widest, n = 0, nv = 0;
    vals = PyMem_Malloc((size_t)vcap * sizeof(double));
    offs = PyMem_Malloc((size_t)cap * sizeof(long long));
    shape = PyMem_Malloc((size_t)cap);
    if (vals == NULL || offs == NULL || shape == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    Py_ssize_t i = start, end = start, cur = 0;
    int mixed = 0;
    while (i < len) {
        /* The first line has no prefix and is of the first shape; each next one may come after
         * passed lines, start with tqdm.write's clears and be of any of the shapes (the last
         * line's is tried first). */
        Py_ssize_t at = i;
        for (Py_ssize_t p; n && (p = passable(buf, len, at)) >= 0;)
            at = p;
        Py_ssize_t brace = n ? after_prefix(buf, len, at) : i;
        if (brace < 0)
            break;
        if (n == cap) {
            cap *= 2;
            long long *o2 = PyMem_Realloc(offs, (size_t)cap * sizeof(long long));
            if (o2 == NULL) {
                PyErr_NoMemory();
                goto done;
            }
            offs = o2;
            unsigned char *s2 = PyMem_Realloc(shape, (size_t)cap);
            if (s2 == NULL) {
                PyErr_NoMemory();
                goto done;
            }
            shape = s2;
        }
        if (nv + widest > vcap) {
            vcap = 2 * vcap;
            double *v2 = PyMem_Realloc(vals, (size_t)vcap * sizeof(double));
            if (v2 == NULL) {
                PyErr_NoMemory();
                goto done;
            }
            vals = v2;
        }
        Py_ssize_t next = line_at(buf, len, brace, keys + first[cur], count[cur], vals + nv);
        Py_ssize_t q = cur;
        for (Py_ssize_t t = 0; next == -1 && n && t < ns; t++) {
            if (t != cur) {
                q = t;
                next = line_at(buf, len, brace, keys + first[q], count[q], vals + nv);
            }
        }
        if (next == -2) {
            PyErr_NoMemory();
            goto done;
        }
        if (next < 0)
            break;
        cur = q;
        mixed |= q != 0;
        offs[n] = (long long)base + (long long)brace;
        shape[n] = (unsigned char)q;
        nv += count[q];
        n++;
        i = end = next;
    }
    if (n < min_lines || n == 0) {
        result = Py_NewRef(Py_None);
        goto done;
    }
    /* The shapes in order of their first line (`used`; the row shapes become indices into it),
     * and the run's columns: the name ids of those shapes' keys in that order, each once. */
    unsigned char used[255], pos[255];
    Py_ssize_t nu = 0, ncols = 0;
    memset(pos, 255, sizeof pos);
    for (Py_ssize_t r = 0; r < n; r++) {
        if (pos[shape[r]] == 255) {
            pos[shape[r]] = (unsigned char)nu;
            used[nu++] = shape[r];
        }
        if (mixed)
            shape[r] = pos[shape[r]];
    }
    for (Py_ssize_t k = 0; k < total; k++)
        colof[k] = -1;
    int has_epoch = 0;
    for (Py_ssize_t k = 0; k < count[0]; k++)
        has_epoch |= dest[k] == -2;
    for (Py_ssize_t u = 0; u < nu; u++) {
        for (Py_ssize_t k = first[used[u]]; k < first[used[u]] + count[used[u]]; k++) {
            if (dest[k] >= 0 && colof[dest[k]] < 0)
                colof[dest[k]] = ncols++;
        }
    }
    /* The values as the run's `Batch` holds them: n rows of ncols float64, NaN (numpy's: the
     * quiet NaN of positive sign) where a row's shape has no such metric; the epochs. */
    PyObject *v = PyByteArray_FromStringAndSize(NULL, n * ncols * (Py_ssize_t)sizeof(double));
    PyObject *ep = v == NULL ? NULL : has_epoch ? PyByteArray_FromStringAndSize(NULL, n * (Py_ssize_t)sizeof(double)) : Py_NewRef(Py_None);
    PyObject *o = ep == NULL ? NULL : PyByteArray_FromStringAndSize((const char *)offs, n * (Py_ssize_t)sizeof(long long));
    PyObject *sh = o == NULL ? NULL : PyBytes_FromStringAndSize(mixed ? (const char *)shape : NULL, mixed ? n : 0);
    PyObject *us = sh == NULL ? NULL : PyBytes_FromStringAndSize((const char *)used, nu);
    if (us == NULL) {
        Py_XDECREF(v);
        Py_XDECREF(ep);
        Py_XDECREF(o);
        Py_XDECREF(sh);
        goto done;
    }
    double nan;
    const unsigned long long nan_bits = 0x7ff8000000000000ULL;
    memcpy(&nan, &nan_bits, sizeof nan);
    double *dv = (double *)PyByteArray_AS_STRING(v);
    double *de = has_epoch ? (double *)PyByteArray_AS_STRING(ep) : NULL;
    for (Py_ssize_t c = 0; c < n * ncols; c++)
        dv[c] = nan;
    const double *src = vals;
    for (Py_ssize_t r = 0; r < n; r++) {
        Py_ssize_t q = mixed ? used[shape[r]] : 0;
        const int *d = dest + first[q];
        double *row = dv + r * ncols;
        if (de != NULL)
            de[r] = nan; /* (every shape of a run has an epoch when its first has: run_plans) */
        for (Py_ssize_t k = 0; k < count[q]; k++) {
            if (d[k] >= 0)
                row[colof[d[k]]] = src[k];
            else if (d[k] == -2 && de != NULL)
                de[r] = src[k];
        }
        src += count[q];
    }
    result = Py_BuildValue("nNNNNN", (Py_ssize_t)(base + end), us, v, ep, o, sh);
done:
    PyMem_Free(keys);
    PyMem_Free(first);
    PyMem_Free(count);
    PyMem_Free(colof);
    PyMem_Free(dest);
    PyMem_Free(vals);
    PyMem_Free(offs);
    PyMem_Free(shape);
    PyBuffer_Release(&view);
    PyBuffer_Release(&dview);
    return result;
}

/* -- 2. tqdm log events (steps.py `StepTracker.scan`, `_walk`) ---------------------------- */

#define MAX_CLEAR 4097 /* the longest clear, in spaces (what steps.py's scan accepts) */
#define MAX_PREFIX 80  /* bytes before a redraw's percentage (steps._REDRAW_RE) */

typedef struct {
    const unsigned char *b;
    Py_ssize_t len;
    Py_ssize_t base;        /* stream offset of b[0] */
    PyObject *total;        /* the train bar's total, a Python int */
    long long total_ll;     /* the same, when total_fits */
    int total_fits;
    int armed;              /* a clear awaits its redraw */
    PyObject *out;          /* the markers */
    unsigned char *scratch; /* a segment without its ESC[A; len bytes, allocated when needed */
} Steps;

static PyObject *K_OPEN, *K_STEP, *K_CANCEL, *K_PAIR, *ZERO;

static int is_space(unsigned char c) /* re's \\s for bytes */
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/* The index of the first "\r" or "\n" at or after i, or len. */
static Py_ssize_t next_sep(const unsigned char *b, Py_ssize_t len, Py_ssize_t i)
{
    while (i < len && b[i] != '\r' && b[i] != '\n')
        i++;
    return i;
}

/* steps._ESC_ONLY_RE.fullmatch(b[i:e]): (ESC "[" [0-9;?]* [ -/]* [@-~])*, empty included.
 * The classes are disjoint, so the greedy reading is the only one. */
static int esc_only(const unsigned char *b, Py_ssize_t i, Py_ssize_t e)
{
    while (i < e) {
        if (!(b[i] == 0x1b && i + 1 < e && b[i + 1] == '['))
            return 0;
        i += 2;
        while (i < e && (is_digit((char)b[i]) || b[i] == ';' || b[i] == '?'))
            i++;
        while (i < e && b[i] >= 0x20 && b[i] <= 0x2f)
            i++;
        if (!(i < e && b[i] >= 0x40 && b[i] <= 0x7e))
            return 0;
        i++;
    }
    return 1;
}

/* The segments `_walk` passes over: escapes only, the message itself, spaces only. */
static int skipped(const unsigned char *b, Py_ssize_t a, Py_ssize_t e)
{
    if (esc_only(b, a, e))
        return 1;
    Py_ssize_t i = a; /* seg.lstrip(b"\x1b[A").startswith((b"{'", b'{"')) */
    while (i < e && (b[i] == 0x1b || b[i] == '[' || b[i] == 'A'))
        i++;
    if (i + 1 < e && b[i] == '{' && (b[i + 1] == '\'' || b[i + 1] == '"'))
        return 1;
    for (i = a; i < e; i++) /* not seg.strip(b" ") */
        if (b[i] != ' ')
            return 0;
    return 1;
}

/* b[a:e].replace(b"\x1b[A", b"") (one pass, left to right, as bytes.replace): a pointer to
 * the segment itself when it has no ESC, else to s->scratch; its length in *m. NULL when out of
 * memory (with the exception set). */
static const unsigned char *cleaned(Steps *s, Py_ssize_t a, Py_ssize_t e, Py_ssize_t *m)
{
    const unsigned char *b = s->b;
    if (memchr(b + a, 0x1b, (size_t)(e - a)) == NULL) {
        *m = e - a;
        return b + a;
    }
    if (s->scratch == NULL) {
        s->scratch = PyMem_Malloc((size_t)s->len);
        if (s->scratch == NULL) {
            PyErr_NoMemory();
            return NULL;
        }
    }
    Py_ssize_t k = 0;
    for (Py_ssize_t i = a; i < e;) {
        if (b[i] == 0x1b && i + 2 < e && b[i + 1] == '[' && b[i + 2] == 'A') {
            i += 3;
            continue;
        }
        s->scratch[k++] = b[i++];
    }
    *m = k;
    return s->scratch;
}

/* steps._REDRAW_RE.match(c[0:m]) for a segment (no "\r" or "\n" in it): 1 with N's digits at
 * c[*ns:*ns + *nn] and T's at c[*ts:*ts + *tn], else 0.
 * The 80-byte prefix holds no "|", so the first "|" is the one after "%"; the match exists when
 * 1-3 digits stand before that "%", with only whitespace between them and byte 80 at most (more
 * digits, up to 3, can only start earlier). N and T are whole digit runs ("/" and "[" follow)
 * of at most MAX_DIGITS digits (values.INT). */
static int redraw(const unsigned char *c, Py_ssize_t m, Py_ssize_t *ns, Py_ssize_t *nn, Py_ssize_t *ts, Py_ssize_t *tn)
{
    const unsigned char *q = memchr(c, '|', (size_t)m);
    if (q == NULL)
        return 0;
    Py_ssize_t bar = q - c;
    if (bar < 2 || c[bar - 1] != '%')
        return 0;
    Py_ssize_t pct = bar - 1, j = pct;
    while (j > 0 && pct - j < 3 && is_digit((char)c[j - 1]))
        j--;
    if (j == pct)
        return 0;
    while (j > 0 && is_space(c[j - 1]))
        j--;
    if (j > MAX_PREFIX)
        return 0;
    q = memchr(c + bar + 1, '|', (size_t)(m - bar - 1));
    if (q == NULL)
        return 0;
    Py_ssize_t i = (q - c) + 1;
    while (i < m && is_space(c[i]))
        i++;
    *ns = i;
    while (i < m && is_digit((char)c[i]))
        i++;
    *nn = i - *ns;
    if (*nn == 0 || *nn > MAX_DIGITS || !(i < m && c[i] == '/'))
        return 0;
    *ts = ++i;
    while (i < m && is_digit((char)c[i]))
        i++;
    *tn = i - *ts;
    if (*tn == 0 || *tn > MAX_DIGITS)
        return 0;
    while (i < m && is_space(c[i]))
        i++;
    return i < m && c[i] == '[';
}

/* int(c[0:n]) for 1..MAX_DIGITS ASCII digits (below 10^18 < 2^63: no overflow). */
static long long digits_ll(const unsigned char *c, Py_ssize_t n)
{
    long long v = 0;
    for (Py_ssize_t i = 0; i < n; i++)
        v = v * 10 + (c[i] - '0');
    return v;
}

/* int(c[0:n]) == total for 1..MAX_DIGITS digits: 1 or 0 (a total past long long equals none). */
static int is_total(Steps *s, const unsigned char *c, Py_ssize_t n)
{
    return s->total_fits && digits_ll(c, n) == s->total_ll;
}

/* Append (base + at, kind, n, base + end); n NULL for 0, or digits to convert. 0, or -1. */
static int emit(Steps *s, Py_ssize_t at, PyObject *kind, const unsigned char *digits, Py_ssize_t nd, Py_ssize_t end)
{
    /* The tuple is filled item by item: Py_BuildValue parsed its format string for every
     * marker (~1000 instructions each, a third of the scan on a tqdm log). */
    PyObject *n = digits == NULL ? Py_NewRef(ZERO) : PyLong_FromLongLong(digits_ll(digits, nd));
    if (n == NULL)
        return -1;
    PyObject *t = PyTuple_New(4), *off = PyLong_FromSsize_t(s->base + at);
    PyObject *fin = end == at ? Py_XNewRef(off) : PyLong_FromSsize_t(s->base + end);
    if (t == NULL || off == NULL || fin == NULL) {
        Py_XDECREF(t);
        Py_XDECREF(off);
        Py_XDECREF(fin);
        Py_DECREF(n);
        return -1;
    }
    PyTuple_SET_ITEM(t, 0, off);
    PyTuple_SET_ITEM(t, 1, Py_NewRef(kind));
    PyTuple_SET_ITEM(t, 2, n);
    PyTuple_SET_ITEM(t, 3, fin);
    int r = PyList_Append(s->out, t);
    Py_DECREF(t);
    return r;
}

/* The segment b[a:e] that closes the open clear, as `_walk` judges it: 1 when it does (a
 * "step" or "cancel" appended), 0 for another bar's redraw (the walk goes on), -1 on error. */
static int close_at(Steps *s, Py_ssize_t a, Py_ssize_t e)
{
    Py_ssize_t m, ns, nn, ts, tn;
    const unsigned char *c = cleaned(s, a, e, &m);
    if (c == NULL)
        return -1;
    if (redraw(c, m, &ns, &nn, &ts, &tn)) {
        if (is_total(s, c + ts, tn))
            return emit(s, a, K_STEP, c + ns, nn, a) < 0 ? -1 : 1;
        if (memchr(s->b + a, '{', (size_t)(e - a)) == NULL)
            return 0;
    }
    return emit(s, a, K_CANCEL, NULL, 0, a) < 0 ? -1 : 1;
}

/* `_walk` from b[pos] (a segment start): where the scan goes on (the closing segment's
 * separator, or len), or -1 on error. */
static Py_ssize_t walk(Steps *s, Py_ssize_t pos)
{
    while (pos < s->len) {
        Py_ssize_t e = next_sep(s->b, s->len, pos);
        if (!skipped(s->b, pos, e)) {
            int r = close_at(s, pos, e);
            if (r < 0)
                return -1;
            if (r) {
                s->armed = 0;
                return e;
            }
        }
        if (e >= s->len)
            return s->len;
        pos = e + 1;
    }
    return s->len;
}

/* A clear b[st:r] + "\r": a "pair" when, past the skipped segments, the first other one is
 * the train bar's redraw, ended by a separator and without ESC (steps._FAST_RE's shape); else
 * an "open" and the walk. Where the scan goes on, or -1 on error. */
static Py_ssize_t after_clear(Steps *s, Py_ssize_t st, Py_ssize_t r)
{
    const unsigned char *b = s->b;
    Py_ssize_t pos = r + 1, len = s->len;
    while (pos < len) {
        Py_ssize_t e = next_sep(b, len, pos);
        if (!skipped(b, pos, e)) {
            Py_ssize_t ns, nn, ts, tn;
            if (e < len && memchr(b + pos, 0x1b, (size_t)(e - pos)) == NULL &&
                redraw(b + pos, e - pos, &ns, &nn, &ts, &tn)) {
                if (is_total(s, b + pos + ts, tn))
                    return emit(s, st, K_PAIR, b + pos + ns, nn, pos) < 0 ? -1 : e;
            }
            break;
        }
        if (e >= len) {
            pos = len;
            break;
        }
        pos = e + 1;
    }
    if (emit(s, st, K_OPEN, NULL, 0, st) < 0)
        return -1;
    s->armed = 1;
    return walk(s, pos);
}

static PyObject *scan_steps(PyObject *self, PyObject *args)
{
    Py_buffer view;
    Py_ssize_t base;
    PyObject *total;
    int armed;
    if (!PyArg_ParseTuple(args, "y*nO!p", &view, &base, &PyLong_Type, &total, &armed))
        return NULL;
    PyObject *result = NULL;
    Steps s = {(const unsigned char *)view.buf, view.len, base, total, 0, 0, armed, NULL, NULL};
    int overflow = 0;
    s.total_ll = PyLong_AsLongLongAndOverflow(total, &overflow);
    if (s.total_ll == -1 && PyErr_Occurred())
        goto done;
    s.total_fits = !overflow;
    s.out = PyList_New(0);
    if (s.out == NULL)
        goto done;
    const unsigned char *b = s.b;
    Py_ssize_t len = s.len, pos = 0;
    if (s.armed && (pos = walk(&s, 0)) < 0)
        goto done;
    /* Each clear in order: a "\r" after a run of 1..MAX_CLEAR spaces that is a whole segment
     * (it starts at b[0] or after a separator), at or after pos. */
    Py_ssize_t from = pos;
    while (from < len) {
        const unsigned char *q = memchr(b + from, '\r', (size_t)(len - from));
        if (q == NULL)
            break;
        Py_ssize_t r = q - b, st = r;
        from = r + 1;
        while (st > 0 && r - st < MAX_CLEAR + 1 && b[st - 1] == ' ')
            st--;
        if (st == r || r - st > MAX_CLEAR || (st > 0 && b[st - 1] != '\r' && b[st - 1] != '\n') || st < pos)
            continue; /* no spaces, too many, not a whole segment, or before pos */
        if ((pos = after_clear(&s, st, r)) < 0)
            goto done;
        from = pos;
    }
    result = Py_BuildValue("(OO)", s.out, s.armed ? Py_True : Py_False);
done:
    Py_XDECREF(s.out);
    PyMem_Free(s.scratch);
    PyBuffer_Release(&view);
    return result;
}

static const double P10[9] = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8};

static PyObject *spe_span(PyObject *self, PyObject *args)
{
    Py_buffer sv, ev, hv;
    PyObject *spe_obj, *result = NULL;
    double tol, lo_epoch, hi_epoch;
    (void)self;
    if (!PyArg_ParseTuple(args, "y*y*Ody*dd", &sv, &ev, &spe_obj, &tol, &hv, &lo_epoch, &hi_epoch))
        return NULL;
    Py_ssize_t k = sv.len / (Py_ssize_t)sizeof(long long);
    if (k < 1 || sv.len != k * (Py_ssize_t)sizeof(long long) || ev.len != k * (Py_ssize_t)sizeof(double) ||
        hv.len != 10 * (Py_ssize_t)sizeof(double)) {
        PyErr_SetString(PyExc_ValueError, "spe_span: k >= 1 int64 steps, k float64 epochs, 10 float64 halves");
        goto done;
    }
    const long long *st = (const long long *)sv.buf;
    const double *ep = (const double *)ev.buf, *halves = (const double *)hv.buf;
    for (Py_ssize_t i = 0; i < k; i++) {
        if (!(ep[i] >= lo_epoch && ep[i] <= hi_epoch) || st[i] <= 0) { /* (a NaN epoch too) */
            result = Py_NewRef(Py_None);
            goto done;
        }
    }
    double spe;
    if (spe_obj == Py_None)
        spe = (double)st[0] / ep[0];
    else if ((spe = PyFloat_AsDouble(spe_obj)) == -1.0 && PyErr_Occurred())
        goto done;
    double limit = tol * spe, lo_max = -INFINITY, hi_min = INFINITY;
    for (Py_ssize_t i = 0; i < k; i++) {
        double e = ep[i], s = (double)st[i];
        if (fabs(s / e - spe) > limit) {
            result = Py_NewRef(Py_False);
            goto done;
        }
        double tiny = 1e-9 * (e > 1.0 ? e : 1.0);
        int d = 9;
        for (int j = 0; j < 9; j++) {
            double t = rint(e * P10[j]) / P10[j] - e;
            if (fabs(t) <= tiny) {
                d = j;
                break;
            }
        }
        double half = halves[d], slack = floor(e) + 0.5;
        double lo = (s - slack) / (e + half), hi = (s + slack) / (e - half);
        if (lo > lo_max)
            lo_max = lo;
        if (hi < hi_min)
            hi_min = hi;
    }
    result = Py_BuildValue("(ddd)", spe, lo_max, hi_min);
done:
    PyBuffer_Release(&sv);
    PyBuffer_Release(&ev);
    PyBuffer_Release(&hv);
    return result;
}

/* 4. survey(buf, groups): the console reader's per-chunk prefilters in one pass (framing.py
 * `Surveyor`: one `has_any` per group and `buf.count(b"{")` are the reference).
 *
 * `groups` is a tuple of at most 32 tuples of non-empty bytes (at most SURVEY_WORDS words in
 * all). Returns `(found, braces)`: `found` has bit i set when a word of groups[i] occurs in buf,
 * `braces` is the number of "{" bytes in buf.
 *
 * The pass goes by blocks of SURVEY_BLOCK bytes; per block a loop the compiler vectorises counts
 * the "{" and tells whether any byte lies between the least and the greatest first byte of the
 * words (capital letters and ">": none in a chunk of tqdm bars and metric dicts but the "A" of
 * ESC[A). Only such blocks are looked at byte by byte, each word compared where its first byte is
 * (a word may run past its block, never past buf).
 */
#define SURVEY_BLOCK 128
#define SURVEY_WORDS 64

typedef struct {
    const unsigned char *p;
    Py_ssize_t len;
    unsigned int bit;
} Word;

/* The groups' bits of the words starting in b[a:e] (of buf b, len bytes), added to found. */
static unsigned int survey_words(const unsigned char *b, Py_ssize_t len, Py_ssize_t a, Py_ssize_t e,
                                 const Word *words, Py_ssize_t nw, const unsigned char *first,
                                 unsigned int found)
{
    for (Py_ssize_t i = a; i < e; i++) {
        if (!first[b[i]])
            continue;
        for (Py_ssize_t k = 0; k < nw; k++) {
            const Word *w = &words[k];
            if (!(found & w->bit) && w->p[0] == b[i] && w->len <= len - i && memcmp(b + i, w->p, (size_t)w->len) == 0)
                found |= w->bit;
        }
    }
    return found;
}

static PyObject *survey(PyObject *self, PyObject *args)
{
    Py_buffer view;
    PyObject *groups, *result = NULL;
    (void)self;
    if (!PyArg_ParseTuple(args, "y*O!", &view, &PyTuple_Type, &groups))
        return NULL;
    Word words[SURVEY_WORDS];
    unsigned char first[256] = {0};
    Py_ssize_t nw = 0, ng = PyTuple_GET_SIZE(groups);
    unsigned int lo = 255, hi = 0;
    if (ng > 32) {
        PyErr_SetString(PyExc_ValueError, "survey: at most 32 groups");
        goto done;
    }
    for (Py_ssize_t g = 0; g < ng; g++) {
        PyObject *group = PyTuple_GET_ITEM(groups, g);
        if (!PyTuple_Check(group)) {
            PyErr_SetString(PyExc_TypeError, "survey: each group is a tuple of bytes");
            goto done;
        }
        for (Py_ssize_t k = 0; k < PyTuple_GET_SIZE(group); k++) {
            PyObject *word = PyTuple_GET_ITEM(group, k);
            if (!PyBytes_Check(word) || PyBytes_GET_SIZE(word) < 1 || nw == SURVEY_WORDS) {
                PyErr_SetString(PyExc_ValueError, "survey: words are non-empty bytes, at most 64 of them");
                goto done;
            }
            const unsigned char *p = (const unsigned char *)PyBytes_AS_STRING(word);
            words[nw].p = p;
            words[nw].len = PyBytes_GET_SIZE(word);
            words[nw].bit = 1u << g;
            nw++;
            first[p[0]] = 1;
            if (p[0] < lo)
                lo = p[0];
            if (p[0] > hi)
                hi = p[0];
        }
    }
    const unsigned char *b = (const unsigned char *)view.buf;
    Py_ssize_t len = view.len, braces = 0, i = 0;
    unsigned int found = 0, all = 0;
    for (Py_ssize_t g = 0; g < ng; g++)
        all |= 1u << g;
    /* With no word, no byte is in the range (lo > hi): every block counts its "{" only. */
    const unsigned char base = (unsigned char)lo, span = (unsigned char)(nw ? hi - lo : 0);
    const int none = nw == 0;
    for (; i + SURVEY_BLOCK <= len; i += SURVEY_BLOCK) {
        unsigned char count = 0, in = 0;
        for (int j = 0; j < SURVEY_BLOCK; j++) {
            unsigned char c = b[i + j];
            count += c == '{';
            in |= (unsigned char)(c - base) <= span;
        }
        braces += count;
        if (in && !none && found != all)
            found = survey_words(b, len, i, i + SURVEY_BLOCK, words, nw, first, found);
    }
    for (Py_ssize_t j = i; j < len; j++)
        braces += b[j] == '{';
    if (!none && found != all)
        found = survey_words(b, len, i, len, words, nw, first, found);
    result = Py_BuildValue("(In)", found, braces);
done:
    PyBuffer_Release(&view);
    return result;
}

/* 5. run_moves(steps, epochs, m, shapes, start, kinds, last_step, last_epoch): boundaries.py
 * `row_moves` (the reference: its docstring says what each field means) in one pass over the m
 * rows of a columnar run: the rewind rule and the logging interval of its train rows.
 *
 * `steps` holds k <= m int64 (the steps of the first k rows), `epochs` m float64 or is None,
 * `shapes` (None: every row of shape 0) holds uint8 shape indices of which rows start..start+m-1
 * are read, `kinds` is the list of the shapes' kinds (str; a row is a train row when its
 * shape's kind is "train"), `last_step` an int or None, `last_epoch` a float or None. Row by
 * row, for the train rows only: a row with a step goes back when its step is lower than the
 * train row's before it (the first: than last_step); a row without one when its epoch is lower
 * (the first: than last_epoch); NaN is lower than nothing. Else the smallest positive step and
 * epoch difference between consecutive train rows (from last_step / last_epoch on), and the
 * last train row's step and epoch; with every row, the last step and epoch of any row.
 *
 * What it hands back: the same 7-tuple as `row_moves`, or None for what it leaves to Python: a
 * buffer that is not C-contiguous, of another item size or format, or shorter than said; k > m;
 * a negative step (a tqdm count never is: differences of non-negative int64 never overflow); a
 * last_step that is negative or no int64; a last_epoch that is no float; a shape index past
 * `kinds`. Each difference is the one IEEE subtraction numpy makes (epochs) or exact (steps).
 */

/* A C-contiguous buffer of `itemsize`-byte items whose struct format ends in one of `codes`
 * (numpy's int64 is "l" on LP64, float64 "d", uint8 "B"); 0 (no error set) when `obj` is none. */
static int get_items(PyObject *obj, Py_buffer *view, Py_ssize_t itemsize, const char *codes)
{
    if (PyObject_GetBuffer(obj, view, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) < 0) {
        PyErr_Clear();
        return 0;
    }
    const char *f = view->format != NULL ? view->format : "B";
    size_t n = strlen(f);
    if (view->itemsize != itemsize || n == 0 || n > 2 || (n == 2 && f[0] != '<' && f[0] != '=' && f[0] != '@') ||
        strchr(codes, f[n - 1]) == NULL) {
        PyBuffer_Release(view);
        return 0;
    }
    return 1;
}

static PyObject *run_moves(PyObject *self, PyObject *args)
{
    PyObject *st_obj, *ep_obj, *sh_obj, *kinds, *last_step_obj, *last_epoch_obj;
    Py_ssize_t m, start;
    (void)self;
    if (!PyArg_ParseTuple(args, "OOnOnO!OO", &st_obj, &ep_obj, &m, &sh_obj, &start, &PyList_Type, &kinds,
                          &last_step_obj, &last_epoch_obj))
        return NULL;
    Py_buffer sv, ev, hv;
    int have_ep = 0, have_sh = 0;
    PyObject *result = NULL;
    if (!get_items(st_obj, &sv, 8, "lq"))
        Py_RETURN_NONE;
    if (ep_obj != Py_None && !(have_ep = get_items(ep_obj, &ev, 8, "d")))
        goto pass;
    if (sh_obj != Py_None && !(have_sh = get_items(sh_obj, &hv, 1, "B")))
        goto pass;
    Py_ssize_t k = sv.len / 8, nk = PyList_GET_SIZE(kinds);
    if (m < 0 || start < 0 || k > m || nk < 1 || nk > 256 || (have_ep && ev.len / 8 < m) ||
        (have_sh && (start > hv.len || hv.len - start < m)))
        goto pass;
    unsigned char train[256];
    for (Py_ssize_t p = 0; p < nk; p++) {
        PyObject *kind = PyList_GET_ITEM(kinds, p);
        train[p] = PyUnicode_Check(kind) && PyUnicode_CompareWithASCIIString(kind, "train") == 0;
    }
    long long prev_step = 0;
    /* train_step / train_ep: a train row set prev_step / prev_ep (its last step / epoch). */
    int has_prev_step = 0, has_prev_ep = 0, has_step_gap = 0, has_ep_gap = 0, train_step = 0, train_ep = 0;
    double prev_ep = 0.0, ep_gap = 0.0;
    long long step_gap = 0;
    if (last_step_obj != Py_None) {
        int overflow = 0;
        if (!PyLong_Check(last_step_obj))
            goto pass;
        prev_step = PyLong_AsLongLongAndOverflow(last_step_obj, &overflow);
        if (overflow || prev_step < 0) {
            PyErr_Clear();
            goto pass;
        }
        has_prev_step = 1;
    }
    if (last_epoch_obj != Py_None) {
        if (!PyFloat_CheckExact(last_epoch_obj))
            goto pass;
        prev_ep = PyFloat_AS_DOUBLE(last_epoch_obj);
        has_prev_ep = 1;
    }
    const long long *st = (const long long *)sv.buf;
    const double *ep = have_ep ? (const double *)ev.buf : NULL;
    const unsigned char *sh = have_sh ? (const unsigned char *)hv.buf + start : NULL;
    for (Py_ssize_t i = 0; i < k; i++)
        if (st[i] < 0)
            goto pass;
    if (sh != NULL)
        for (Py_ssize_t i = 0; i < m; i++)
            if (sh[i] >= nk)
                goto pass;
    for (Py_ssize_t i = 0; i < m; i++) {
        if (!train[sh != NULL ? sh[i] : 0])
            continue;
        if (i < k) {
            long long s = st[i];
            if (has_prev_step && s < prev_step)
                goto back;
            if (has_prev_step && s > prev_step && (!has_step_gap || s - prev_step < step_gap)) {
                step_gap = s - prev_step;
                has_step_gap = 1;
            }
            prev_step = s;
            has_prev_step = train_step = 1;
        }
        if (ep != NULL) {
            double e = ep[i];
            if (i >= k && has_prev_ep && e < prev_ep)
                goto back;
            if (has_prev_ep && e > prev_ep && (!has_ep_gap || e - prev_ep < ep_gap)) {
                ep_gap = e - prev_ep;
                has_ep_gap = 1;
            }
            prev_ep = e;
            has_prev_ep = train_ep = 1;
        }
        continue;
    back:
        result = Py_BuildValue("(nOOOOOO)", i, Py_None, Py_None, Py_None, Py_None, Py_None, Py_None);
        goto done;
    }
    {
        PyObject *items[6] = {
            has_step_gap ? PyLong_FromLongLong(step_gap) : Py_NewRef(Py_None),
            has_ep_gap ? PyFloat_FromDouble(ep_gap) : Py_NewRef(Py_None),
            train_step ? PyLong_FromLongLong(prev_step) : Py_NewRef(Py_None),
            train_ep ? PyFloat_FromDouble(prev_ep) : Py_NewRef(Py_None),
            k ? PyLong_FromLongLong(st[k - 1]) : Py_NewRef(Py_None),
            ep != NULL && m ? PyFloat_FromDouble(ep[m - 1]) : Py_NewRef(Py_None),
        };
        int ok = 1;
        for (int j = 0; j < 6; j++)
            ok = ok && items[j] != NULL;
        if (ok)
            result = PyTuple_Pack(7, Py_None, items[0], items[1], items[2], items[3], items[4], items[5]);
        for (int j = 0; j < 6; j++)
            Py_XDECREF(items[j]);
    }
    goto done;
pass:
    result = Py_NewRef(Py_None);
done:
    PyBuffer_Release(&sv);
    if (have_ep)
        PyBuffer_Release(&ev);
    if (have_sh)
        PyBuffer_Release(&hv);
    return result;
}

static PyMethodDef methods[] = {
    {"read_run", read_run, METH_VARARGS,
     "read_run(buf, start, base, shapes, dest, min_lines) -> (end, used, values, epochs, offsets, row_shapes) | None: "
     "the run of dict lines of the key sequences `shapes` at buf[start], as the columns of its Batch (see the module "
     "comment)."},
    {"scan_steps", scan_steps, METH_VARARGS,
     "scan_steps(buf, base, total, armed) -> (markers, armed): tqdm's log events in buf, as "
     "steps.StepTracker.scan finds them for a known train-bar total (see the module comment)."},
    {"spe_span", spe_span, METH_VARARGS,
     "spe_span(steps, epochs, spe, tol, halves, lo_epoch, hi_epoch) -> (spe, lo, hi) | False | None: "
     "steps.StepTracker.peek_batch's common case (see the module comment)."},
    {"survey", survey, METH_VARARGS,
     "survey(buf, groups) -> (found, braces): which word groups occur in buf (a bit each) and how many "
     "\"{\" it holds, in one pass (see the comment above the function)."},
    {"run_moves", run_moves, METH_VARARGS,
     "run_moves(steps, epochs, m, shapes, start, kinds, last_step, last_epoch) -> 7-tuple | None: "
     "boundaries.row_moves over a columnar run's rows in one pass (see the comment above the function)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_scan", "The compiled columnar run reader, tqdm log-event scan and steps-per-epoch check (see columnar.py, steps.py).", -1, methods,
    NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__scan(void)
{
    K_OPEN = PyUnicode_InternFromString("open");
    K_STEP = PyUnicode_InternFromString("step");
    K_CANCEL = PyUnicode_InternFromString("cancel");
    K_PAIR = PyUnicode_InternFromString("pair");
    ZERO = PyLong_FromLong(0);
    if (K_OPEN == NULL || K_STEP == NULL || K_CANCEL == NULL || K_PAIR == NULL || ZERO == NULL)
        return NULL;
    PyObject *m = PyModule_Create(&module);
    if (m != NULL && (PyModule_AddIntConstant(m, "MAX_DIGITS", MAX_DIGITS) < 0 ||
                      PyModule_AddIntConstant(m, "RUN_FORM", RUN_FORM) < 0)) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
