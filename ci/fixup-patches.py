#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Make git format-patch output deterministic and mailable as one thread.

- The cover letter gets its subject and body from cover-letter.txt (first
  line = subject, the rest = body) and the date of the last patch.
- Every message gets a Message-ID derived from the series version and its
  number; patches are In-Reply-To/References the cover letter.
"""
import pathlib
import re
import sys

DOMAIN = "daxgup-rust.invalid"


def msgid(num):
    return f"<daxgup-rust-v4-{num:02d}@{DOMAIN}>"


def main():
    outdir = pathlib.Path(sys.argv[1])
    cover_src = pathlib.Path(sys.argv[2]).read_text()
    files = sorted(outdir.glob("*.patch"))
    cover, patches = files[0], files[1:]
    assert cover.name.startswith("0000-"), cover
    last_date = None
    for p in patches:
        for line in p.read_text().splitlines():
            if line.startswith("Date: "):
                last_date = line
                break
    title, _, body = cover_src.partition("\n")
    body = body.strip("\n")
    text = cover.read_text()
    text = re.sub(r"^Date: .*$", last_date, text, count=1, flags=re.M)
    text = text.replace("*** SUBJECT HERE ***", title.strip(), 1)
    text = text.replace("*** BLURB HERE ***", body, 1)
    cover.write_text(text)
    for i, p in enumerate(files):
        text = p.read_text()
        head, sep, rest = text.partition("\n\n")
        extra = f"Message-ID: {msgid(i)}\n"
        if i:
            extra += f"In-Reply-To: {msgid(0)}\nReferences: {msgid(0)}\n"
        p.write_text(head + "\n" + extra.rstrip("\n") + sep + rest)


if __name__ == "__main__":
    main()
