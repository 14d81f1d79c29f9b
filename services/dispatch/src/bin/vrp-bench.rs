//! The optimizer on public benchmark files, one row of CSV per file.
//!
//! ```text
//! cargo run --release -p atmr-dispatch --bin vrp-bench -- \
//!     [--time-limit SECONDS] [--objective vehicles|distance] [--seed N] \
//!     [--iterations N] [--solutions DIR] FILE...
//! ```
//! Each file's format (Solomon / Gehring & Homberger, Li & Lim, Cordeau DARP)
//! is recognised by its content. The solution is checked by the independent
//! checker (`instances::Instance::check`, real numbers, exact time feasibility)
//! before its row is printed: `instance,vehicles,distance,seconds,feasible`.
//! With `--solutions DIR`, `DIR/<instance>.sol` gets one line per route: the
//! node ids in visit order, depot excluded. One core; defaults: 1 s, distance,
//! seed 1. `--iterations N` replaces the clock: the same seed and N give the
//! same routes on any machine.

use std::{io::Write as _, path::PathBuf, process::ExitCode, time::Duration};

use atmr_dispatch::solver::{
    instances::Instance,
    model::Objective,
    sisr::{self, Limits},
};

struct Args {
    time: Duration,
    objective: Objective,
    seed: u64,
    /// A fixed number of iterations instead of the clock: the same result on any machine.
    iterations: Option<u64>,
    solutions: Option<PathBuf>,
    files: Vec<PathBuf>,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        time: Duration::from_secs(1),
        objective: Objective::Distance,
        seed: 1,
        iterations: None,
        solutions: None,
        files: Vec::new(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{arg} needs a value"));
        match arg.as_str() {
            "--time-limit" => {
                let raw = value()?;
                let secs: f64 = raw.parse().map_err(|_| format!("--time-limit expects seconds, got {raw:?}"))?;
                if !(secs > 0.0 && secs <= 86_400.0) {
                    return Err(format!("--time-limit must be in (0, 86400] seconds, got {raw}"));
                }
                args.time = Duration::from_secs_f64(secs);
            }
            "--objective" => {
                args.objective = match value()?.as_str() {
                    "distance" => Objective::Distance,
                    "vehicles" => Objective::Vehicles,
                    other => return Err(format!("--objective is vehicles or distance, got {other:?}")),
                }
            }
            "--seed" => {
                let raw = value()?;
                args.seed = raw.parse().map_err(|_| format!("--seed expects a whole number, got {raw:?}"))?;
            }
            "--iterations" => {
                let raw = value()?;
                args.iterations = Some(raw.parse().map_err(|_| format!("--iterations expects a whole number, got {raw:?}"))?);
            }
            "--solutions" => args.solutions = Some(PathBuf::from(value()?)),
            "-h" | "--help" => {
                return Err(
                    "usage: vrp-bench [--time-limit SECONDS] [--objective vehicles|distance] [--seed N] [--solutions DIR] FILE...".into()
                );
            }
            flag if flag.starts_with("--") => return Err(format!("unknown option {flag}")),
            file => args.files.push(PathBuf::from(file)),
        }
    }
    if args.files.is_empty() {
        return Err("no instance file given".into());
    }
    Ok(args)
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("vrp-bench: {e}");
            return ExitCode::from(2);
        }
    };
    if let Some(dir) = &args.solutions
        && let Err(e) = std::fs::create_dir_all(dir)
    {
        eprintln!("vrp-bench: cannot create {}: {e}", dir.display());
        return ExitCode::FAILURE;
    }
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "instance,vehicles,distance,seconds,feasible");
    let mut failed = false;
    for file in &args.files {
        let name = file.file_stem().map_or_else(|| file.display().to_string(), |s| s.to_string_lossy().into_owned());
        let instance = match std::fs::read_to_string(file)
            .map_err(|e| e.to_string())
            .and_then(|t| Instance::parse(&name, &t).map_err(|e| e.to_string()))
        {
            Ok(i) => i,
            Err(e) => {
                eprintln!("vrp-bench: {}: {e}", file.display());
                failed = true;
                continue;
            }
        };
        let started = std::time::Instant::now();
        let model = instance.model(args.objective);
        let (solution, stats) = sisr::solve(
            &model,
            None,
            Limits {
                time: if args.iterations.is_some() { Duration::MAX } else { args.time },
                iterations: args.iterations,
                patience: None,
                seed: args.seed,
            },
        );
        let seconds = started.elapsed().as_secs_f64();
        let routes = instance.routes_of(&model, &solution.routes);
        let unserved = solution.unassigned.len();
        let (distance, feasible) = match instance.check(&routes) {
            Ok(d) => (d, unserved == 0),
            Err(problems) => {
                for p in problems {
                    eprintln!("vrp-bench: {name}: {p}");
                }
                (routes.iter().map(|r| route_distance(&instance, r)).sum(), false)
            }
        };
        if unserved > 0 {
            eprintln!("vrp-bench: {name}: {unserved} jobs not served");
        }
        eprintln!("vrp-bench: {name}: {} iterations", stats.iterations);
        let _ = writeln!(out, "{name},{},{distance:.2},{seconds:.2},{feasible}", routes.len());
        let _ = out.flush();
        if let Some(dir) = &args.solutions {
            let text: String = routes.iter().map(|r| r.iter().map(usize::to_string).collect::<Vec<_>>().join(" ") + "\n").collect();
            if let Err(e) = std::fs::write(dir.join(format!("{name}.sol")), text) {
                eprintln!("vrp-bench: cannot write {name}.sol: {e}");
                failed = true;
            }
        }
    }
    if failed { ExitCode::FAILURE } else { ExitCode::SUCCESS }
}

fn route_distance(instance: &Instance, route: &[usize]) -> f64 {
    let mut at = instance.start;
    let mut total = 0.0;
    for &id in route {
        total += instance.distance(at, id);
        at = id;
    }
    total + instance.distance(at, instance.end)
}
