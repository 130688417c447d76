#!/usr/bin/env python3
"""Writes the desired state of the SQL discovery benchmark (benches/sql.sh): one site with a
store at STORE, one `sql-instance` per line of PORTS (`ID 127.0.0.1 PORT`, as
examples/sql-bench-server.rs prints them) and D databases per instance, named as that server
names them, each with full, diff and log backups. The log backup's keep (100) makes discovery
read up to 100 backups per database and type, so the whole generated history.

usage: gen_sql_desired.py PORTS OUT_DIR STORE D [PASSWORD_ENV]"""
import os
import sys


def main():
    ports_file, out, store, databases = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    password_env = sys.argv[5] if len(sys.argv) > 5 else "STANDBY_BENCH_SQL_PASSWORD"
    instances = []
    with open(ports_file) as f:
        for line in f:
            parts = line.split()
            if len(parts) == 3 and parts[0].startswith("sql"):
                instances.append((parts[0], parts[1], int(parts[2])))
    lines = ['deployment "bench" product="generic" {',
             '    objectives rpo="24h" rto="4h" restore-test="30d"',
             '}',
             'site "bench" role="primary" {',
             f'    store "local" path="{store}" sql-path=#"\\\\bench-bk\\backup"#']
    for name, host, port in instances:
        lines.append(f'    sql-instance "{name}" host="{host}" port={port} user="standby" '
                     f'password-env="{password_env}" encrypt=#false')
    for name, _, _ in instances:
        for d in range(databases):
            lines.append(f'    database "{name}_db{d:05}" instance="{name}" recovery-model="full" {{')
            lines.append('        backup "full" every="7d" keep=4 store="local"')
            lines.append('        backup "diff" every="24h" keep=21 store="local"')
            lines.append('        backup "log" every="6h" keep=100 store="local"')
            lines.append('    }')
    lines.append('}')
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "bench.kdl"), "w") as f:
        f.write("\n".join(lines) + "\n")


main()
