#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Put each patch's notes back into its commit after `git am`.

git am keeps only the part of a message above the first "---" line; the
per-patch notes below it (how it was tested, v3 -> v4, checkpatch
justifications) are part of the series as it is sent. Like a b4 prep
branch, the series branch keeps them in the commit message below "---",
so that ci/export produces the same files again.

usage: attach-notes.py KSRC BASE PATCH...   (patches in commit order)
"""
import os
import re
import subprocess
import sys

DIFFSTAT = re.compile(r"^ \S.* \| +(\d+|Bin)")


def notes_of(path):
    lines = open(path, encoding="utf-8").read().split("\n")
    body = lines.index("")  # end of the mail headers
    try:
        first = lines.index("---", body)
    except ValueError:
        return ""
    if first + 1 < len(lines) and DIFFSTAT.match(lines[first + 1]):
        return ""
    end = lines.index("---", first + 1)
    return "\n".join(lines[first + 1:end]).strip("\n")


def git(ksrc, *args, env=None, inp=None):
    return subprocess.run(["git", "-C", ksrc, *args], check=True, text=True,
                          capture_output=True, env=env, input=inp).stdout.strip()


def main():
    ksrc, base, patches = sys.argv[1], sys.argv[2], sys.argv[3:]
    commits = git(ksrc, "rev-list", "--reverse", f"{base}..HEAD").split()
    if len(commits) != len(patches):
        sys.exit(f"attach-notes: {len(commits)} commits but {len(patches)} patches")
    parent = git(ksrc, "rev-parse", base)
    for c, p in zip(commits, patches):
        msg = git(ksrc, "log", "-1", "--format=%B", c).rstrip("\n")
        notes = notes_of(p)
        if notes:
            msg += "\n---\n" + notes
        fmt = "%an%n%ae%n%aD%n%cn%n%ce%n%cD"
        an, ae, ad, cn, ce, cd = git(ksrc, "log", "-1", f"--format={fmt}", c).split("\n")
        env = dict(os.environ, GIT_AUTHOR_NAME=an, GIT_AUTHOR_EMAIL=ae, GIT_AUTHOR_DATE=ad,
                   GIT_COMMITTER_NAME=cn, GIT_COMMITTER_EMAIL=ce, GIT_COMMITTER_DATE=cd)
        tree = git(ksrc, "rev-parse", f"{c}^{{tree}}")
        parent = git(ksrc, "commit-tree", tree, "-p", parent, "-F", "-", env=env, inp=msg + "\n")
    git(ksrc, "reset", "-q", "--soft", parent)


if __name__ == "__main__":
    main()
