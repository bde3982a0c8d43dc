#!/usr/bin/env python3
"""Lists every Rust `fn` in src/ and python/src/ longer than a limit (default 120 lines).

A function's length counts its lines from the one holding `fn` to its closing brace. The
braces are matched after blanking comments, string literals (plain, byte, raw) and char
literals, so a brace inside any of them does not count. A long function is accepted when
the comment block right above it (its doc, attributes in between are skipped) holds a line
with `// long-function: <why>` (in a doc comment: `/// long-function: <why>`).

    python3 scripts/long_functions.py [--limit N] [ROOT...]

Exit status: 0 when every long function carries the marker, 1 otherwise. Standard library
only.
"""

import argparse
import os
import re
import sys

MARKER = "// long-function:"
IDENT = re.compile(r"[A-Za-z0-9_]")


def blank(text):
    """The text with comments, string and char literals replaced by spaces (newlines kept)."""
    out = list(text)
    n = len(text)
    i = 0

    def wipe(a, b):
        for k in range(a, min(b, n)):
            if out[k] != "\n":
                out[k] = " "

    while i < n:
        c = text[i]
        nxt = text[i + 1] if i + 1 < n else ""
        prev = text[i - 1] if i > 0 else ""
        if c == "/" and nxt == "/":
            end = text.find("\n", i)
            end = n if end < 0 else end
            wipe(i, end)
            i = end
        elif c == "/" and nxt == "*":
            depth, j = 1, i + 2
            while j < n and depth:
                if text.startswith("/*", j):
                    depth, j = depth + 1, j + 2
                elif text.startswith("*/", j):
                    depth, j = depth - 1, j + 2
                else:
                    j += 1
            wipe(i, j)
            i = j
        elif c in "rb" and not IDENT.match(prev) and re.match(r"(?:br|r)#*\"", text[i:]):
            m = re.match(r"(?:br|r)(#*)\"", text[i:])
            close = '"' + m.group(1)
            j = text.find(close, i + m.end())
            j = n if j < 0 else j + len(close)
            wipe(i, j)
            i = j
        elif c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            wipe(i, j + 1)
            i = j + 1
        elif c == "'":
            # A char literal ('x', '\n', '\u{7f}', '{') or a lifetime ('a): only the first
            # closes with a quote right after one char or an escape.
            if nxt == "\\":
                j = text.find("'", i + 2)
                j = n if j < 0 else j
                wipe(i, j + 1)
                i = j + 1
            elif i + 2 < n and text[i + 2] == "'":
                wipe(i, i + 3)
                i += 3
            else:
                i += 1
        else:
            i += 1
    return "".join(out)


def functions(text):
    """(name, first line, last line) of every fn with a body, lines counted from 1."""
    code = blank(text)
    line_of = []
    line = 1
    for ch in code:
        line_of.append(line)
        if ch == "\n":
            line += 1
    found = []
    for m in re.finditer(r"\bfn\s+([A-Za-z_][A-Za-z0-9_]*)", code):
        # The signature ends at the first `{` (a body) or `;` (a declaration) outside its
        # parentheses and brackets (`[u8; 4]` holds a `;`).
        depth, j = 0, m.end()
        while j < len(code):
            ch = code[j]
            if ch in "([":
                depth += 1
            elif ch in ")]":
                depth -= 1
            elif depth == 0 and ch in "{;":
                break
            j += 1
        if j >= len(code) or code[j] == ";":
            continue
        braces, k = 0, j
        while k < len(code):
            if code[k] == "{":
                braces += 1
            elif code[k] == "}":
                braces -= 1
                if braces == 0:
                    break
            k += 1
        found.append((m.group(1), line_of[m.start()], line_of[min(k, len(code) - 1)]))
    return found


def doc_block(lines, first):
    """The comment and attribute lines right above line `first` (1-based)."""
    block = []
    i = first - 2
    while i >= 0:
        s = lines[i].strip()
        if s.startswith("//") or s.startswith("#[") or s.startswith("#!["):
            block.append(s)
            i -= 1
        elif s.startswith(")]") or s.endswith(",") and block:
            # The inside of a multi-line attribute.
            block.append(s)
            i -= 1
        else:
            break
    return block


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=120, help="longest accepted length")
    parser.add_argument("roots", nargs="*", default=["src", "python/src"])
    args = parser.parse_args()
    top = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    unmarked = 0
    for root in args.roots:
        base = os.path.join(top, root)
        for folder, _, files in sorted(os.walk(base)):
            for name in sorted(files):
                if not name.endswith(".rs"):
                    continue
                path = os.path.join(folder, name)
                with open(path, encoding="utf-8") as f:
                    text = f.read()
                lines = text.split("\n")
                for fn, first, last in functions(text):
                    length = last - first + 1
                    if length <= args.limit:
                        continue
                    marked = any(MARKER in s for s in doc_block(lines, first))
                    unmarked += not marked
                    rel = os.path.relpath(path, top)
                    note = "marked long-function" if marked else "NO long-function marker"
                    print(f"{rel}:{first}: fn {fn}: {length} lines ({note})")
    if unmarked:
        print(
            f"{unmarked} function(s) over {args.limit} lines without a "
            f"'{MARKER} <why>' line in their doc",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
