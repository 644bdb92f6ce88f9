#!/usr/bin/env python3
"""House-style limits the formatter does not check: no Swift file over 500 lines, no function
(or initializer, closure-bodied property, subscript) over 80 lines. A byte-level scanner may be
longer if the line before its declaration says why, with `// shape: long function (why)`.

Usage: scripts/check-source-shape.py [DIR...]   (default: Sources Tests). Exit 1 on a finding,
one line each: file:line: what, and what to do."""
import re
import sys
from pathlib import Path

MAX_FILE_LINES = 500
MAX_FUNCTION_LINES = 80
DECLARATION = re.compile(r"^\s*(?:@\w+(?:\([^)]*\))?\s+)*(?:(?:public|private|fileprivate|internal|package|"
                         r"static|class|final|override|mutating|nonmutating|convenience|required|"
                         r"nonisolated(?:\(unsafe\))?|@inlinable|@inline\(__always\))\s+)*"
                         r"(func\s+[^\s(<]+|init[?!]?|deinit|subscript)\b")
EXEMPTION = "// shape: long function"


def strip_strings(line: str) -> str:
    """Drops string literals and line comments, so braces inside them do not count."""
    line = re.sub(r'"(?:\\.|[^"\\])*"', '""', line)
    return line.split("//", 1)[0]


def functions(lines: list[str]):
    """Yields (start line index, length, name) for each function-like declaration with a body."""
    for index, line in enumerate(lines):
        match = DECLARATION.match(line)
        if not match:
            continue
        depth, opened, in_multiline = 0, False, False
        for end in range(index, len(lines)):
            text = lines[end]
            if text.count('"""') % 2 == 1:
                in_multiline = not in_multiline
                continue
            if in_multiline:
                continue
            code = strip_strings(text)
            stripped = code.strip()
            if not opened and end > index and (not stripped or stripped.startswith("}") or DECLARATION.match(code)
                                                or re.match(r"(var|let|case|associatedtype)\b", stripped)):
                break  # a requirement without a body (protocols)
            depth += code.count("{") - code.count("}")
            if "{" in code:
                opened = True
            if opened and depth <= 0:
                yield index, end - index + 1, match.group(1)
                break


def check(path: Path) -> list[str]:
    problems = []
    lines = path.read_text(encoding="utf-8").splitlines()
    if len(lines) > MAX_FILE_LINES:
        problems.append(f"{path}:1: {len(lines)} lines (limit {MAX_FILE_LINES}): split the file, one main type per file")
    for start, length, name in functions(lines):
        if length <= MAX_FUNCTION_LINES:
            continue
        if start > 0 and EXEMPTION in lines[start - 1]:
            continue
        problems.append(f"{path}:{start + 1}: {name} is {length} lines (limit {MAX_FUNCTION_LINES}): "
                        f"split it into named steps, or mark a byte-level scanner with '{EXEMPTION} (why)'")
    return problems


def main() -> int:
    roots = [Path(a) for a in sys.argv[1:]] or [Path("Sources"), Path("Tests")]
    problems = []
    for root in roots:
        for path in sorted(root.rglob("*.swift")):
            if ".build" in path.parts:
                continue
            problems.extend(check(path))
    for problem in problems:
        print(problem)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
