//! Issue 18: a batch on a real SLURM cluster, end to end.
//!
//! The test configures and starts a one-node cluster on this machine (Debian's `slurm-wlm` and
//! `munge`: munged, slurmctld and slurmd in the foreground, no systemd; proctrack/linuxproc,
//! task/none, select/cons_tres; its own munge key, ports and state directory), then:
//! 1. submits the tiny world's batch as a 3-shard array with `tradesim batch --slurm 3`; the
//!    merge job's `summary.csv` must be byte for byte a single local run's;
//! 2. submits it again held, puts a file where shard 2's output goes, releases it: shard 2 fails,
//!    the merge job fails and its log lists shard 2 with the command that reruns just it; the
//!    test removes the file, runs that command, and the merge is again the single run's bytes;
//! 3. reruns a shard that had finished: the same bytes (a rerun is idempotent).
//!
//! A guard cancels any job left, stops the daemons and removes the state directory, also when
//! the test fails. Without root or the packages the test prints why and passes, except with
//! CI=true or TRADESIM_REQUIRE_SLURM=1, where it fails (`.ci/run` installs the packages).
mod common;
use common::*;
use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long a job may take to end before the test gives up.
const JOB_TIMEOUT: Duration = Duration::from_secs(180);

/// Print a line of the test's log, with the seconds since the test began.
fn log(msg: impl AsRef<str>) {
    static START: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    let t = START.get_or_init(Instant::now).elapsed().as_secs_f64();
    eprintln!("slurm e2e [{t:5.1} s]: {}", msg.as_ref());
}

/// A program on the PATH or in the sbin directories.
fn find(program: &str) -> Option<PathBuf> {
    let path = std::env::var("PATH").unwrap_or_default();
    let found = path
        .split(':')
        .chain(["/usr/sbin", "/sbin", "/usr/bin", "/bin"])
        .map(|d| Path::new(d).join(program))
        .find(|p| p.is_file());
    found
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .map(|l| l.split_whitespace().nth(1) == Some("0"))
        })
        .unwrap_or(false)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port on loopback")
}

/// A one-node SLURM cluster started for the test; dropping it stops everything it started.
struct Cluster {
    dir: tempfile::TempDir,
    conf: PathBuf,
    /// The daemons, in the order started.
    daemons: Vec<(&'static str, Child)>,
}

impl Cluster {
    fn start() -> Result<Cluster, String> {
        let mut missing = Vec::new();
        let mut bin = BTreeMap::new();
        for p in [
            "munged",
            "slurmctld",
            "slurmd",
            "sbatch",
            "scontrol",
            "squeue",
            "scancel",
            "sinfo",
        ] {
            match find(p) {
                Some(path) => {
                    bin.insert(p, path);
                }
                None => missing.push(p),
            }
        }
        if !missing.is_empty() {
            return Err(format!(
                "{} not found (Debian packages slurm-wlm and munge)",
                missing.join(", ")
            ));
        }
        if !is_root() {
            return Err("slurmd runs jobs as root here; the test needs root".into());
        }
        let dir = tempfile::Builder::new()
            .prefix("tradesim-slurm-")
            .tempdir()
            .map_err(|e| e.to_string())?;
        let d = dir.path().to_path_buf();
        let mode = |p: &Path, m: u32| {
            std::fs::set_permissions(p, std::fs::Permissions::from_mode(m))
                .map_err(|e| e.to_string())
        };
        mode(&d, 0o755)?;
        for (sub, m) in [
            ("munge", 0o700),
            ("run", 0o755),
            ("state", 0o700),
            ("spool", 0o755),
            ("log", 0o755),
        ] {
            std::fs::create_dir(d.join(sub)).map_err(|e| e.to_string())?;
            mode(&d.join(sub), m)?;
        }
        // munged refuses a key others can read; it wants execute for all on the socket's dir.
        let mut key = vec![0u8; 1024];
        std::io::Read::read_exact(
            &mut std::fs::File::open("/dev/urandom").map_err(|e| e.to_string())?,
            &mut key,
        )
        .map_err(|e| e.to_string())?;
        let key_file = d.join("munge/munge.key");
        std::fs::write(&key_file, key).map_err(|e| e.to_string())?;
        mode(&key_file, 0o400)?;
        let socket = d.join("run/munge.socket");
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .map_err(|e| e.to_string())?
            .trim()
            .split('.')
            .next()
            .unwrap_or("localhost")
            .to_string();
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
        let conf = d.join("slurm.conf");
        let p = |s: &str| d.join(s).display().to_string();
        std::fs::write(
            &conf,
            format!(
                "# A one-node cluster for tradesim's end-to-end test (tests/slurm.rs).\n\
                 ClusterName=tradesimtest\n\
                 SlurmctldHost={host}(127.0.0.1)\n\
                 SlurmctldPort={}\n\
                 SlurmdPort={}\n\
                 SlurmUser=root\n\
                 SlurmdUser=root\n\
                 AuthType=auth/munge\n\
                 CredType=cred/munge\n\
                 AuthInfo=socket={}\n\
                 StateSaveLocation={}\n\
                 SlurmdSpoolDir={}\n\
                 SlurmctldPidFile={}\n\
                 SlurmdPidFile={}\n\
                 SlurmctldLogFile={}\n\
                 SlurmdLogFile={}\n\
                 ProctrackType=proctrack/linuxproc\n\
                 TaskPlugin=task/none\n\
                 SelectType=select/cons_tres\n\
                 SelectTypeParameters=CR_Core\n\
                 JobAcctGatherType=jobacct_gather/none\n\
                 AccountingStorageType=accounting_storage/none\n\
                 JobCompType=jobcomp/filetxt\n\
                 JobCompLoc={}\n\
                 MpiDefault=none\n\
                 MailProg=/bin/true\n\
                 ReturnToService=2\n\
                 SchedulerType=sched/builtin\n\
                 NodeName={host} NodeAddr=127.0.0.1 CPUs={cpus} RealMemory=1000 State=UNKNOWN\n\
                 PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP\n",
                free_port(),
                free_port(),
                socket.display(),
                p("state"),
                p("spool"),
                p("run/slurmctld.pid"),
                p("run/slurmd.pid"),
                p("log/slurmctld.log"),
                p("log/slurmd.log"),
                p("log/jobcomp.log"),
            ),
        )
        .map_err(|e| e.to_string())?;
        let mut cluster = Cluster {
            dir,
            conf: conf.clone(),
            daemons: Vec::new(),
        };
        let s = |x: &Path| x.display().to_string();
        cluster.spawn(
            "munged",
            &bin["munged"],
            &[
                "-F".into(),
                format!("--socket={}", s(&socket)),
                format!("--key-file={}", s(&key_file)),
                format!("--pid-file={}", p("run/munged.pid")),
                format!("--seed-file={}", p("munge/munged.seed")),
                format!("--log-file={}", p("log/munged.log")),
            ],
        )?;
        cluster.wait("munged's socket", Duration::from_secs(15), |_| {
            socket.exists()
        })?;
        cluster.spawn(
            "slurmctld",
            &bin["slurmctld"],
            &["-D".into(), "-f".into(), s(&conf)],
        )?;
        cluster.spawn(
            "slurmd",
            &bin["slurmd"],
            &[
                "-D".into(),
                "-f".into(),
                s(&conf),
                "-N".into(),
                host.clone(),
            ],
        )?;
        cluster.wait("the node to be idle", Duration::from_secs(60), |c| {
            c.slurm("sinfo", &["--noheader", "--format=%T"])
                .is_some_and(|o| o.trim() == "idle")
        })?;
        Ok(cluster)
    }

    fn spawn(&mut self, name: &'static str, program: &Path, args: &[String]) -> Result<(), String> {
        let out = std::fs::File::create(self.dir.path().join(format!("log/{name}.out")))
            .map_err(|e| e.to_string())?;
        let err = out.try_clone().map_err(|e| e.to_string())?;
        let child = Command::new(program)
            .args(args)
            .env("SLURM_CONF", &self.conf)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .map_err(|e| format!("{name}: {e}"))?;
        log(format!("started {name} (pid {})", child.id()));
        self.daemons.push((name, child));
        Ok(())
    }

    /// Wait until `ready` holds, or fail with the daemons' output.
    fn wait(
        &mut self,
        what: &str,
        timeout: Duration,
        ready: impl Fn(&Cluster) -> bool,
    ) -> Result<(), String> {
        let t = Instant::now();
        while t.elapsed() < timeout {
            if ready(self) {
                return Ok(());
            }
            for (name, child) in &mut self.daemons {
                if let Ok(Some(status)) = child.try_wait() {
                    return Err(format!(
                        "{name} exited ({status}) while waiting for {what}:\n{}",
                        self_logs(self.dir.path())
                    ));
                }
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        Err(format!(
            "timed out waiting for {what}:\n{}",
            self_logs(self.dir.path())
        ))
    }

    /// Run a SLURM client command of this cluster; its stdout when it succeeds.
    fn slurm(&self, program: &str, args: &[&str]) -> Option<String> {
        let o = Command::new(find(program)?)
            .args(args)
            .env("SLURM_CONF", &self.conf)
            .output()
            .ok()?;
        o.status
            .success()
            .then(|| String::from_utf8_lossy(&o.stdout).to_string())
    }

    /// The finished jobs, from the job completion log: one map of its fields per job (or task).
    fn finished(&self) -> Vec<BTreeMap<String, String>> {
        let text =
            std::fs::read_to_string(self.dir.path().join("log/jobcomp.log")).unwrap_or_default();
        text.lines()
            .map(|l| {
                l.split_whitespace()
                    .filter_map(|kv| kv.split_once('='))
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect()
            })
            .collect()
    }

    /// Wait until job `id` (not an array) has ended; its state.
    fn wait_job(&self, id: &str) -> String {
        let t = Instant::now();
        loop {
            if let Some(j) = self
                .finished()
                .into_iter()
                .find(|j| j.get("JobId").map(String::as_str) == Some(id))
            {
                return j["JobState"].clone();
            }
            if t.elapsed() > JOB_TIMEOUT {
                panic!(
                    "job {id} did not end within {JOB_TIMEOUT:?}\nsqueue:\n{}\n{}",
                    self.slurm("squeue", &["--all"]).unwrap_or_default(),
                    self_logs(self.dir.path())
                );
            }
            std::thread::sleep(Duration::from_millis(250));
        }
    }

    /// The states of the tasks of array job `id`, by task id.
    fn task_states(&self, id: &str) -> BTreeMap<usize, String> {
        self.finished()
            .into_iter()
            .filter(|j| j.get("ArrayJobId").map(String::as_str) == Some(id))
            .filter_map(|j| {
                Some((
                    j.get("ArrayTaskId")?.parse().ok()?,
                    j.get("JobState")?.clone(),
                ))
            })
            .collect()
    }
}

fn self_logs(dir: &Path) -> String {
    let mut s = String::new();
    for f in [
        "munged.out",
        "slurmctld.out",
        "slurmd.out",
        "slurmctld.log",
        "slurmd.log",
    ] {
        let text = std::fs::read_to_string(dir.join("log").join(f)).unwrap_or_default();
        let tail: Vec<&str> = text.lines().rev().take(15).collect();
        s.push_str(&format!("--- {f} (last lines)\n"));
        for l in tail.into_iter().rev() {
            s.push_str(l);
            s.push('\n');
        }
    }
    s
}

impl Drop for Cluster {
    fn drop(&mut self) {
        // Jobs left by a failed test are cancelled first, so no job step outlives slurmd.
        if let Some(ids) = self.slurm("squeue", &["--noheader", "--format=%A"]) {
            let ids: Vec<&str> = ids.split_whitespace().collect();
            if !ids.is_empty() {
                let mut args = vec![];
                args.extend(ids.iter().copied());
                let _ = self.slurm("scancel", &args);
                std::thread::sleep(Duration::from_secs(2));
            }
        }
        for (name, child) in self.daemons.iter_mut().rev() {
            let pid = child.id().to_string();
            let _ = Command::new("kill").args(["-TERM", &pid]).status();
            let t = Instant::now();
            while t.elapsed() < Duration::from_secs(10) {
                if let Ok(Some(_)) = child.try_wait() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            if let Ok(None) = child.try_wait() {
                let _ = child.kill();
            }
            let _ = child.wait();
            log(format!("stopped {name} (pid {pid})"));
        }
        // The TempDir (state, spool, logs, munge key) is removed when `dir` drops, after this.
    }
}

fn md5(path: &Path) -> String {
    let o = Command::new("md5sum")
        .arg(path)
        .output()
        .expect("md5sum runs");
    String::from_utf8_lossy(&o.stdout)
        .split_whitespace()
        .next()
        .unwrap_or("")
        .to_string()
}

fn submissions(job_dir: &Path) -> Vec<(String, String, String)> {
    let v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(job_dir.join("job.json")).unwrap()).unwrap();
    v["submissions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let shards: Vec<String> = s["shards"]
                .as_array()
                .unwrap()
                .iter()
                .map(|k| k.to_string())
                .collect();
            (
                s["array_job"].as_str().unwrap().to_string(),
                s["merge_job"].as_str().unwrap().to_string(),
                shards.join(","),
            )
        })
        .collect()
}

/// Run tradesim against the cluster.
fn tradesim_on(cluster: &Cluster, args: &[&str]) -> String {
    let o = Command::new(env!("CARGO_BIN_EXE_tradesim"))
        .args(args)
        .env("SLURM_CONF", &cluster.conf)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "{args:?}: {}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).to_string()
}

/// Wait for the last submission of a job directory; check every task and the merge job ended
/// as expected; log them.
fn wait_submission(
    cluster: &Cluster,
    job_dir: &Path,
    want_tasks: &[(usize, &str)],
    want_merge: &str,
) {
    let (array, merge, shards) = submissions(job_dir).pop().unwrap();
    let state = cluster.wait_job(&merge);
    let tasks = cluster.task_states(&array);
    log(format!(
        "array job {array} (shards {shards}): tasks {tasks:?}; merge job {merge}: {state}"
    ));
    for (k, s) in want_tasks {
        assert_eq!(
            tasks.get(k).map(String::as_str),
            Some(*s),
            "task {k} of array job {array}: {tasks:?}"
        );
    }
    assert_eq!(state, want_merge, "merge job {merge}");
}

#[test]
fn batch_on_a_real_slurm_cluster() {
    let required = std::env::var("CI").as_deref() == Ok("true")
        || std::env::var("TRADESIM_REQUIRE_SLURM").as_deref() == Ok("1");
    let t0 = Instant::now();
    // Declared before the cluster so that the cluster (and any job) stops before it is removed.
    let d = tempfile::tempdir().unwrap();
    let cluster = match Cluster::start() {
        Ok(c) => c,
        Err(why) if !required => {
            eprintln!("skipping: a SLURM cluster cannot be started here: {why}");
            return;
        }
        Err(why) => panic!("a SLURM cluster cannot be started (required on CI): {why}"),
    };
    log(format!(
        "one-node cluster up in {:.1} s",
        t0.elapsed().as_secs_f64()
    ));
    let b = tiny_batch(d.path(), 12, THETA_LOGNORMAL);
    let b = b.to_str().unwrap();
    let p = |s: &str| d.path().join(s);
    tradesim_on(
        &cluster,
        &[
            "batch",
            b,
            "--out",
            p("single").to_str().unwrap(),
            "--quiet",
        ],
    );
    let single = p("single/summary.csv");
    log(format!(
        "single local run: summary.csv md5 {}",
        md5(&single)
    ));

    // 1. The whole batch as a 3-shard array and the dependent merge (a space in the job
    // directory's name, as users' paths have).
    let job1 = p("job 1");
    let out = tradesim_on(
        &cluster,
        &["batch", b, "--slurm", "3", "--out", job1.to_str().unwrap()],
    );
    log(out.lines().next().unwrap_or(""));
    wait_submission(
        &cluster,
        &job1,
        &[(1, "COMPLETED"), (2, "COMPLETED"), (3, "COMPLETED")],
        "COMPLETED",
    );
    let merged = job1.join("merged/summary.csv");
    log(format!("merged by SLURM: summary.csv md5 {}", md5(&merged)));
    for f in ["summary.csv", "economies.csv", "solver.csv"] {
        assert_eq!(
            std::fs::read(p("single").join(f)).unwrap(),
            std::fs::read(job1.join("merged").join(f)).unwrap(),
            "{f}: SLURM's merge vs the single run"
        );
    }

    // 2. A shard that fails: the merge job fails and names it with the rerun command. The job
    // directory is written without submitting, a file is put where shard 2's output goes,
    // then all three shards are submitted (as a rerun of shards 1-3 of a job not yet run).
    let job2 = p("job2");
    let out = tradesim_on(
        &cluster,
        &[
            "batch",
            b,
            "--slurm",
            "3",
            "--out",
            job2.to_str().unwrap(),
            "--no-submit",
        ],
    );
    assert!(out.contains("j=$(sbatch --parsable --array=1-3"), "{out}");
    std::fs::write(
        job2.join("shard-2"),
        "in the way: shard 2 cannot write its directory",
    )
    .unwrap();
    tradesim_on(
        &cluster,
        &[
            "batch",
            b,
            "--slurm",
            "3",
            "--out",
            job2.to_str().unwrap(),
            "--rerun",
            "1-3",
            "--quiet",
        ],
    );
    let (_, merge, _) = submissions(&job2).pop().unwrap();
    wait_submission(
        &cluster,
        &job2,
        &[(1, "COMPLETED"), (2, "FAILED"), (3, "COMPLETED")],
        "FAILED",
    );
    let (array, _, _) = submissions(&job2).pop().unwrap();
    let shard_log =
        std::fs::read_to_string(job2.join(format!("logs/shard-2-{array}.out"))).unwrap();
    log(format!("shard 2's log:\n{shard_log}"));
    assert!(shard_log.contains("is not a directory"), "{shard_log}");
    let merge_log = std::fs::read_to_string(job2.join(format!("logs/merge-{merge}.out"))).unwrap();
    log(format!("merge job {merge}'s log:\n{merge_log}"));
    assert!(
        merge_log.contains("shard 2: it has not finished") && !merge_log.contains("shard 1:"),
        "{merge_log}"
    );
    let rerun = merge_log
        .lines()
        .skip_while(|l| !l.starts_with("run just these shards again"))
        .nth(1)
        .expect("the rerun command")
        .trim()
        .to_string();
    assert!(rerun.ends_with("--rerun 2"), "{rerun}");
    std::fs::remove_file(job2.join("shard-2")).unwrap();
    log(format!("running the command the log gives: {rerun}"));
    let o = Command::new("sh")
        .args(["-c", &rerun])
        .env("SLURM_CONF", &cluster.conf)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    wait_submission(&cluster, &job2, &[(2, "COMPLETED")], "COMPLETED");
    log(format!(
        "merged after the rerun: summary.csv md5 {}",
        md5(&job2.join("merged/summary.csv"))
    ));
    assert_eq!(
        std::fs::read(&single).unwrap(),
        std::fs::read(job2.join("merged/summary.csv")).unwrap(),
        "summary.csv after rerunning the failed shard vs the single run"
    );

    // 3. Rerunning a shard that had finished replaces it with the same bytes.
    let before = std::fs::read(job2.join("shard-1/economies.csv")).unwrap();
    let o = Command::new("sh")
        .args(["-c", &rerun.replace("--rerun 2", "--rerun 1")])
        .env("SLURM_CONF", &cluster.conf)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    wait_submission(&cluster, &job2, &[(1, "COMPLETED")], "COMPLETED");
    assert_eq!(
        before,
        std::fs::read(job2.join("shard-1/economies.csv")).unwrap()
    );
    assert_eq!(
        std::fs::read(&single).unwrap(),
        std::fs::read(job2.join("merged/summary.csv")).unwrap(),
        "summary.csv after rerunning a finished shard vs the single run"
    );
    log(format!(
        "md5 single {} = merged {}; test took {:.1} s with the cluster's start",
        md5(&single),
        md5(&job2.join("merged/summary.csv")),
        t0.elapsed().as_secs_f64()
    ));
}

/// Run a job directory's script as SLURM would run it (task `shard` of the array), without
/// SLURM: the scripts are plain bash.
fn run_script(job: &Path, script: &str, shard: Option<usize>) -> std::process::Output {
    let mut c = Command::new("bash");
    c.arg(job.join(script)).env_remove("SLURM_CPUS_PER_TASK");
    match shard {
        Some(k) => c.env("SLURM_ARRAY_TASK_ID", k.to_string()),
        None => c.env_remove("SLURM_ARRAY_TASK_ID"),
    };
    c.output().unwrap()
}

/// The job directory's scripts, `merge --job` and the rerun command, without a cluster (this
/// runs everywhere): a shard not run is listed with the command that reruns it; a shard run on
/// an edited scenario is listed as run on other inputs; rerun, the merge is the single run's.
#[test]
fn job_scripts_merge_and_rerun_without_a_cluster() {
    let d = tempfile::tempdir().unwrap();
    let b = tiny_batch(d.path(), 6, THETA_LOGNORMAL);
    let b = b.to_str().unwrap();
    let p = |s: &str| d.path().join(s);
    let single = p("single");
    assert!(
        tradesim(&["batch", b, "--out", single.to_str().unwrap(), "--quiet"])
            .status
            .success()
    );
    let job = p("job");
    let j = job.to_str().unwrap();
    let o = tradesim(&["batch", b, "--slurm", "3", "--out", j, "--no-submit"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let ok = |o: std::process::Output| {
        assert!(
            o.status.success(),
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
    };

    // Shard 2 not run: the merge fails and names it with the command that reruns it.
    ok(run_script(&job, "shard.sbatch", Some(1)));
    ok(run_script(&job, "shard.sbatch", Some(3)));
    let o = run_script(&job, "merge.sbatch", None);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success(), "{err}");
    assert!(
        err.contains("1 of the 3 shards")
            && err.contains("shard 2: it has not finished")
            && err.contains(&format!("--out {j} "))
            && err.trim_end().ends_with("--rerun 2"),
        "{err}"
    );
    assert!(!job.join("merged").exists());
    // Without SLURM the script refuses to run outside an array.
    let o = run_script(&job, "shard.sbatch", None);
    assert!(String::from_utf8_lossy(&o.stderr).contains("submit this script as a job array"));

    ok(run_script(&job, "shard.sbatch", Some(2)));
    ok(run_script(&job, "merge.sbatch", None));
    let read = |dir: &Path, f: &str| std::fs::read(dir.join(f)).unwrap();
    for f in ["summary.csv", "economies.csv", "report_meta.json"] {
        assert_eq!(read(&single, f), read(&job.join("merged"), f), "{f}");
    }
    // A rerun of a finished shard replaces it with the same bytes; the merge is replaced too.
    let before = read(&job.join("shard-1"), "economies.csv");
    ok(run_script(&job, "shard.sbatch", Some(1)));
    assert_eq!(before, read(&job.join("shard-1"), "economies.csv"));
    ok(run_script(&job, "merge.sbatch", None));
    assert_eq!(
        read(&single, "summary.csv"),
        read(&job.join("merged"), "summary.csv")
    );

    // slow.ron edited after shards 1 and 2 ran, before shard 3 ran again: 1 and 2 are stale.
    let slow = p("slow.ron");
    let text = std::fs::read_to_string(&slow).unwrap();
    std::fs::write(&slow, text.replace("Linear(years: 8)", "Linear(years: 6)")).unwrap();
    ok(run_script(&job, "shard.sbatch", Some(3)));
    let o = run_script(&job, "merge.sbatch", None);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        !o.status.success()
            && err.contains("shard 1: it was run on other inputs: input")
            && err.contains("slow.ron differs")
            && err.contains("shard 2: it was run on other inputs")
            && !err.contains("shard 3:")
            && err.trim_end().ends_with("--rerun 1-2"),
        "{err}"
    );

    // A second submission into the job directory is refused (it names the rerun command);
    // with --force the whole job is replaced (its shards and merge with it), but not with a
    // file of the user's in it; options tradesim sets itself are refused.
    let o = tradesim(&["batch", b, "--slurm", "3", "--out", j, "--no-submit"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        !o.status.success() && err.contains("--rerun SHARDS") && err.contains("--force"),
        "{err}"
    );
    std::fs::write(job.join("notes.txt"), "mine").unwrap();
    let o = tradesim(&[
        "batch",
        b,
        "--slurm",
        "3",
        "--out",
        j,
        "--no-submit",
        "--force",
    ]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success() && err.contains("notes.txt"), "{err}");
    assert!(job.join("notes.txt").exists() && job.join("merged").exists());
    std::fs::remove_file(job.join("notes.txt")).unwrap();
    ok(tradesim(&[
        "batch",
        b,
        "--slurm",
        "3",
        "--out",
        j,
        "--no-submit",
        "--force",
    ]));
    assert!(!job.join("shard-1").exists() && !job.join("merged").exists());
    assert!(job.join("job.json").exists());
    let o = tradesim(&[
        "batch",
        b,
        "--slurm",
        "3",
        "--out",
        p("other").to_str().unwrap(),
        "--slurm-opts",
        "--array=1-9",
    ]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        !o.status.success() && err.contains("--slurm-opts") && err.contains("remove it"),
        "{err}"
    );
    assert!(!p("other").exists());
}

/// `tradesim ARGS`, which must fail with an error (exit code 1, or 2 for clap's), not a
/// crash; its stderr.
fn fails(args: &[&str]) -> String {
    let o = tradesim(args);
    let err = String::from_utf8_lossy(&o.stderr).to_string();
    assert!(
        matches!(o.status.code(), Some(1 | 2)),
        "{args:?}: {:?} {err}",
        o.status
    );
    err
}

/// The tiny batch (2 draws: 12 units) in `dir` and its SLURM job of `shards` shards written
/// with --no-submit into `dir/job`: the batch file and the job directory.
fn job_of_tiny_batch(dir: &Path, shards: &str) -> (String, PathBuf) {
    let b = tiny_batch(dir, 2, THETA_LOGNORMAL);
    let (b, job) = (b.to_str().unwrap().to_string(), dir.join("job"));
    let o = tradesim(&[
        "batch",
        &b,
        "--slurm",
        shards,
        "--out",
        job.to_str().unwrap(),
        "--no-submit",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    (b, job)
}

/// `--rerun` lists that name no shard or shards the job lacks are refused with what to write,
/// and a huge range is refused, not listed (it filled the memory and aborted).
#[test]
fn rerun_lists_are_checked_against_the_job() {
    let d = tempfile::tempdir().unwrap();
    let (b, job) = job_of_tiny_batch(d.path(), "4");
    let (b, j) = (b.as_str(), job.to_str().unwrap());
    let rerun = |list: &str| {
        fails(&[
            "batch",
            b,
            "--slurm",
            "4",
            "--out",
            j,
            "--no-submit",
            "--rerun",
            list,
        ])
    };
    for (list, said) in [
        (
            "1-100000000000",
            "--rerun: shard 5: the job has shards 1 to 4",
        ),
        ("5", "--rerun: shard 5: the job has shards 1 to 4"),
        ("2,,3", "`2,,3`: a shard number is missing between commas"),
        ("3-", "`3-`: write a range low-high, e.g. 1-3"),
        ("0", "`0` is not a shard number"),
        ("a", "`a` is not a shard number"),
    ] {
        let err = rerun(list);
        assert!(err.contains(said), "{list}: {err}");
    }
}

/// A job's shard found incomplete while merging (a table deleted, rows gone) is named by
/// `merge --job` with the command that reruns it as a job (`--slurm N … --rerun K`), not the
/// plain `batch --shard` command, whose output would go elsewhere than the job's shard-K/.
#[test]
fn merge_job_names_an_incomplete_shards_job_rerun() {
    let d = tempfile::tempdir().unwrap();
    let (_, job) = job_of_tiny_batch(d.path(), "3");
    let j = job.to_str().unwrap();
    for k in 1..=3 {
        let o = run_script(&job, "shard.sbatch", Some(k));
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    let shard2 = job.join("shard-2");
    // `merge --job` fails naming `said` and the job's rerun of shard 2.
    let rerun_named = |said: &str| {
        let err = fails(&["merge", "--job", j]);
        assert!(
            err.contains(said)
                && err.contains(&format!("--slurm 3 --out {j} "))
                && err.trim_end().ends_with("--rerun 2")
                && !err.contains("--shard"),
            "{err}"
        );
    };
    let keep = std::fs::read(shard2.join("economies.csv")).unwrap();
    std::fs::remove_file(shard2.join("solver.csv")).unwrap();
    rerun_named("shard 2 of 3 has no solver.csv");
    // A year of a unit gone from economies.csv: the same command.
    std::fs::write(shard2.join("solver.csv"), "x").unwrap();
    let text = String::from_utf8(keep).unwrap();
    let kept: String = text
        .lines()
        .filter(|l| !l.starts_with("slow,2020,2,"))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(shard2.join("economies.csv"), kept).unwrap();
    rerun_named("economies.csv, row 8: scenario `slow`, draw 2 has the years 2016");
    assert!(!job.join("merged").exists());
}

/// A rerun of some shards with other draws or bilateral tables than the job's is refused (the
/// rerun shards could never be merged with the others, and the job's scripts were rewritten
/// to run every later shard so), naming the job's own rerun and the rerun of every shard;
/// every shard may be run again with new ones.
#[test]
fn a_rerun_of_some_shards_keeps_the_jobs_draws_and_tables() {
    let d = tempfile::tempdir().unwrap();
    let (b, job) = job_of_tiny_batch(d.path(), "3");
    let (b, j) = (b.as_str(), job.to_str().unwrap());
    let script = std::fs::read(job.join("shard.sbatch")).unwrap();
    let rerun = |extra: &[&str]| {
        let mut args = vec!["batch", b, "--slurm", "3", "--out", j, "--no-submit"];
        args.extend(extra);
        args.iter().map(|s| s.to_string()).collect::<Vec<_>>()
    };
    for (extra, differs) in [
        (["--rerun", "2", "--draws", "3"], "with 3 and `central`"),
        (["--rerun", "2", "--bilateral", "all"], "with 2 and `all`"),
    ] {
        let args = rerun(&extra);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let err = fails(&args);
        assert!(
            err.contains(
                "runs its shards with 2 draws per scenario and bilateral tables `central`"
            ) && err.contains(differs)
                && err.contains("--bilateral central --chunk 16 --rerun 2;")
                && err.trim_end().ends_with("--rerun 1-3"),
            "{err}"
        );
        assert_eq!(std::fs::read(job.join("shard.sbatch")).unwrap(), script);
    }
    let args = rerun(&["--rerun", "1-3", "--draws", "3"]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = tradesim(&args);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let script = String::from_utf8(std::fs::read(job.join("shard.sbatch")).unwrap()).unwrap();
    assert!(script.contains("--draws 3"), "{script}");
}

/// A shard of a job run without --keep-going stops at a draw that fails, and its rerun fails
/// the same way: the merge's list of shards to run again says to add --keep-going (the rerun
/// of some shards may add it); with --keep-going it does not.
#[test]
fn merge_job_says_a_shard_stopped_by_a_failed_draw_needs_keep_going() {
    let d = tempfile::tempdir().unwrap();
    let (b, job) = job_of_tiny_batch(d.path(), "3");
    let (b, j) = (b.as_str(), job.to_str().unwrap());
    let said = "run with --keep-going to record failed draws in failures.csv and go on";
    let err = fails(&["merge", "--job", j]);
    assert!(
        err.contains(said) && err.trim_end().ends_with("--rerun 1-3"),
        "{err}"
    );
    let rerun = ["--slurm", "3", "--out", j, "--no-submit", "--rerun", "1-3"];
    let o = tradesim(&[&["batch", b][..], &rerun, &["--keep-going"]].concat());
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let err = fails(&["merge", "--job", j]);
    assert!(
        !err.contains(said) && err.trim_end().ends_with("--keep-going --rerun 1-3"),
        "{err}"
    );
}

/// A fake `sbatch` in `dir/bin` that appends the script it is given to `dir/bin/submitted`
/// and prints the job id 4711, and `batch B --slurm 3 --out J EXTRA…` run with it first on
/// the PATH: the bin directory and that command.
fn fake_sbatch<'a>(
    dir: &Path,
    b: &'a str,
    j: &'a str,
) -> (PathBuf, impl Fn(&[&str]) -> std::process::Output + 'a) {
    let bin = dir.join("bin");
    std::fs::create_dir(&bin).unwrap();
    let sbatch = bin.join("sbatch");
    std::fs::write(
        &sbatch,
        "#!/bin/sh\nfor a; do last=$a; done\ncat \"$last\" >> \"$(dirname \"$0\")/submitted\"\necho 4711\n",
    )
    .unwrap();
    std::fs::set_permissions(&sbatch, std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let run = move |extra: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_tradesim"))
            .args(["batch", b, "--slurm", "3", "--out", j])
            .args(extra)
            .env("PATH", &path)
            .output()
            .unwrap()
    };
    (bin, run)
}

/// A user's edit of a job script (a `module load` line in shard.sbatch) survives a rerun of
/// some shards: the rerun would write the script as tradesim wrote it, so it keeps the edited
/// one and submits it (a fake sbatch on the PATH records the scripts it is given), and says so;
/// it was replaced without a word. A rerun that would write the script otherwise (here with
/// --keep-going) refuses, naming it, and writes nothing; the script moved aside, the rerun
/// writes a new one. A job directory of an older tradesim, whose marker has no fingerprint of
/// the scripts, is rerun as before (its scripts replaced), and the fingerprints are recorded.
#[test]
fn a_rerun_keeps_an_edited_job_script() {
    let d = tempfile::tempdir().unwrap();
    let (b, job) = job_of_tiny_batch(d.path(), "3");
    let (b, j) = (b.as_str(), job.to_str().unwrap());
    let (bin, rerun) = fake_sbatch(d.path(), b, j);
    let text = |p: &Path| std::fs::read_to_string(p).unwrap();
    let shard = job.join("shard.sbatch");
    let edited = text(&shard).replacen(
        "set -euo pipefail\n",
        "module load gcc/12\nset -euo pipefail\n",
        1,
    );
    assert!(edited.contains("module load"));
    std::fs::write(&shard, &edited).unwrap();

    let o = rerun(&["--rerun", "2"]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "{out}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(text(&shard), edited, "the edit is kept");
    assert!(
        text(&bin.join("submitted")).contains("module load gcc/12\n"),
        "the edited script is submitted"
    );
    assert!(
        out.contains("submitted batch") && out.contains("kept shard.sbatch as you edited it"),
        "{out}"
    );
    assert!(text(&job.join("job.json")).contains("\"4711\""));

    // A rerun that would write the script otherwise: refused, nothing written.
    let job_json = text(&job.join("job.json"));
    let o = rerun(&["--rerun", "2", "--keep-going", "--no-submit"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        o.status.code() == Some(1)
            && err.contains(&format!(
                "{}: was changed after tradesim wrote it",
                shard.display()
            ))
            && err.contains("move it aside")
            && err.contains("--no-submit"),
        "{err}"
    );
    assert_eq!(text(&shard), edited);
    assert_eq!(text(&job.join("job.json")), job_json);
    // Moved aside: the rerun writes tradesim's new script.
    std::fs::rename(&shard, job.join("shard.sbatch.mine")).unwrap();
    let o = rerun(&["--rerun", "2", "--keep-going", "--no-submit"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(text(&shard).contains("--keep-going") && !text(&shard).contains("module load"));
    std::fs::remove_file(job.join("shard.sbatch.mine")).unwrap();

    // A job directory of an older tradesim: no fingerprints in its marker. Its scripts are
    // replaced as they were (an older rerun rewrote them without recording them, so a script
    // newer than the marker may well be tradesim's own), and their fingerprints recorded.
    let marker = job.join(".tradesim-output");
    let old: String = text(&marker)
        .lines()
        .filter(|l| !l.starts_with("# as written: "))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(&marker, old).unwrap();
    std::fs::write(&shard, text(&shard).replace("set -euo", "true\nset -euo")).unwrap();
    let o = rerun(&["--rerun", "2", "--keep-going", "--no-submit"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(!text(&shard).contains("true\n"));
    assert!(
        text(&marker).contains("# as written: shard.sbatch: ")
            && text(&marker).contains("# as written: merge.sbatch: "),
        "{}",
        text(&marker)
    );
}

/// The job of the tiny batch in 3 shards in `dir/job`, every shard run and merged, and
/// `tradesim report` run on its merged/: the batch file and the job directory.
fn merged_job_with_a_report(dir: &Path) -> (String, PathBuf) {
    let (b, job) = job_of_tiny_batch(dir, "3");
    for k in 1..=3 {
        let o = run_script(&job, "shard.sbatch", Some(k));
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    let o = run_script(&job, "merge.sbatch", None);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let o = tradesim(&["report", job.join("merged").to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    (b, job)
}

/// A merge of a job replaces merged/ whole, and deleted a report.html the user had edited
/// there without a word (the merge passed force itself). Now an edited report.html refuses the
/// merge, naming it and how to go on, and `merge --job --force` replaces it; a file the user
/// put in merged/ refuses it with or without --force (as the output directory rules always
/// did); an unedited report.html is written again from the new merge, not dropped.
#[test]
fn a_merge_of_a_job_keeps_a_users_work_in_merged() {
    let d = tempfile::tempdir().unwrap();
    let (_, job) = merged_job_with_a_report(d.path());
    let j = job.to_str().unwrap();
    let merged = job.join("merged");
    let report = merged.join("report.html");
    let text = |p: &Path| std::fs::read_to_string(p).unwrap();
    let tradesims = text(&report);

    // Unedited: the merge writes it again (from the merged tables), fingerprinted, so that
    // `tradesim report` may replace it later without --force.
    std::fs::write(&report, "stale").unwrap();
    let o = tradesim(&["report", merged.to_str().unwrap(), "--force"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let o = tradesim(&["merge", "--job", j]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "{out}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(text(&report), tradesims, "the report of the merge");
    assert!(
        out.contains("report.html") && out.contains("written again"),
        "{out}"
    );
    let o = tradesim(&["report", merged.to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));

    // Edited: refused by `merge --job` and by the merge job's script, nothing replaced.
    std::fs::write(&report, "<p>my notes on the results</p>").unwrap();
    let summary = std::fs::read(merged.join("summary.csv")).unwrap();
    for err in [
        fails(&["merge", "--job", j]),
        String::from_utf8_lossy(&run_script(&job, "merge.sbatch", None).stderr).to_string(),
    ] {
        assert!(
            err.contains(&format!(
                "{}: was changed after tradesim wrote it",
                report.display()
            )) && err.contains("so nothing was merged")
                && err.contains("move it out of")
                && err.contains(&format!("(`tradesim merge --job {j} --force`)")),
            "{err}"
        );
        assert_eq!(text(&report), "<p>my notes on the results</p>");
        assert_eq!(std::fs::read(merged.join("summary.csv")).unwrap(), summary);
    }
    // --force replaces it with the merge's own.
    let o = tradesim(&["merge", "--job", j, "--force"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(text(&report), tradesims);

    // A file of the user's: refused with or without --force, and kept.
    std::fs::write(merged.join("notes.txt"), "mine").unwrap();
    for force in [&[][..], &["--force"]] {
        let err = fails(&[&["merge", "--job", j][..], force].concat());
        assert!(
            err.contains(&format!(
                "{}: holds files tradesim did not write (notes.txt)",
                merged.display()
            )) && err.contains("so nothing was merged")
                && err.contains("Move them out of")
                && err.contains("--force never replaces"),
            "{err}"
        );
        assert_eq!(text(&merged.join("notes.txt")), "mine");
        assert_eq!(text(&report), tradesims);
    }
}

/// `batch --slurm --rerun` submits a merge job that replaces merged/ whole: a report.html the
/// user edited there or a file of theirs in it is refused at submission, before anything is
/// written or submitted (not hours later by the merge job), with the merge's message.
#[test]
fn a_rerun_refuses_at_submission_when_merged_holds_a_users_work() {
    let d = tempfile::tempdir().unwrap();
    let (b, job) = merged_job_with_a_report(d.path());
    let (b, j) = (b.as_str(), job.to_str().unwrap());
    let (bin, rerun) = fake_sbatch(d.path(), b, j);
    let merged = job.join("merged");
    let report = merged.join("report.html");
    let text = |p: &Path| std::fs::read_to_string(p).unwrap();
    let job_json = text(&job.join("job.json"));
    let marker = text(&job.join(".tradesim-output"));

    std::fs::write(&report, "<p>my notes on the results</p>").unwrap();
    for extra in [&["--rerun", "2"][..], &["--rerun", "2", "--no-submit"]] {
        let o = rerun(extra);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            o.status.code() == Some(1)
                && err.contains(&format!(
                    "{}: was changed after tradesim wrote it",
                    report.display()
                ))
                && err.contains("so nothing was written or submitted")
                && err.contains("move it out of"),
            "{err}"
        );
        assert!(!bin.join("submitted").exists(), "sbatch was not called");
        assert_eq!(text(&job.join("job.json")), job_json);
        assert_eq!(text(&job.join(".tradesim-output")), marker);
        assert_eq!(text(&report), "<p>my notes on the results</p>");
    }
    std::fs::rename(&report, job.join("report-mine.html")).unwrap();
    std::fs::write(merged.join("notes.txt"), "mine").unwrap();
    let o = rerun(&["--rerun", "2"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        o.status.code() == Some(1)
            && err.contains("holds files tradesim did not write (notes.txt)")
            && err.contains("so nothing was written or submitted"),
        "{err}"
    );
    assert!(!bin.join("submitted").exists());
    // Moved away: submitted.
    std::fs::rename(merged.join("notes.txt"), job.join("notes.txt")).unwrap();
    let o = rerun(&["--rerun", "2"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(text(&bin.join("submitted")).contains("merge --job"));
}

/// `--force` with `--rerun` was accepted and did nothing. With --slurm, --force replaces the
/// whole job and --rerun runs some of its shards again: together they are refused, saying
/// what each does, before anything is written.
#[test]
fn force_with_rerun_is_refused() {
    let d = tempfile::tempdir().unwrap();
    let (b, job) = job_of_tiny_batch(d.path(), "3");
    let j = job.to_str().unwrap();
    let job_json = std::fs::read(job.join("job.json")).unwrap();
    let err = fails(&[
        "batch",
        &b,
        "--slurm",
        "3",
        "--out",
        j,
        "--no-submit",
        "--rerun",
        "2",
        "--force",
    ]);
    assert!(
        err.contains("--rerun and --force do not go together")
            && err.contains("leave out --force")
            && err.contains("leave out --rerun"),
        "{err}"
    );
    assert_eq!(std::fs::read(job.join("job.json")).unwrap(), job_json);
}
