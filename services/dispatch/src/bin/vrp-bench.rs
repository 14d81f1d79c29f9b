//! The optimizer on public benchmark files and exported dispatch days, one row
//! of CSV per file.
//!
//! ```text
//! cargo run --release -p atmr-dispatch --bin vrp-bench -- \
//!     [--time-limit SECONDS] [--objective vehicles|distance] [--seed N] \
//!     [--iterations N] [--solutions DIR] [--check SOLUTION] FILE...
//! ```
//! Each file's format (Solomon / Gehring & Homberger, Li & Lim, Cordeau DARP
//! in its 2006 and 2003 variants, or a dispatch day written by
//! `dispatch-bench --export`, `.json`) is recognised by its content. The
//! solution is checked before its row is printed:
//! `instance,vehicles,distance,seconds,feasible,assigned`. Benchmark files go
//! through the independent checker of `instances::Instance::check` (real
//! numbers, exact time feasibility); days through the dispatch checker
//! `check::violations`, with their distance in km and `vehicles` the drivers
//! used. `feasible` is true when every rule holds and every job is served
//! (days: every rule holds; `assigned` counts the bookings planned).
//!
//! With `--solutions DIR`, `DIR/<instance>.sol` gets one line per route (node
//! ids in visit order, depot excluded) or, for a day, `DIR/<day>.plan.json`.
//! `--check SOLUTION` solves nothing: it checks that file (the same formats,
//! another solver's answer) against the one instance given and prints its
//! row with empty seconds. One core; defaults: 1 s, distance, seed 1.
//! `--iterations N` replaces the clock: the same seed and N give the same
//! routes on any machine. Days are solved for the whole budget (the service
//! stops a day early when it stops improving).

use std::{io::Write as _, path::PathBuf, process::ExitCode, time::Duration};

use atmr_dispatch::solver::{
    check, day,
    instances::Instance,
    model::Objective,
    optimizer::{self, Goal},
    sisr::{self, Limits},
};

struct Args {
    time: Duration,
    objective: Objective,
    seed: u64,
    /// A fixed number of iterations instead of the clock: the same result on any machine.
    iterations: Option<u64>,
    solutions: Option<PathBuf>,
    check: Option<PathBuf>,
    files: Vec<PathBuf>,
}

const USAGE: &str = "usage: vrp-bench [--time-limit SECONDS] [--objective vehicles|distance] [--seed N] [--iterations N] [--solutions DIR] [--check SOLUTION] FILE...";

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        time: Duration::from_secs(1),
        objective: Objective::Distance,
        seed: 1,
        iterations: None,
        solutions: None,
        check: None,
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
            "--check" => args.check = Some(PathBuf::from(value()?)),
            "-h" | "--help" => return Err(USAGE.into()),
            flag if flag.starts_with("--") => return Err(format!("unknown option {flag}")),
            file => args.files.push(PathBuf::from(file)),
        }
    }
    if args.files.is_empty() {
        return Err("no instance file given".into());
    }
    if args.check.is_some() && args.files.len() != 1 {
        return Err("--check takes exactly one instance file".into());
    }
    Ok(args)
}

/// One row of the CSV.
struct Row {
    vehicles: usize,
    distance: f64,
    seconds: Option<f64>,
    feasible: bool,
    assigned: usize,
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
    let _ = writeln!(out, "instance,vehicles,distance,seconds,feasible,assigned");
    let mut failed = false;
    for file in &args.files {
        let name = file.file_stem().map_or_else(|| file.display().to_string(), |s| s.to_string_lossy().into_owned());
        let row = std::fs::read_to_string(file).map_err(|e| e.to_string()).and_then(|text| {
            if text.trim_start().starts_with('{') { run_day(&args, &name, &text) } else { run_instance(&args, &name, &text) }
        });
        match row {
            Ok(r) => {
                let seconds = r.seconds.map_or_else(String::new, |s| format!("{s:.2}"));
                let _ = writeln!(out, "{name},{},{:.2},{seconds},{},{}", r.vehicles, r.distance, r.feasible, r.assigned);
                let _ = out.flush();
            }
            Err(e) => {
                eprintln!("vrp-bench: {}: {e}", file.display());
                failed = true;
            }
        }
    }
    if failed { ExitCode::FAILURE } else { ExitCode::SUCCESS }
}

fn limits(args: &Args) -> Limits {
    Limits {
        time: if args.iterations.is_some() { Duration::MAX } else { args.time },
        iterations: args.iterations,
        patience: None,
        seed: args.seed,
    }
}

/// A public benchmark file: solved (or `--check`ed) and checked in real numbers.
fn run_instance(args: &Args, name: &str, text: &str) -> Result<Row, String> {
    let instance = Instance::parse(name, text).map_err(|e| e.to_string())?;
    let started = std::time::Instant::now();
    let (routes, seconds) = match &args.check {
        Some(sol) => {
            let text = std::fs::read_to_string(sol).map_err(|e| format!("{}: {e}", sol.display()))?;
            let routes = text
                .lines()
                .filter(|l| !l.trim().is_empty())
                .map(|l| {
                    l.split_whitespace()
                        .map(|x| x.parse::<usize>().map_err(|_| format!("{}: {x:?} is not a node id", sol.display())))
                        .collect()
                })
                .collect::<Result<Vec<Vec<usize>>, String>>()?;
            (routes, None)
        }
        None => {
            let model = instance.model(args.objective);
            let (solution, stats) = sisr::solve(&model, None, limits(args));
            eprintln!("vrp-bench: {name}: {} iterations", stats.iterations);
            (instance.routes_of(&model, &solution.routes), Some(started.elapsed().as_secs_f64()))
        }
    };
    let served = routes.iter().map(Vec::len).sum::<usize>() / instance.jobs.first().map_or(1, Vec::len);
    let (distance, feasible) = match instance.check(&routes) {
        Ok(d) => (d, true),
        Err(problems) => {
            for p in problems {
                eprintln!("vrp-bench: {name}: {p}");
            }
            (routes.iter().map(|r| route_distance(&instance, r)).sum(), false)
        }
    };
    if served < instance.jobs.len() {
        eprintln!("vrp-bench: {name}: {} jobs not served", instance.jobs.len() - served);
    }
    if let Some(dir) = args.solutions.as_ref().filter(|_| args.check.is_none()) {
        let text: String = routes.iter().map(|r| r.iter().map(usize::to_string).collect::<Vec<_>>().join(" ") + "\n").collect();
        std::fs::write(dir.join(format!("{name}.sol")), text).map_err(|e| format!("cannot write {name}.sol: {e}"))?;
    }
    Ok(Row { vehicles: routes.iter().filter(|r| !r.is_empty()).count(), distance, seconds, feasible, assigned: served })
}

/// A dispatch day: solved (or `--check`ed) and checked by the dispatch checker.
fn run_day(args: &Args, name: &str, text: &str) -> Result<Row, String> {
    let day = day::read(text)?;
    let p = &day.problem;
    let started = std::time::Instant::now();
    let (plan, seconds) = match &args.check {
        Some(sol) => (day::read_plan(&std::fs::read_to_string(sol).map_err(|e| format!("{}: {e}", sol.display()))?)?, None),
        None => {
            let goal = if args.objective == Objective::Vehicles { Goal::Vehicles } else { Goal::Distance };
            let (plan, stats) = optimizer::solve_with(p, goal, limits(args));
            eprintln!("vrp-bench: {name}: {} iterations", stats.iterations);
            (plan, Some(started.elapsed().as_secs_f64()))
        }
    };
    let violations = check::violations(p, &plan);
    for v in &violations {
        eprintln!("vrp-bench: {name}: driver {:?} booking {:?}: {}", v.driver, v.booking, v.message);
    }
    if let Some(dir) = args.solutions.as_ref().filter(|_| args.check.is_none()) {
        std::fs::write(dir.join(format!("{name}.plan.json")), day::write_plan(&plan))
            .map_err(|e| format!("cannot write {name}.plan.json: {e}"))?;
    }
    let assigned = plan.routes.iter().map(|r| r.stops.iter().filter(|s| s.pickup).count()).sum();
    eprintln!("vrp-bench: {name}: {assigned} of {} bookings planned", p.requests.len());
    Ok(Row {
        vehicles: plan.routes.iter().filter(|r| !r.stops.is_empty()).count(),
        distance: plan.totals(p).0 as f64 / 1000.0,
        seconds,
        feasible: violations.is_empty(),
        assigned,
    })
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
