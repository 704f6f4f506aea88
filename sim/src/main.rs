//! rbtcd's deterministic network simulator (arrives with the simulator issue).

fn main() {
    eprintln!("rbtcd-sim: the simulator is not built yet");
    std::process::exit(1);
}
