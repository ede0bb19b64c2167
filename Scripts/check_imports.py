#!/usr/bin/env python3
"""Checks that every SwiftPM target's dependencies in Package.swift equal the modules its files import.

For each target (library, executable, test), the set of modules imported by its Swift files (plain,
`@testable`, `@_exported` or `@preconcurrency` imports) must equal the set of dependencies declared
in Package.swift (target names and `.product(name:)` names). Modules of the toolchain and the
system (Foundation, Dispatch, Testing, Glibc, ...) are not declared and are ignored. Prints every
mismatch and exits with status 1 if there is one; plain Python 3, no third-party packages.

Usage: python3 Scripts/check_imports.py [package-root]
"""

import os
import re
import sys

# Modules that come with the toolchain or the platform, never declared in Package.swift.
SYSTEM_MODULES = {
    "Foundation", "FoundationEssentials", "FoundationNetworking", "FoundationXML", "Dispatch", "Testing",
    "XCTest", "Glibc", "Musl", "Darwin", "WinSDK", "Swift", "_Concurrency", "Synchronization",
    "Observation", "RegexBuilder", "os", "CoreFoundation", "PackageDescription",
}

IMPORT = re.compile(
    r"^\s*(?:@[A-Za-z_]+(?:\([^)]*\))?\s+)*import\s+(?:(?:typealias|struct|class|enum|protocol|let|var|func)\s+)?"
    r"([A-Za-z_][A-Za-z0-9_]*)",
    re.MULTILINE,
)
TARGET_START = re.compile(r"\.(target|testTarget|executableTarget|systemLibrary|binaryTarget|plugin|macro)\s*\(")


def balanced(text, start, open_char, close_char):
    """The text between text[start] == open_char and its matching close_char (strings skipped)."""
    depth, i, in_string = 0, start, False
    while i < len(text):
        c = text[i]
        if in_string:
            if c == "\\":
                i += 1
            elif c == '"':
                in_string = False
        elif c == '"':
            in_string = True
        elif c == open_char:
            depth += 1
        elif c == close_char:
            depth -= 1
            if depth == 0:
                return text[start + 1:i]
        i += 1
    raise ValueError("unbalanced %s at offset %d" % (open_char, start))


def strip_comments(text):
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.DOTALL)
    return re.sub(r"//[^\n]*", "", text)


def parse_targets(manifest):
    """(kind, name, path or None, set of dependency names) for each target of the manifest."""
    text = strip_comments(manifest)
    targets = []
    for match in TARGET_START.finditer(text):
        body = balanced(text, match.end() - 1, "(", ")")
        name = re.search(r'\bname\s*:\s*"([^"]+)"', body).group(1)
        path = re.search(r'\bpath\s*:\s*"([^"]+)"', body)
        dependencies = set()
        dep_match = re.search(r"\bdependencies\s*:\s*\[", body)
        if dep_match:
            deps = balanced(body, dep_match.end() - 1, "[", "]")
            for product in re.finditer(r"\.product\s*\(", deps):
                inner = balanced(deps, product.end() - 1, "(", ")")
                dependencies.add(re.search(r'\bname\s*:\s*"([^"]+)"', inner).group(1))
            deps = re.sub(r"\.product\s*\([^)]*\)", "", deps)
            dependencies.update(re.findall(r'"([^"]+)"', deps))
        targets.append((match.group(1), name, path.group(1) if path else None, dependencies))
    return targets


def imports_of(directory):
    found = {}
    for root, _, files in os.walk(directory):
        for file in files:
            if not file.endswith(".swift"):
                continue
            path = os.path.join(root, file)
            with open(path, encoding="utf-8") as handle:
                for module in IMPORT.findall(strip_comments(handle.read())):
                    found.setdefault(module, []).append(os.path.relpath(path, directory))
    return found


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
    with open(os.path.join(root, "Package.swift"), encoding="utf-8") as handle:
        targets = parse_targets(handle.read())
    problems = 0
    for kind, name, path, declared in targets:
        if kind in ("systemLibrary", "binaryTarget"):
            continue
        directory = os.path.join(root, path or ("Tests" if kind == "testTarget" else "Sources"), "" if path else name)
        imported = imports_of(directory)
        used = {m for m in imported if m not in SYSTEM_MODULES and m != name}
        for module in sorted(used - declared):
            problems += 1
            files = ", ".join(sorted(imported[module]))
            print("%s: imports %s (in %s) but does not declare it" % (name, module, files))
        for module in sorted(declared - used):
            problems += 1
            print("%s: declares %s but no file imports it" % (name, module))
    if problems:
        print("%d mismatch(es) between imports and Package.swift" % problems)
        return 1
    checked = sum(1 for t in targets if t[0] not in ("systemLibrary", "binaryTarget"))
    print("imports match Package.swift for %d targets" % checked)
    return 0


if __name__ == "__main__":
    sys.exit(main())
