//! Stress check of the gravity solvers on hostile synthetic worlds:
//! `cargo run --release --example stress_gravity -- N SPREAD` (cost spread in orders of magnitude).
use tradesim::model::gravity::{self, CostMatrix, World};
use tradesim::model::solver::Settings;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let n: usize = args.get(1).map(|s| s.parse().unwrap()).unwrap_or(200);
    let spread: f64 = args.get(2).map(|s| s.parse().unwrap()).unwrap_or(12.0);
    let mut state = 12345u64;
    let mut u = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    let names: Vec<String> = (0..n).map(|i| format!("E{i}")).collect();
    let y: Vec<f64> = (0..n).map(|_| 10f64.powf(8.0 * u())).collect();
    let e: Vec<f64> = y.iter().map(|v| v * (0.7 + 0.6 * u())).collect();
    // with a third argument "blocs": two blocs trading 10^-spread as much across as within
    let blocs = args.get(3).map(|s| s == "blocs").unwrap_or(false);
    let t: Vec<f64> = (0..n * n)
        .map(|k| {
            let r = u();
            if blocs {
                let same = (k / n < n / 2) == (k % n < n / 2);
                if same {
                    1.0 + r
                } else {
                    10f64.powf(-spread) * (1.0 + r)
                }
            } else {
                10f64.powf(spread * (r - 0.5))
            }
        })
        .collect();
    let cf: Vec<f64> = t
        .iter()
        .enumerate()
        .map(|(k, v)| if k % 97 == 1 { v * 3.0 } else { *v })
        .collect();
    let w = World::new(names.clone(), y, e, 0).unwrap();
    let c = CostMatrix::new(&names, t).unwrap();
    let c2 = CostMatrix::new(&names, cf).unwrap();
    let start = std::time::Instant::now();
    match gravity::solve_exact(&w, &c, &c2, 5.0, &Settings::GRAVITY) {
        Ok(r) => println!(
            "n={n} spread=1e{spread}: baseline {} it, full {} it, market residual {:.1e}, {:?}",
            r.baseline.convergence.iterations,
            r.full.convergence.iterations,
            r.full.market_residual,
            start.elapsed()
        ),
        Err(e) => println!("n={n} spread=1e{spread}: {e} ({:?})", start.elapsed()),
    }
}
