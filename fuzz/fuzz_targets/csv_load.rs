//! Fuzz the CSV loaders: a tidy baseline's flows.csv / io.csv / final_demand.csv /
//! tariff_sets.csv, the FDI stocks file, and the estimation data set. The first byte picks the
//! file; the rest is its content; the other files of the baseline are fixed and valid.
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::path::PathBuf;

const ECONOMIES: &str = "code,name\nAAA,A\nBBB,B\nCCC,C\n";
const SECTORS: &str = "code,name,theta,traded\nAGR,Agriculture,8,true\nMAN,Manufactures,5,true\nSRV,Services,5,false\n";
const FLOWS: &str = "sector,exporter,importer,value,tariff\nAGR,AAA,AAA,100,0\nAGR,BBB,AAA,20,0.1\nAGR,BBB,BBB,80,0\nAGR,CCC,CCC,60,0\nMAN,AAA,AAA,300,0\nMAN,BBB,BBB,250,0\nMAN,CCC,CCC,200,0\nMAN,AAA,CCC,40,0.05\nSRV,AAA,AAA,500,0\nSRV,BBB,BBB,400,0\nSRV,CCC,CCC,300,0\n";

fn scratch() -> PathBuf {
    let d = PathBuf::from(format!("/dev/shm/tradesim-fuzz-csv-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&d);
    d
}

fuzz_target!(|data: &[u8]| {
    let Some((&which, content)) = data.split_first() else { return };
    let dir = scratch();
    for f in ["io.csv", "final_demand.csv", "tariff_sets.csv"] {
        let _ = std::fs::remove_file(dir.join(f));
    }
    let _ = std::fs::write(dir.join("economies.csv"), ECONOMIES);
    let _ = std::fs::write(dir.join("sectors.csv"), SECTORS);
    let _ = std::fs::write(dir.join("flows.csv"), FLOWS);
    let target = match which % 7 {
        0 => "flows.csv",
        1 => "io.csv",
        2 => "final_demand.csv",
        3 => "tariff_sets.csv",
        4 => "economies.csv",
        5 => "fdi.csv",
        _ => "panel.csv",
    };
    if std::fs::write(dir.join(target), content).is_err() {
        return;
    }
    match target {
        "fdi.csv" => {
            let codes = ["AAA", "BBB", "CCC"];
            let _ = tradesim::invest::load_stocks(&dir.join(target), &|c| codes.iter().position(|x| *x == c));
        }
        "panel.csv" => {
            if let Ok(ds) = tradesim::estimate::Dataset::from_csv(&dir.join(target)) {
                let _ = tradesim::estimate::ppml::fit(
                    &ds,
                    &tradesim::estimate::Formula::parse("y ~ x | a").unwrap(),
                    &tradesim::estimate::PpmlOptions::default(),
                );
            }
        }
        _ => {
            let _ = tradesim::data::tidy::load(&dir);
        }
    }
});
