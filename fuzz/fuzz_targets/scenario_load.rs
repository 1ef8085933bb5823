//! Fuzz the scenario, batch and structural-gravity loaders: any text must give a value or an
//! error, never a panic. The input is written to a scenario file in a scratch directory
//! (tmpfs) so that `extends`, baselines and estimate files resolve as for a user.
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::path::PathBuf;

fn scratch() -> PathBuf {
    let d = PathBuf::from(format!("/dev/shm/tradesim-fuzz-scenario-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&d);
    d
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let dir = scratch();
    let path = dir.join("s.ron");
    let _ = tradesim::scenario::parse(&path, text);
    let _ = tradesim::scenario::batch::parse(&path, text);
    if std::fs::write(&path, text).is_ok() {
        match tradesim::scenario::file_kind(text) {
            tradesim::scenario::FileKind::Batch => {
                let _ = tradesim::scenario::batch::load(&path);
            }
            tradesim::scenario::FileKind::StructuralGravity => {
                // Parses and checks the file (the data are read only by a run).
                let _ = tradesim::scenario::load_input(&path);
            }
            _ => {
                if let Ok(s) = tradesim::scenario::load(&path) {
                    // Resolve the tariff paths of a valid scenario (no solve: too slow per input).
                    let _ = tradesim::simulate::resolve_paths(&s);
                }
            }
        }
    }
});
