//! Writes a synthetic gravity world as a CSV in gegravity's layout plus a tradesim scenario:
//! `cargo run --release --example synthetic_gravity -- N DIR [SEED]`.
//! Columns: exporter, importer, year, trade, Y, E, pta, contiguity, lndist, international
//! (trade holds the baseline gravity flows).

use std::io::Write;
use tradesim::model::gravity::{self, synthetic::synthetic};
use tradesim::model::solver::Settings;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 3 {
        eprintln!("usage: synthetic_gravity N DIR [SEED]");
        std::process::exit(2);
    }
    let n: usize = args[1].parse()?;
    let dir = std::path::PathBuf::from(&args[2]);
    let seed: u64 = args.get(3).map(|s| s.parse()).transpose()?.unwrap_or(1);
    let s = synthetic(n, seed)?;
    let base = gravity::baseline(&s.world, &s.costs, &Settings::GRAVITY)?;
    std::fs::create_dir_all(&dir)?;
    let mut f = std::io::BufWriter::new(std::fs::File::create(dir.join("synthetic.csv"))?);
    writeln!(
        f,
        "exporter,importer,year,trade,Y,E,pta,contiguity,lndist,international"
    )?;
    let names = s.world.names();
    for i in 0..n {
        for j in 0..n {
            let c = &s.covariates[i * n + j];
            writeln!(
                f,
                "{},{},2006,{},{},{},{},{},{},{}",
                names[i],
                names[j],
                base.flows[i * n + j],
                s.world.output()[i],
                s.world.expenditure()[j],
                c.pta,
                c.contiguity,
                c.lndist,
                c.international
            )?;
        }
    }
    let [k, d, g, p, b] = gravity::synthetic::COEFFICIENTS;
    std::fs::write(
        dir.join("synthetic.ron"),
        format!(
            r#"StructuralGravity(
    name: "synthetic-{n}",
    data: "synthetic.csv",
    columns: (output: Some("Y"), expenditure: Some("E")),
    year: 2006,
    sigma: 5,
    reference: "{r}",
    costs: Coefficients(
        coefficients: {{"lndist": {d}, "contiguity": {g}, "pta": {p}, "international": {b}}},
        constant: {k},
    ),
    counterfactual: [SetCovariate(column: "pta", pairs: Between(["{a}"], ["{c}"]), value: 1)],
)
"#,
            r = names[0],
            a = names[0],
            c = names[1]
        ),
    )?;
    eprintln!("wrote {}/synthetic.csv and synthetic.ron", dir.display());
    Ok(())
}
