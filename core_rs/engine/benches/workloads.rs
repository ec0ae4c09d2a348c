//! Native throughput and latency on the shared pre-generated workloads.
//!
//! `cargo bench -p tradepit-engine --bench workloads`. Reads `workload_a.bin` and
//! `workload_b.bin` (compact command records) from `$TRADEPIT_WORKLOAD_DIR` (default
//! `bench/data`), applies each to a fresh book several times for a median throughput, then
//! once more timing every command for latency percentiles, and writes JSON to
//! `$TRADEPIT_BENCH_OUT` (default `bench/results/native.json`). `$TRADEPIT_BENCH_ROUNDS`
//! overrides the number of throughput rounds (default 5; 1 makes a quick smoke run).

use std::env;
use std::fs;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::Instant;

use tradepit_engine::codec::decode_batch;
use tradepit_engine::{Book, BookError, Command, Event};

const WORKLOADS: [&str; 2] = ["workload_a", "workload_b"];
const DEFAULT_ROUNDS: usize = 5;

struct Report {
    name: &'static str,
    ops: usize,
    errors: usize,
    rounds: usize,
    ops_per_s_median: f64,
    p50_ns: u64,
    p99_ns: u64,
}

fn main() {
    // `cargo test --all-targets` also runs this binary (without `--bench`): do nothing then.
    if !env::args().any(|arg| arg == "--bench") {
        println!("workloads: run with `cargo bench` to measure");
        return;
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let data_dir = env::var_os("TRADEPIT_WORKLOAD_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("bench/data"));
    let out_path = env::var_os("TRADEPIT_BENCH_OUT")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("bench/results/native.json"));
    let rounds = match env::var("TRADEPIT_BENCH_ROUNDS") {
        Ok(text) => text
            .parse::<usize>()
            .ok()
            .filter(|&n| n > 0)
            .unwrap_or_else(|| panic!("TRADEPIT_BENCH_ROUNDS must be a positive integer")),
        Err(_) => DEFAULT_ROUNDS,
    };

    let mut reports = Vec::new();
    for name in WORKLOADS {
        let path = data_dir.join(format!("{name}.bin"));
        let Ok(bytes) = fs::read(&path) else {
            println!(
                "{name}: {} not found; run `make bench` to generate the workloads. Skipped.",
                path.display()
            );
            continue;
        };
        let commands: Vec<Result<Command, BookError>> = decode_batch(&bytes)
            .unwrap_or_else(|error| panic!("{}: {error}", path.display()))
            .iter()
            .map(|record| record.command())
            .collect();
        reports.push(measure(name, &commands, rounds));
    }

    print_table(&reports);
    if reports.is_empty() {
        println!(
            "No workload measured; {} left as it was.",
            out_path.display()
        );
        return;
    }
    if let Some(parent) = out_path.parent() {
        fs::create_dir_all(parent).expect("create the results directory");
    }
    fs::write(&out_path, to_json(&reports)).expect("write the results");
    println!("Wrote {}", out_path.display());
}

/// Applies every command to a fresh book (tick 1, lot 1); returns the number of errors.
fn run(commands: &[Result<Command, BookError>], events: &mut Vec<Event>) -> usize {
    let mut book = Book::new(1, 1).expect("valid instrument");
    let mut errors = 0;
    for command in commands {
        events.clear();
        let ok = match command {
            Ok(command) => book.apply(command, events).is_ok(),
            Err(_) => false,
        };
        errors += usize::from(!ok);
    }
    black_box(&book);
    errors
}

fn measure(name: &'static str, commands: &[Result<Command, BookError>], rounds: usize) -> Report {
    let mut events = Vec::with_capacity(64);
    let mut rates = Vec::with_capacity(rounds);
    let mut errors = 0;
    for _ in 0..rounds {
        let start = Instant::now();
        errors = run(commands, &mut events);
        let seconds = start.elapsed().as_secs_f64();
        rates.push(commands.len() as f64 / seconds);
    }
    rates.sort_by(f64::total_cmp);
    let ops_per_s_median = if rounds % 2 == 1 {
        rates[rounds / 2]
    } else {
        (rates[rounds / 2 - 1] + rates[rounds / 2]) / 2.0
    };

    // Latency: one more round, each command timed on its own (includes ~20 ns of clock reads).
    let mut book = Book::new(1, 1).expect("valid instrument");
    let mut latencies = Vec::with_capacity(commands.len());
    for command in commands {
        events.clear();
        let start = Instant::now();
        if let Ok(command) = command {
            let _ = black_box(book.apply(command, &mut events));
        }
        latencies.push(start.elapsed().as_nanos() as u64);
    }
    latencies.sort_unstable();
    Report {
        name,
        ops: commands.len(),
        errors,
        rounds,
        ops_per_s_median,
        p50_ns: percentile(&latencies, 0.50),
        p99_ns: percentile(&latencies, 0.99),
    }
}

/// Nearest-rank percentile of sorted values.
fn percentile(sorted: &[u64], fraction: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = (fraction * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn print_table(reports: &[Report]) {
    println!(
        "{:<12} {:>11} {:>9} {:>7} {:>16} {:>8} {:>8}",
        "workload", "ops", "errors", "rounds", "median ops/s", "p50 ns", "p99 ns"
    );
    for r in reports {
        println!(
            "{:<12} {:>11} {:>9} {:>7} {:>16.0} {:>8} {:>8}",
            r.name, r.ops, r.errors, r.rounds, r.ops_per_s_median, r.p50_ns, r.p99_ns
        );
    }
}

fn to_json(reports: &[Report]) -> String {
    let entries: Vec<String> = reports
        .iter()
        .map(|r| {
            format!(
                "  \"{}\": {{\"ops\": {}, \"rounds\": {}, \"ops_per_s_median\": {:.1}, \
                 \"p50_ns\": {}, \"p99_ns\": {}}}",
                r.name, r.ops, r.rounds, r.ops_per_s_median, r.p50_ns, r.p99_ns
            )
        })
        .collect();
    format!("{{\n{}\n}}\n", entries.join(",\n"))
}
