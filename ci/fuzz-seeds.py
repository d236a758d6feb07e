#!/usr/bin/env python3
"""Writes the fuzz seed corpora (fuzz/seeds/<target>/) from the expositions in promstack's tests.

Usage: ci/fuzz-seeds.py        (from anywhere; rewrites fuzz/seeds/ from scratch)

Every Rust string literal in the test files below that holds a line break is taken to be an
exposition (or a piece of one, which is a fine seed too) and written to a file named by its hash.
The parser tests seed their parser's target; core's golden encoder outputs seed both; the round
trip target gets them all, and a few hand-written inputs (EXTRA_*) add corners the tests touch
lightly. Run it again when those tests change and commit the result.
"""
import hashlib
import pathlib
import re
import shutil

ROOT = pathlib.Path(__file__).resolve().parent.parent
TEXT = ["tests/tests/parser_text.rs", "core/tests/exposition.rs"]
OPENMETRICS = ["tests/tests/parser_openmetrics.rs", "core/tests/exposition.rs"]
TARGETS = {
    "parse_text": TEXT,
    "parse_openmetrics": OPENMETRICS,
    "roundtrip": sorted(set(TEXT + OPENMETRICS)),
}

# Hand-written seeds for corners the tests touch only lightly: nanosecond timestamps on large
# seconds, exemplars with timestamps, bounds and quantiles at the edges of their spelling.
EXTRA_OPENMETRICS = [
    '# TYPE a gauge\na{x="1"} 1 1600000000.000000001\na{x="1"} 2 1600000000.000000002\n# EOF\n',
    "# TYPE a counter\na_total 1 1600000000.123456789 # {trace_id=\"x\"} 0.5 1600000000.987654321\n"
    "a_created 1600000000.5\n# EOF\n",
    '# TYPE a histogram\na_bucket{le="-1e-07"} 0\na_bucket{le="0.0"} 1 # {} -0.0\n'
    'a_bucket{le="+Inf"} 2 # {a="\\\\\\n\\""} NaN 1e-3\na_count 2\na_sum -1.5\na_created 0\n# EOF\n',
    '# TYPE a gaugehistogram\n# UNIT a \na_bucket{le="1e+21"} 0\na_bucket{le="+Inf"} 5\na_gcount 5\na_gsum -0.0\n# EOF\n',
    '# TYPE a summary\na{quantile="0.0"} 0\na{quantile="1e-04"} -0.0\na{quantile="1.0"} 1.7976931348623157e308\n'
    "a_count 18446744073709551615\na_sum 5e-324\n# EOF\n",
    '# TYPE a stateset\na{a="x"} 1 -1.5\na{a="y"} 0 -1.5\n# TYPE b info\nb_info{v="1"} 1\n# EOF\n',
]
EXTRA_TEXT = [
    "# TYPE a gauge\na 1 1600000000001\na{l=\"1\"}1 -1\n# TYPE b summary\nb{quantile=\"0.5\"} -0.0\nb_sum NaN\n",
    '# TYPE a histogram\na_bucket{le="0"} 1 9007199254740993\na_bucket{le="+Inf"} 1\na_count 1\na_sum 1e-7\n',
]

ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "0": "\0", "\\": "\\", '"': '"', "'": "'"}
# A char literal ('x', '\n', '\u{..}', '"'); anything else after a quote is a lifetime.
CHAR = re.compile(r"'(?:\\u\{[0-9a-fA-F]+\}|\\x[0-9a-fA-F]{2}|\\.|[^\\'])'")


def unescape(body):
    out, i = [], 0
    while i < len(body):
        c = body[i]
        if c != "\\":
            out.append(c)
            i += 1
            continue
        n = body[i + 1]
        if n == "\n":  # A line continuation skips the break and the indentation after it.
            i += 2
            while i < len(body) and body[i] in " \t\n\r":
                i += 1
        elif n == "x":
            out.append(chr(int(body[i + 2 : i + 4], 16)))
            i += 4
        elif n == "u":
            end = body.index("}", i)
            out.append(chr(int(body[i + 3 : end], 16)))
            i = end + 1
        else:
            out.append(ESCAPES[n])
            i += 2
    return "".join(out)


def literals(src):
    """The string literals of a Rust source, unescaped (comments and char literals skipped)."""
    i = 0
    while i < len(src):
        c = src[i]
        if src.startswith("//", i):
            i = src.find("\n", i) + 1 or len(src)
        elif src.startswith("/*", i):
            i = src.index("*/", i) + 2
        elif c == "'":
            m = CHAR.match(src, i)
            i = m.end() if m else i + 1
        elif (m := re.compile(r'b?r(#*)"').match(src, i)) and (i == 0 or not (src[i - 1].isalnum() or src[i - 1] == "_")):
            close = '"' + m.group(1)
            end = src.index(close, m.end())
            yield src[m.end() : end]
            i = end + len(close)
        elif c == '"':
            j = i + 1
            while src[j] != '"':
                j += 2 if src[j] == "\\" else 1
            yield unescape(src[i + 1 : j])
            i = j + 1
        else:
            i += 1


def main():
    seeds_root = ROOT / "fuzz" / "seeds"
    shutil.rmtree(seeds_root, ignore_errors=True)
    for target, files in TARGETS.items():
        out = seeds_root / target
        out.mkdir(parents=True)
        seen = set()
        extra = (EXTRA_TEXT if files is not OPENMETRICS else []) + (EXTRA_OPENMETRICS if files is not TEXT else [])
        found = [s for f in files for s in literals((ROOT / f).read_text())]
        for s in found + extra:
            if "\n" not in s or s in seen:
                continue
            seen.add(s)
            data = s.encode()
            (out / hashlib.sha1(data).hexdigest()[:16]).write_bytes(data)
        print(f"{target}: {len(seen)} seeds in {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
