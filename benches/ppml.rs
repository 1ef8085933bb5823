//! Criterion benchmarks of PPML-HDFE: the Advanced Guide's three-way model (skipped when the
//! data are absent) and a synthetic gravity panel (economies × economies × years, three-way
//! fixed effects) generated in memory.

use criterion::{criterion_group, criterion_main, Criterion};
use std::path::PathBuf;
use tradesim::estimate::{ppml, Dataset, Formula, PpmlOptions};

/// xorshift64* — deterministic and dependency-free.
struct Rng(u64);
impl Rng {
    fn next_f64(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
    }
    fn normal(&mut self) -> f64 {
        let (u, v) = (self.next_f64().max(1e-300), self.next_f64());
        (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
    }
    /// Poisson draw: inversion for small means, rounded normal for large ones.
    fn poisson(&mut self, mean: f64) -> f64 {
        if mean > 30.0 {
            return (mean + mean.sqrt() * self.normal()).round().max(0.0);
        }
        let (mut k, mut p, l) = (0.0, 1.0, (-mean).exp());
        loop {
            p *= self.next_f64();
            if p <= l {
                return k;
            }
            k += 1.0;
        }
    }
}

/// A synthetic panel: `n` economies (domestic pairs included) over `t` years, with
/// `trade ~ Poisson(exp(0.5 rta + exporter-year + importer-year + pair))`.
pub fn synthetic_panel(n: usize, t: usize, seed: u64) -> Dataset {
    let mut rng = Rng(seed.max(1));
    let ex_y: Vec<f64> = (0..n * t).map(|_| rng.normal()).collect();
    let im_y: Vec<f64> = (0..n * t).map(|_| rng.normal()).collect();
    let pair: Vec<f64> = (0..n * n).map(|_| rng.normal()).collect();
    let start: Vec<usize> = (0..n * n)
        .map(|_| (rng.next_f64() * 2.0 * t as f64) as usize)
        .collect();
    let (mut e, mut m, mut yr, mut trade, mut rta) = (vec![], vec![], vec![], vec![], vec![]);
    for i in 0..n {
        for j in 0..n {
            let s = start[i.min(j) * n + i.max(j)];
            for y in 0..t {
                let r = if i != j && y >= s { 1.0 } else { 0.0 };
                let eta = 0.5 * r + ex_y[i * t + y] + im_y[j * t + y] + pair[i * n + j] + 1.0;
                e.push(format!("E{i}"));
                m.push(format!("E{j}"));
                yr.push(2000.0 + y as f64);
                rta.push(r);
                trade.push(rng.poisson(eta.exp()));
            }
        }
    }
    let mut ds = Dataset::new();
    ds.push_text("exporter", e).unwrap();
    ds.push_text("importer", m).unwrap();
    ds.push_numeric("year", yr).unwrap();
    ds.push_numeric("rta", rta).unwrap();
    ds.push_numeric("trade", trade).unwrap();
    ds
}

fn bench(c: &mut Criterion) {
    let f =
        Formula::parse("trade ~ rta | exporter^year + importer^year + exporter^importer").unwrap();
    let mut g = c.benchmark_group("ppml");
    g.sample_size(10);
    let guide = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/data/advanced-guide/agtpa_applications.csv");
    if guide.exists() {
        let ds = Dataset::from_csv(&guide).unwrap();
        let opts = PpmlOptions {
            subset: Some("year in 1986,1990,1994,1998,2002,2006".into()),
            cluster: vec!["exporter^importer".into()],
            ..Default::default()
        };
        g.bench_function("guide_three_way", |b| {
            b.iter(|| ppml::fit(&ds, &f, &opts).unwrap())
        });
    } else {
        eprintln!("skipping guide_three_way: {} not found", guide.display());
    }
    let ds = synthetic_panel(60, 10, 7);
    let opts = PpmlOptions::default();
    g.bench_function("synthetic_60x60x10_three_way", |b| {
        b.iter(|| ppml::fit(&ds, &f, &opts).unwrap())
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
