//! Writes the libFuzzer targets' seed corpora to `fuzz/corpus/<target>/` (or the directory
//! given as the only argument) from the shared vectors and recorded seeded runs.

fn main() {
    let root = std::env::args().nth(1).map_or_else(
        || std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("corpus"),
        std::path::PathBuf::from,
    );
    match rbtcd_fuzz::corpus::write_all(&root) {
        Ok(written) => {
            for (target, n) in written {
                println!("{}: {n} inputs", root.join(target).display());
            }
        }
        Err(e) => {
            eprintln!("seed_corpora: cannot write under {}: {e}", root.display());
            std::process::exit(1);
        }
    }
}
