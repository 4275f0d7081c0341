#!/usr/bin/env python3
"""Keeps `rust-version` in Cargo.toml honest against the locked dependencies.

Runs `cargo metadata --format-version 1 --locked --all-features` and, for
each package of the workspace (the core `tactful` at the root, and the
query-engine members, each against its own rust-version), walks the resolved
graph from that package through every dependency kind (normal, build and
dev, optional ones included since all features are on, every target
platform). The core is checked first and on its own graph: a member's
dependencies never count against the core's 1.88, but the shared Cargo.lock
must not move a core dependency to a version newer than 1.88 allows. It
fails, naming the packages, when

1. a locked dependency declares a `rust-version` newer than ours: our declared
   MSRV cannot build it, so the declaration is false;
2. ours is newer than the highest any dependency declares, unless our own code
   needs it (OWN_CODE_NEEDS below): then we would refuse toolchains that
   build everything we use.

Usage (from anywhere in the repository): python3 .ci/msrv.py
Exit status: 0 when honest, 1 when not, 2 when cargo metadata fails.
Only the standard library is used; nothing is installed.
"""
import json
import os
import subprocess
import sys

# The override for rule 2: the oldest Rust our own code builds with, when that
# is newer than what every dependency declares, and why (the language or std
# feature and where we use it). None while the dependencies set the bar, as
# now: postcard 1.2, proptest 1.12, sha2 0.11 and time 0.3.55 each declare
# 1.88, which is our rust-version.
# Example: OWN_CODE_NEEDS = ("1.89", "slice::as_chunks in src/persist/binary.rs")
OWN_CODE_NEEDS = None
# The same override for the workspace members, by package name. None for
# both: DataFusion 55.2 declares 1.94, which is their rust-version.
MEMBER_CODE_NEEDS = {"tactful-datafusion": None, "tactful-ballista": None}


def version_key(text):
    """`1.88` and `1.88.0` compare equal; missing parts count as 0."""
    parts = [int(p) for p in text.strip().split(".")]
    return tuple(parts + [0] * (3 - len(parts)))


def metadata(root):
    cmd = ["cargo", "metadata", "--format-version", "1", "--locked", "--all-features"]
    done = subprocess.run(cmd, cwd=root, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if done.returncode != 0:
        sys.stderr.write(done.stderr.decode("utf-8", "replace"))
        print("msrv: `%s` failed" % " ".join(cmd))
        sys.exit(2)
    return json.loads(done.stdout)


def locked_dependencies(meta, root):
    """The package `root` and the packages reachable from it in the resolved graph."""
    packages = {p["id"]: p for p in meta["packages"]}
    edges = {n["id"]: [d["pkg"] for d in n.get("deps", [])] for n in meta["resolve"]["nodes"]}
    seen, todo = {root}, [root]
    while todo:
        for dep in edges.get(todo.pop(), []):
            if dep not in seen:
                seen.add(dep)
                todo.append(dep)
    seen.discard(root)
    return packages[root], [packages[i] for i in sorted(seen)]


def named(packages):
    """A short list: the first few packages, then how many more."""
    if not packages:
        return "none"
    if len(packages) <= 6:
        return ", ".join(packages)
    return "%s and %d more" % (", ".join(packages[:5]), len(packages) - 5)


def check(ours, deps, own_code_needs):
    """Returns the problems (empty when honest) and a summary line."""
    name = "%s %s" % (ours["name"], ours["version"])
    declared = ours.get("rust_version")
    if not declared:
        return ["%s declares no rust-version in Cargo.toml" % name], ""
    problems = []
    newer = [d for d in deps if d.get("rust_version")
             and version_key(d["rust_version"]) > version_key(declared)]
    for d in sorted(newer, key=lambda d: (version_key(d["rust_version"]), d["name"])):
        problems.append("dependency %s %s needs Rust %s, newer than our rust-version %s"
                        % (d["name"], d["version"], d["rust_version"], declared))
    with_version = [d for d in deps if d.get("rust_version")]
    if not with_version:
        highest, by = "0", []
    else:
        top = max(version_key(d["rust_version"]) for d in with_version)
        by = sorted("%s %s" % (d["name"], d["version"]) for d in with_version
                    if version_key(d["rust_version"]) == top)
        highest = ".".join(str(p) for p in top)
    summary = "msrv: %s declares rust-version %s; the highest of %d locked dependencies " \
              "(%d declare one) is %s (%s)" % (name, declared, len(deps), len(with_version),
                                               highest, named(by))
    if own_code_needs is not None and version_key(own_code_needs[0]) > version_key(declared):
        problems.append("OWN_CODE_NEEDS in .ci/msrv.py says our code needs Rust %s (%s), newer "
                        "than our rust-version %s" % (own_code_needs[0], own_code_needs[1],
                                                      declared))
    elif version_key(declared) > version_key(highest):
        if own_code_needs is None:
            problems.append(
                "our rust-version %s is newer than any dependency needs (%s, by %s): lower it "
                "to %s, or, if our own code needs %s, set OWN_CODE_NEEDS in .ci/msrv.py with "
                "the reason" % (declared, highest, ", ".join(by) or "none", highest, declared))
        else:
            needs, reason = own_code_needs
            if version_key(needs) < version_key(declared):
                problems.append(
                    "OWN_CODE_NEEDS in .ci/msrv.py says our code needs Rust %s (%s), but "
                    "Cargo.toml declares %s: make them agree" % (needs, reason, declared))
            else:
                summary += "; our own code needs %s: %s" % (needs, reason)
    return problems, summary


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    meta = metadata(root)
    core = meta["resolve"]["root"]
    if core is None:
        print("msrv: no root package (run from the crate, not a virtual workspace)")
        sys.exit(2)
    packages = {p["id"]: p for p in meta["packages"]}
    members = sorted((m for m in meta["workspace_members"] if m != core),
                     key=lambda m: packages[m]["name"])
    failed = False
    for member in [core] + members:
        ours, deps = locked_dependencies(meta, member)
        needs = OWN_CODE_NEEDS if member == core else MEMBER_CODE_NEEDS.get(ours["name"])
        problems, summary = check(ours, deps, needs)
        if summary:
            print(summary)
        for p in problems:
            print("msrv: error: " + p)
        failed = failed or bool(problems)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
