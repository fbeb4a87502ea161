#!/usr/bin/env python3
"""Writes docs/SIDE-BY-SIDE.md from docs/SIDE-BY-SIDE.template.md, finding the
line of each link in the code as it is now.

In the template, {{F('path', 'name')}} links to the item `fn name` (or
kind='trait', 'struct'), from its first line to its closing brace, and
{{L('path', 'text', after='...', label='...')}} links to the first line that
says `text` (after the first line that says `after`), shown as `label`.
Run it when the tidy test says a link no longer says its text:

    python3 scripts/side-by-side.py
"""
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def lines(path):
    with open(os.path.join(ROOT, path)) as file:
        return file.read().split("\n")


def find(path, text, after=None):
    found = lines(path)
    start = 0
    if after:
        start = next((i for i, line in enumerate(found) if after in line), None)
        if start is None:
            sys.exit(f"side-by-side: {path} has no line saying {after!r}")
    for i in range(start, len(found)):
        if text in found[i]:
            return i + 1
    sys.exit(f"side-by-side: {path} has no line saying {text!r}")


def end_of_item(path, start):
    depth, opened = 0, False
    found = lines(path)
    for i in range(start - 1, len(found)):
        for char in found[i]:
            if char == "{":
                depth, opened = depth + 1, True
            elif char == "}":
                depth -= 1
        if opened and depth == 0:
            return i + 1
    return start


def L(path, text, after=None, label=None):
    return f"[`{label or text}`](../{path}#L{find(path, text, after)})"


def F(path, name, kind="fn", label=None):
    pattern = re.compile(rf"\b{kind} {re.escape(name)}\b")
    start = next((i + 1 for i, line in enumerate(lines(path)) if pattern.search(line)), None)
    if start is None:
        sys.exit(f"side-by-side: {path} has no {kind} {name}")
    return f"[`{label or name}`](../{path}#L{start}-L{end_of_item(path, start)})"


def main():
    with open(os.path.join(ROOT, "docs/SIDE-BY-SIDE.template.md")) as file:
        template = file.read()
    only = {"F": F, "L": L, "__builtins__": {}}
    text = re.sub(r"\{\{(.*?)\}\}", lambda m: eval(m.group(1), only), template, flags=re.S)
    with open(os.path.join(ROOT, "docs/SIDE-BY-SIDE.md"), "w") as file:
        file.write(text)
    print("written: docs/SIDE-BY-SIDE.md")


if __name__ == "__main__":
    main()
