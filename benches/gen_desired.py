#!/usr/bin/env python3
"""Writes a large desired state for the validate benchmark: N databases (default 5,000)
spread over SQL instances and two sites, with settings, filesets and scenarios, about
1 MB of KDL for 5,000 databases."""
import os
import sys

def main():
    out = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 5000
    os.makedirs(out, exist_ok=True)
    lines = ['deployment "bench" product="ocs-2007-r2" domain="contoso.com" {',
             '    objectives rpo="24h" rto="4h" restore-test="30d"',
             '    backup-window start="01:00" end="05:00"',
             '    owner "dba" name="Database administrators" contact="dba@contoso.com"',
             '}', '']
    sites = [("redmond", "primary", "", "dallas"), ("dallas", "standby", ' standby-for="redmond"', "redmond")]
    for site, role, extra, other in sites:
        lines.append(f'site "{site}" role="{role}"{extra} region="{site}-region" {{')
        lines.append(f'    store "local" path="/srv/backup/{site}" sql-path="\\\\\\\\{site}-bk\\\\backup"')
        lines.append(f'    store "offsite" path="/mnt/offsite/{site}" located-at="{other}"')
        lines.append(f'    pool "pool-{site}.contoso.com" edition="enterprise" {{')
        for s in range(20):
            lines.append(f'        server "fe{s:02}.{site}.contoso.com" role="front-end" owner="dba"')
        lines.append('    }')
        per_site = n // 2
        for i in range(per_site // 100 + 1):
            lines.append(f'    sql-instance "sql{i:03}" host="sql{i:03}.{site}.contoso.com" instance="RTC" user="standby" password-env="PW"')
        for d in range(per_site):
            lines.append(f'    database "db{d:05}" instance="sql{d // 100:03}" recovery-model="full" separate-log-volume=#true {{')
            lines.append('        backup "full" every="24h" keep=7 store="local" copy-to="offsite"')
            lines.append('        backup "log" every="1h" keep=48 store="local" copy-to="offsite"')
            lines.append('    }')
        lines.append('    settings "global" level="global" every="24h" keep=14 store="local" copy-to="offsite" {')
        lines.append('        export "LCSCmd.exe" "/Config" "/Action:Export" "/Level:Global" "/ConfigFile:{file}"')
        lines.append('    }')
        # Everything the OCS profile implies for front ends, so the state lints clean.
        lines.append(f'    settings "pool" level="pool" pool="pool-{site}.contoso.com" every="24h" keep=14 store="local" copy-to="offsite" pattern="pool/*.xml"')
        for s in range(20):
            lines.append(f'    settings "fe{s:02}" level="computer" server="fe{s:02}.{site}.contoso.com" every="24h" keep=7 store="local" copy-to="offsite" pattern="fe{s:02}/*.xml"')
        for files in ["meeting-compliance", "client-updates", "device-updates"]:
            lines.append(f'    fileset "{files}" path="/srv/ocs/{site}/{files}" every="24h" keep=7 store="local" copy-to="offsite"')
        lines.append(f'    fileset "meeting-content" path="/srv/ocs/{site}/mc" every="24h" keep=7 store="local" copy-to="offsite" {{')
        lines.append('        include "**/*"')
        lines.append('        exclude "**/*.tmp"')
        lines.append('    }')
        lines.append('}')
        lines.append('')
    for d in range(0, n // 2, 50):
        lines.append(f'scenario "loss-db{d:05}" owner="dba" estimate="2h" {{')
        lines.append(f'    affects "redmond/database/db{d:05}" "redmond/database/db{d:05}/full"')
        lines.append('    step "Restore the last full backup and every later log backup" minutes=60')
        lines.append('}')
    with open(os.path.join(out, "bench.kdl"), "w") as f:
        f.write("\n".join(lines) + "\n")

main()
