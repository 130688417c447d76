//! A mutation fuzzer for the desired-state loader: mutated KDL must never make it panic.
//!
//! Seeds are the shipped example and the invalid corpus; each input applies one to four
//! mutations (byte flips, deletions, KDL tokens inserted, lines duplicated or swapped,
//! splices from other seeds, strings replaced by edge-case values). Runs on every core.
//! `cargo fuzz` needs a nightly toolchain this project does not use; this needs none.
//!
//!     cargo run --release --example fuzz-loader -- --inputs 1000000 [--seed N] [--differential]
//!
//! `--differential` also parses every mutated file with both KDL parsers (the fast path
//! built on just-kdl and the kdl crate's own) and saves each input where they disagree,
//! with the disagreement in `why.txt`, like a panic.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

const TOKENS: &[&str] = &[
    "{",
    "}",
    "\"",
    "=",
    ";",
    "\\",
    "\n",
    " ",
    "/*",
    "*/",
    "//",
    "/-",
    "#true",
    "#false",
    "#null",
    "#inf",
    "#-inf",
    "#nan",
    "\"\"\"\n",
    "#\"",
    "\"#",
    "(ty)",
    "0x",
    "1e999",
    "-0",
    "99999999999999999999999999999999999999999",
    "deployment \"d\"",
    "site \"s\" role=\"standby\" standby-for=\"s\"",
    "store \"x\" path=\"\"",
    "backup \"full\"",
    "every=\"0h\"",
    "keep=0",
    "crit=\"999w\"",
    "warn=\"1s\"",
    "copy-to=\"local\"",
    "password=\"x\"",
    "affects \"a/b/c/d/e\"",
    "affects \"**\"",
    "include \"[\"",
    "pattern=\"{a,\"",
    "port=-1",
    "\u{feff}",
    "é",
    "\u{200b}",
    "\r\n",
    "\t",
    "role=#true",
    "level=\"pool\"",
    "type=\"SRV\"",
    "omit \"\" reason=\"\"",
    "resolver \"[::1]:53\"",
    // KDL syntax for the differential mode: every base, raw and multi-line strings,
    // escapes, slashdashes, annotations, newline kinds.
    "0x1F",
    "-0o17",
    "0b1_0",
    "1_000.5e-3",
    "+1E+2",
    "1.",
    "0X1",
    "#\"raw \" str\"#",
    "##\"a\"#b\"##",
    "\"\"\"\n  multi\n   line\n  \"\"\"",
    "#\"\"\"\n  raw\n  \"\"\"#",
    "\"esc\\n\\t\\\"\\\\\\s\\b\\f\"",
    "\\u{1F600}",
    "\\u{0}",
    "\\   ",
    "\\\n",
    "/-{ x }",
    "/- ",
    "(u8)",
    "( t )",
    "\u{85}",
    "\u{2028}",
    "\u{b}",
    "\r",
    "\u{a0}",
    ".5",
    "+x",
    "-.y",
    "é=1",
    "/* /* */ */",
];

/// Seeds for `--differential` that use all of KDL v2's syntax, which the desired files do
/// not.
const SYNTAX_SEEDS: &[&str] = &[
    r###"// KDL v2 syntax
deployment "d" product=ocs domain=#"contoso.com"# {
    objectives rpo="24h" /- rto="4h" restore-test=(dur)"30d" (u8)7
}
(kind)site "s" role=primary n=0x1F m=-0o17 b=0b1_0 f=1_000.5e-3 g=+1E+2 h=#inf i=#-inf j=#nan {
    store "\u{1F600}\t\"x\"\\" k=#null l=#true path="""
        /srv/a
          b \
          c
        """ raw=##"a"#b"## /* a /* nested */ comment */
    /- pool "p" {
        server x
    }
    pool "p" /-{ hidden } {
        server "a\
               b"; server c
    }
    sql-instance ノード 値="é" \
        user=+x pw=-.y
    multi #"""
        raw "multi"
        """#
}
"###,
    "a 1\r\nb {\r\n  c \"\"\"\r\n    x\r\n    \"\"\"\r\n}\r\n/-d\r\n",
];

const STRINGS: &[&str] = &[
    "",
    " ",
    "0",
    "24h",
    "1h30m",
    "00:00",
    "24:00",
    "a/b",
    "redmond/*",
    "[",
    "{file}",
    "..",
    "/",
    "\\\\x\\y",
    "ü",
];

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*: fast, deterministic, good enough to pick mutations.
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            usize::try_from(self.next() % n as u64).unwrap_or(0)
        }
    }
}

fn mutate(rng: &mut Rng, seeds: &[Vec<u8>], input: &mut Vec<u8>) {
    let len = input.len();
    match rng.below(9) {
        0 if len > 0 => {
            let at = rng.below(len);
            input[at] = rng.next().to_le_bytes()[0];
        }
        1 if len > 0 => {
            let at = rng.below(len);
            let n = rng.below(64).min(len - at);
            input.drain(at..at + n);
        }
        2 | 3 => {
            let at = rng.below(len + 1);
            let token = TOKENS[rng.below(TOKENS.len())];
            input.splice(at..at, token.bytes());
        }
        4 => {
            let lines: Vec<&[u8]> = input.split(|b| *b == b'\n').collect();
            let line = lines[rng.below(lines.len())].to_vec();
            let at = rng.below(len + 1);
            input.splice(at..at, line.into_iter().chain([b'\n']));
        }
        5 => {
            let mut lines: Vec<Vec<u8>> =
                input.split(|b| *b == b'\n').map(<[u8]>::to_vec).collect();
            let (a, b) = (rng.below(lines.len()), rng.below(lines.len()));
            lines.swap(a, b);
            *input = lines.join(&b'\n');
        }
        6 => {
            let other = &seeds[rng.below(seeds.len())];
            if !other.is_empty() {
                let from = rng.below(other.len());
                let n = rng.below(400).min(other.len() - from);
                let at = rng.below(len + 1);
                input.splice(at..at, other[from..from + n].iter().copied());
            }
        }
        7 => {
            // Replace the content of one quoted string with an edge-case value.
            let quotes: Vec<usize> = input
                .iter()
                .enumerate()
                .filter(|(_, b)| **b == b'"')
                .map(|(i, _)| i)
                .collect();
            if quotes.len() >= 2 {
                let i = rng.below(quotes.len() - 1);
                let value = STRINGS[rng.below(STRINGS.len())];
                input.splice(quotes[i] + 1..quotes[i + 1], value.bytes());
            }
        }
        _ if len > 0 => input.truncate(rng.below(len)),
        _ => {}
    }
}

fn kdl_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            kdl_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "kdl") {
            out.push(path);
        }
    }
}

fn main() {
    let mut inputs: u64 = 1_000_000;
    let mut seed: u64 = 0x5eed_5eed;
    let mut differential = false;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        if arg == "--differential" {
            differential = true;
            continue;
        }
        let value = args.next().and_then(|v| v.parse().ok());
        match (arg.as_str(), value) {
            ("--inputs", Some(v)) => inputs = v,
            ("--seed", Some(v)) => seed = v,
            _ => {
                eprintln!("usage: fuzz-loader [--inputs N] [--seed N] [--differential]");
                std::process::exit(2);
            }
        }
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    kdl_files(&root.join("desired"), &mut files);
    kdl_files(&root.join("tests/invalid"), &mut files);
    files.sort();
    let mut seeds: Vec<Vec<u8>> = files.iter().filter_map(|f| std::fs::read(f).ok()).collect();
    if differential {
        seeds.extend(SYNTAX_SEEDS.iter().map(|s| s.as_bytes().to_vec()));
    }
    assert!(
        !seeds.is_empty(),
        "no seed files under desired/ and tests/invalid/"
    );

    let threads = std::thread::available_parallelism().map_or(1, usize::from) as u64;
    let done = AtomicU64::new(0);
    let valid = AtomicU64::new(0);
    let panics = AtomicU64::new(0);
    let disagreements = AtomicU64::new(0);
    let started = Instant::now();
    std::thread::scope(|scope| {
        for t in 0..threads {
            let (seeds, done, valid, panics) = (&seeds, &done, &valid, &panics);
            let disagreements = &disagreements;
            scope.spawn(move || {
                let mut rng = Rng(seed ^ (t + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15));
                let share = inputs / threads + u64::from(t < inputs % threads);
                for n in 0..share {
                    let files = 1 + usize::from(rng.below(8) == 0);
                    let texts: Vec<(PathBuf, String)> = (0..files)
                        .map(|i| {
                            let mut input = seeds[rng.below(seeds.len())].clone();
                            for _ in 0..=rng.below(4) {
                                mutate(&mut rng, seeds, &mut input);
                            }
                            (
                                PathBuf::from(format!("fuzz/{i}.kdl")),
                                String::from_utf8_lossy(&input).into_owned(),
                            )
                        })
                        .collect();
                    if differential {
                        // Both parsers on every file; a panic in either counts as a
                        // disagreement too.
                        let why: Vec<String> = texts
                            .iter()
                            .filter_map(|(path, text)| {
                                catch_unwind(AssertUnwindSafe(|| {
                                    standby::desired::parse_differential(text)
                                }))
                                .unwrap_or_else(|_| Err("a parser panicked".into()))
                                .err()
                                .map(|why| format!("{}: {why}\n", path.display()))
                            })
                            .collect();
                        if !why.is_empty() {
                            let at = disagreements.fetch_add(1, Ordering::Relaxed);
                            let dir = root.join(format!("target/fuzz-disagree-{t}-{n}-{at}"));
                            let _ = std::fs::create_dir_all(&dir);
                            for (path, text) in &texts {
                                let _ = std::fs::write(
                                    dir.join(path.file_name().unwrap_or_default()),
                                    text,
                                );
                            }
                            let _ = std::fs::write(dir.join("why.txt"), why.concat());
                            eprintln!(
                                "disagreement: {}input saved under {}",
                                why.concat(),
                                dir.display()
                            );
                        }
                    }
                    let kept = texts.clone();
                    match catch_unwind(AssertUnwindSafe(|| {
                        standby::profile::apply(standby::desired::load_texts(texts))
                    })) {
                        Ok(loaded) if loaded.desired.is_some() => {
                            valid.fetch_add(1, Ordering::Relaxed);
                        }
                        Ok(_) => {}
                        Err(_) => {
                            let at = panics.fetch_add(1, Ordering::Relaxed);
                            let dir = root.join(format!("target/fuzz-crash-{t}-{n}-{at}"));
                            let _ = std::fs::create_dir_all(&dir);
                            for (path, text) in kept {
                                let _ = std::fs::write(
                                    dir.join(path.file_name().unwrap_or_default()),
                                    text,
                                );
                            }
                            eprintln!("panic: input saved under {}", dir.display());
                        }
                    }
                    done.fetch_add(1, Ordering::Relaxed);
                }
            });
        }
    });
    let done = done.into_inner();
    let panics = panics.into_inner();
    let valid = valid.into_inner();
    println!(
        "fuzz-loader: {done} inputs from {} seeds on {threads} threads in {:.1} s; {} loaded as valid, {} rejected with diagnostics",
        seeds.len(),
        started.elapsed().as_secs_f64(),
        valid,
        done - valid - panics,
    );
    let disagreements = disagreements.into_inner();
    if differential {
        println!(
            "fuzz-loader: differential: {disagreements} inputs where the fast KDL path and kdl disagree"
        );
    }
    let failed = panics + disagreements;
    println!(
        "fuzz-loader: {} passed, {failed} failed",
        done.saturating_sub(failed)
    );
    if failed > 0 {
        std::process::exit(1);
    }
}
