#!/usr/bin/env python3
"""Writes a store of many small backup files for the discover benchmark, in the layout
discovery expects: SITE/database/NAME/full/NAME_full_YYYYMMDDTHHMMSSZ.bak.

usage: gen_store.py ROOT [DATABASES [BACKUPS]]   (defaults: 1,000 databases x 100 backups)

Each file holds 200-500 random bytes; one backup a day per database, the newest on
2026-11-21. The random generator is seeded, so the tree is the same on every machine."""
import datetime
import os
import random
import sys


def main():
    root = sys.argv[1]
    databases = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
    backups = int(sys.argv[3]) if len(sys.argv) > 3 else 100
    rng = random.Random(20261121)
    newest = datetime.datetime(2026, 11, 21, 1, 0, 0)
    stamps = [(newest - datetime.timedelta(days=b)).strftime("%Y%m%dT%H%M%SZ") for b in range(backups)]
    for d in range(databases):
        name = f"db{d:04}"
        directory = os.path.join(root, "s", "database", name, "full")
        os.makedirs(directory, exist_ok=True)
        for stamp in stamps:
            with open(os.path.join(directory, f"{name}_full_{stamp}.bak"), "wb") as f:
                f.write(rng.randbytes(rng.randint(200, 500)))


main()
