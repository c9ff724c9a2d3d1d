/*
 * _scan: the compiled form of the columnar run reader (tui_monitor/core/parse/columnar.py).
 *
 * What it recognises: a *run* of console lines that are flat metric dicts of one known key
 * sequence, exactly what `ShapePlan.run` (a regex) matches:
 *
 *     {'k0': V, 'k1': V, ...}\n            the first line (starting at the given offset)
 *     P{'k0': V, 'k1': V, ...}\n           each next line, P = CLEAR_PREFIX: nothing, or "\r",
 *                                          or "\r" [ \r]* "\r" (tqdm.write's clears)
 *
 * where each V is a bare number (values.NUM: [-+]?digits[.digits][e[-+]digits], .digits[e..],
 * or [-+]?nan|NaN|inf|Infinity) or a quoted one ('…' around values.FAST_QNUM: the same
 * numbers, or nan / inf / infinity in any case).
 *
 * What it hands back: `read_run(buf, start, keys, min_lines)` returns None when fewer than
 * `min_lines` whole lines match, else `(end, values, offsets)`: `end` the index just past the
 * run's last "\n", `values` a bytearray of n * len(keys) float64 (row-major, each value
 * converted by PyOS_string_to_double, the very function behind Python's float(), so every bit
 * is the same), `offsets` a bytearray of n int64: the index of each line's "{".
 * A line of another shape, or any other text, ends the run there (the Python path reads it).
 *
 * Safety: every read is checked against the buffer's length; a value is copied into a
 * NUL-terminated array before conversion (on the stack, or the heap past MAX_TOKEN bytes).
 * The Python side (columnar.py) stays the reference for every rule;
 * tests/parse/test_scan_paths.py compares both on every fixture, generated and random logs.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <string.h>

#define MAX_TOKEN 127

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

static PyObject *read_run(PyObject *self, PyObject *args)
{
    Py_buffer view;
    Py_ssize_t start, min_lines;
    PyObject *keys_obj;
    if (!PyArg_ParseTuple(args, "y*nO!n", &view, &start, &PyTuple_Type, &keys_obj, &min_lines))
        return NULL;
    PyObject *result = NULL;
    Key *keys = NULL;
    double *vals = NULL;
    long long *offs = NULL;
    const char *buf = (const char *)view.buf;
    Py_ssize_t len = view.len;
    Py_ssize_t nk = PyTuple_GET_SIZE(keys_obj);
    if (start < 0 || start > len || nk == 0) {
        PyErr_SetString(PyExc_ValueError, "read_run: start out of range or no keys");
        goto done;
    }
    keys = PyMem_Calloc((size_t)nk, sizeof(Key));
    if (keys == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    for (Py_ssize_t k = 0; k < nk; k++) {
        PyObject *key = PyTuple_GET_ITEM(keys_obj, k);
        if (!PyBytes_Check(key)) {
            PyErr_SetString(PyExc_TypeError, "read_run: keys must be bytes");
            goto done;
        }
        keys[k].p = PyBytes_AS_STRING(key);
        keys[k].len = PyBytes_GET_SIZE(key);
    }
    Py_ssize_t cap = 256, n = 0;
    vals = PyMem_Malloc((size_t)cap * (size_t)nk * sizeof(double));
    offs = PyMem_Malloc((size_t)cap * sizeof(long long));
    if (vals == NULL || offs == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    Py_ssize_t i = start, end = start;
    while (i < len) {
        Py_ssize_t brace = n ? after_prefix(buf, len, i) : i;
        if (brace < 0)
            break;
        if (n == cap) {
            cap *= 2;
            double *v2 = PyMem_Realloc(vals, (size_t)cap * (size_t)nk * sizeof(double));
            if (v2 == NULL) {
                PyErr_NoMemory();
                goto done;
            }
            vals = v2;
            long long *o2 = PyMem_Realloc(offs, (size_t)cap * sizeof(long long));
            if (o2 == NULL) {
                PyErr_NoMemory();
                goto done;
            }
            offs = o2;
        }
        Py_ssize_t next = line_at(buf, len, brace, keys, nk, vals + n * nk);
        if (next == -2) {
            PyErr_NoMemory();
            goto done;
        }
        if (next < 0)
            break;
        offs[n] = (long long)brace;
        n++;
        i = end = next;
    }
    if (n < min_lines || n == 0) {
        result = Py_NewRef(Py_None);
        goto done;
    }
    PyObject *v = PyByteArray_FromStringAndSize((const char *)vals, n * nk * (Py_ssize_t)sizeof(double));
    PyObject *o = v ? PyByteArray_FromStringAndSize((const char *)offs, n * (Py_ssize_t)sizeof(long long)) : NULL;
    if (v != NULL && o != NULL)
        result = Py_BuildValue("nNN", end, v, o);
    else {
        Py_XDECREF(v);
        Py_XDECREF(o);
    }
done:
    PyMem_Free(keys);
    PyMem_Free(vals);
    PyMem_Free(offs);
    PyBuffer_Release(&view);
    return result;
}

static PyMethodDef methods[] = {
    {"read_run", read_run, METH_VARARGS,
     "read_run(buf, start, keys, min_lines) -> (end, values, offsets) | None: the run of dict lines of "
     "the key sequence `keys` at buf[start] (see the module comment)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_scan", "The compiled columnar run reader (see columnar.py).", -1, methods,
};

PyMODINIT_FUNC PyInit__scan(void) { return PyModule_Create(&module); }
