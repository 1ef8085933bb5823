//! Synthetic worlds for benchmarks and property tests: deterministic, consistent (an
//! equilibrium of the Caliendo–Parro model by construction), and labelled as made up.

use super::{derived_final_shares, Baseline, Cube, Economy, Sector};
use std::collections::BTreeMap;

/// SplitMix64: a small deterministic generator, enough for test worlds.
pub(crate) struct SplitMix(pub(crate) u64);

impl SplitMix {
    pub(crate) fn next(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// A synthetic world of `n` economies and `j` sectors (the last one non-traded when `j > 1`),
/// with gravity-like flows (sizes × distance^-1), tariffs of 0–15%, and input-output shares
/// when `io` is set. Economy codes are `E000`, …; sector codes `S00`, ….
pub fn world(n: usize, j: usize, io: bool, seed: u64) -> Baseline {
    let mut rng = SplitMix(seed);
    let economies: Vec<Economy> = (0..n)
        .map(|k| Economy {
            code: format!("E{k:03}"),
            name: format!("synthetic economy {k}"),
        })
        .collect();
    let sectors: Vec<Sector> = (0..j)
        .map(|k| Sector {
            code: format!("S{k:02}"),
            name: format!("synthetic sector {k}"),
            theta: 2.0 + 8.0 * rng.next(),
            traded: !(j > 1 && k == j - 1),
        })
        .collect();
    let size: Vec<f64> = (0..n).map(|_| (1.0 + 4.0 * rng.next()).exp()).collect();
    let pos: Vec<(f64, f64)> = (0..n).map(|_| (rng.next(), rng.next())).collect();
    let mut flows = Cube::zeros(j, n);
    let mut tariffs = Cube::zeros(j, n);
    for s in 0..j {
        for a in 0..n {
            for b in 0..n {
                let v = if a == b {
                    size[a] * size[a] * 20.0
                } else if sectors[s].traded {
                    let d = ((pos[a].0 - pos[b].0).powi(2) + (pos[a].1 - pos[b].1).powi(2)).sqrt()
                        + 0.05;
                    size[a] * size[b] / d * (0.5 + rng.next())
                } else {
                    0.0
                };
                flows.set(s, a, b, v);
                if a != b && sectors[s].traded {
                    tariffs.set(s, a, b, 0.15 * rng.next());
                }
            }
        }
    }
    let mut va_share = vec![1.0; n * j];
    let mut io_share = vec![0.0; n * j * j];
    if io {
        for e in 0..n {
            for s in 0..j {
                let va = 0.35 + 0.3 * rng.next();
                let w: Vec<f64> = (0..j).map(|_| rng.next()).collect();
                let tot: f64 = w.iter().sum();
                va_share[e * j + s] = va;
                for k in 0..j {
                    io_share[(e * j + k) * j + s] = (1.0 - va) * w[k] / tot;
                }
            }
        }
    }
    let mut b = Baseline {
        name: format!("synthetic {n}x{j} (seed {seed})"),
        economies,
        sectors,
        flows,
        tariffs,
        flags: BTreeMap::new(),
        value_added: vec![0.0; n],
        va_share,
        io_share,
        final_share: vec![0.0; n * j],
        deficit: vec![0.0; n],
        tariff_sets: BTreeMap::new(),
        product_groups: Vec::new(),
    };
    // Domestic sales large enough that intermediate use never exceeds expenditure.
    if io {
        for e in 0..n {
            for s in 0..j {
                let bump = b.flows.get(s, e, e) * 3.0;
                b.flows.set(s, e, e, bump);
            }
        }
    }
    // Consistency: intermediate use of every sector stays below 90% of its expenditure, so
    // that final demand is positive and the world is an equilibrium. Scale an economy's
    // input shares down (value-added shares up) where needed.
    let y = b.gross_output();
    let x = b.expenditure(&b.tariffs);
    for e in 0..n {
        let mut f = 1.0f64;
        for s in 0..j {
            let inter: f64 = (0..j).map(|k| b.io_share(e, s, k) * y[e * j + k]).sum();
            if inter > 0.0 {
                f = f.min(0.9 * x[e * j + s] / inter);
            }
        }
        if f < 1.0 {
            for s in 0..j {
                for k in 0..j {
                    b.io_share[(e * j + k) * j + s] *= f;
                }
                let used: f64 = (0..j).map(|k| b.io_share(e, k, s)).sum();
                b.va_share[e * j + s] = 1.0 - used;
            }
        }
    }
    let (ex, im) = (b.exports(), b.imports());
    for e in 0..n {
        b.value_added[e] = (0..j).map(|s| b.va_share[e * j + s] * y[e * j + s]).sum();
        b.deficit[e] = im[e] - ex[e];
    }
    b.final_share = derived_final_shares(&b);
    b
}

/// The economies of [`baci_year`] (`C001`…`C200`).
const BACI_ECONOMIES: usize = 200;
/// The HS6 products of [`baci_year`].
const BACI_PRODUCTS: usize = 5000;
/// The most rows [`baci_year`] writes: every ordered pair of its economies, each with all of
/// its products.
pub(crate) const BACI_MAX_ROWS: u64 =
    (BACI_ECONOMIES * (BACI_ECONOMIES - 1) * BACI_PRODUCTS) as u64;

/// A synthetic BACI-like year for timing the importer on full-size input (MADE UP, not data):
/// `BACI_SYNTHETIC_Y2020.csv` in BACI's layout (`t,i,j,k,v,q`, `k` quoted with its leading
/// zero, `q` sometimes `NA` padded with spaces as in the published files) with `rows` rows
/// over 200 economies and 5,000 HS6 products (every (i, j, k) once, sorted by i, j), its
/// country file `country_codes_SYNTHETIC.csv` (economies `C001`…`C200`), a region map
/// `regions_SYNTHETIC.csv` (C001…C010 their own regions, the rest ROW) and domestic sales
/// `domestic_SYNTHETIC.csv` for `sectors`. Deterministic in `seed`; `progress` counts rows.
pub(crate) fn baci_year(
    dir: &std::path::Path,
    rows: u64,
    seed: u64,
    sectors: &[String],
    progress: &dyn Fn(u64),
) -> crate::error::Result<Vec<std::path::PathBuf>> {
    use std::io::Write;
    let io = |p: &std::path::Path, e| crate::error::Error::io(p, e);
    std::fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
    let (nc, np) = (BACI_ECONOMIES, BACI_PRODUCTS);
    let mut state = seed ^ 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        // splitmix64
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    };
    let products: Vec<String> = (0..np)
        .map(|n| format!("{:02}{:04}", 1 + n * 97 / np, n % 10_000))
        .collect();
    let data = dir.join("BACI_SYNTHETIC_Y2020.csv");
    let f = std::fs::File::create(&data).map_err(|e| io(&data, e))?;
    let mut w = std::io::BufWriter::with_capacity(1 << 20, f);
    let pairs = (nc * (nc - 1)) as u64;
    let per_pair = rows / pairs;
    let extra = rows % pairs;
    writeln!(w, "t,i,j,k,v,q").map_err(|e| io(&data, e))?;
    let mut pair = 0u64;
    for i in 0..nc {
        for j in (0..nc).filter(|&j| j != i) {
            let m = (per_pair + u64::from(pair < extra)).min(np as u64) as usize;
            let start = (next() % np as u64) as usize;
            for t in 0..m {
                let k = &products[(start + t * 2919) % np];
                let v = (next() % 10_000_000) as f64 / 1000.0 + 0.001;
                let r = next();
                if r % 50 == 0 {
                    writeln!(
                        w,
                        "2020,{},{},\"{k}\",{v:.3},           NA",
                        4 * (i + 1),
                        4 * (j + 1)
                    )
                } else {
                    writeln!(
                        w,
                        "2020,{},{},\"{k}\",{v:.3},{:.3}",
                        4 * (i + 1),
                        4 * (j + 1),
                        (r % 100_000) as f64 / 100.0
                    )
                }
                .map_err(|e| io(&data, e))?;
            }
            progress(m as u64);
            pair += 1;
        }
    }
    w.flush().map_err(|e| io(&data, e))?;
    let mut out = vec![data];
    let countries = dir.join("country_codes_SYNTHETIC.csv");
    let mut s = String::from("country_code,country_name,country_iso2,country_iso3\n");
    for i in 0..nc {
        s.push_str(&format!(
            "{},Synthetic economy {},X{},C{:03}\n",
            4 * (i + 1),
            i + 1,
            i + 1,
            i + 1
        ));
    }
    std::fs::write(&countries, s).map_err(|e| io(&countries, e))?;
    out.push(countries);
    let regions = dir.join("regions_SYNTHETIC.csv");
    let mut s = String::from("economy,region\n");
    for i in 0..10 {
        s.push_str(&format!("C{:03},C{:03}\n", i + 1, i + 1));
    }
    std::fs::write(&regions, s).map_err(|e| io(&regions, e))?;
    out.push(regions);
    let domestic = dir.join("domestic_SYNTHETIC.csv");
    let mut s = String::from("economy,sector,value,unit\n");
    for r in (1..=10)
        .map(|i| format!("C{i:03}"))
        .chain(["ROW".to_string()])
    {
        for sec in sectors {
            s.push_str(&format!(
                "{r},{sec},{},million USD\n",
                100_000 + next() % 900_000
            ));
        }
    }
    std::fs::write(&domestic, s).map_err(|e| io(&domestic, e))?;
    out.push(domestic);
    Ok(out)
}
