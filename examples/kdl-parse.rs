//! The reference for the validate benchmark: parse KDL files with the `kdl` crate alone
//! (what `standby validate` would cost with kdl's parser and nothing else).
//!
//!     cargo run --release --example kdl-parse -- FILE…

fn main() {
    let mut nodes = 0;
    for path in std::env::args().skip(1) {
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) => {
                eprintln!("{path}: {e}");
                std::process::exit(1);
            }
        };
        match kdl::KdlDocument::parse_v2(&text) {
            Ok(document) => nodes += document.nodes().len(),
            Err(e) => {
                eprintln!("{path}: {e}");
                std::process::exit(1);
            }
        }
    }
    println!("{nodes} top-level nodes");
}
