//! `sslsocket-bench`: sslsocket side by side with raw rustls, tokio-rustls
//! and OpenSSL (the `openssl` crate against the system libssl), in one run.
//!
//! ```text
//! cargo run --release -p sslsocket-bench -- SCENARIO [--quick] [--json] [--svg FILE]
//! ```
//!
//! Every scenario runs all its peers interleaved, round after round, and
//! reports medians and ratios of medians. See BENCHMARKS.md.

mod alloc;
mod mem;
mod mempipe;
mod net;
mod peers;
mod pki;
mod report;
mod scen_c10k;
mod scen_instructions;
mod scen_mem;
mod scen_net;
mod scen_soak;
mod server_child;

use std::path::PathBuf;
use std::time::Instant;

use clap::{Parser, ValueEnum};

use crate::report::Collector;

#[global_allocator]
static GLOBAL: alloc::Counting = alloc::Counting;

/// What to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Scenario {
    /// In-memory bulk throughput (TLS 1.3 AES-128-GCM, AES-256-GCM, ChaCha20).
    BulkMem,
    /// In-memory handshakes per second (full ECDSA, RSA, TLS 1.2; resumed).
    HandshakeMem,
    /// Bulk throughput over 127.0.0.1, blocking and tokio.
    BulkLoopback,
    /// Sequential connect + handshake + 1-byte echo + close over 127.0.0.1.
    ConnectLoopback,
    /// Round trips of 64 B and 1 KiB on one connection.
    PingPong,
    /// Memory per idle established connection end.
    IdleMemory,
    /// 10,000 concurrent echoing connections to a tokio server in a child process.
    C10k,
    /// Every scenario, in this order (not `instructions`).
    All,
    /// Instructions per handshake and per MiB, counted by valgrind's
    /// callgrind (needs valgrind), sslsocket and raw rustls.
    Instructions,
    /// Internal: one idle-memory measurement in a fresh process.
    #[value(hide = true)]
    IdleChild,
    /// A million full and resumed handshakes with data against each
    /// sslsocket server; fails if its descriptors, threads or memory grow.
    Soak,
    /// Internal: the server of one c10k or soak measurement, in a fresh process.
    #[value(hide = true)]
    ServerChild,
    /// Internal: the workload of one instructions measurement, under callgrind.
    #[value(hide = true)]
    InstructionsChild,
}

/// Benchmarks sslsocket against raw rustls, tokio-rustls and OpenSSL.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Cli {
    /// The scenario to run.
    #[arg(value_enum)]
    scenario: Scenario,
    /// Small sizes and fewer rounds: `all --quick` takes about a minute.
    #[arg(long)]
    quick: bool,
    /// Print JSON (an array of objects, one per scenario and case) instead of tables.
    #[arg(long)]
    json: bool,
    /// Also write the JSON to FILE (tables still go to stdout).
    #[arg(long, value_name = "FILE")]
    json_file: Option<PathBuf>,
    /// Also write a bar chart of the throughput and handshake ratios to FILE.
    #[arg(long, value_name = "FILE")]
    svg: Option<PathBuf>,
    /// Rounds per measurement (default: 5, or 3 with --quick; 1 for
    /// instructions, whose counts repeat).
    #[arg(long)]
    rounds: Option<usize>,
    /// Only these peers (comma-separated), e.g. for profiling one of them.
    #[arg(long, value_delimiter = ',')]
    only: Vec<String>,
    /// idle-child, server-child, instructions-child: the peer to measure.
    #[arg(long, hide = true)]
    peer: Option<String>,
    /// idle-child: how many pairs.
    #[arg(long, hide = true)]
    pairs: Option<usize>,
    /// instructions-child: the case.
    #[arg(long, hide = true)]
    case: Option<String>,
    /// instructions-child: how many operations.
    #[arg(long, hide = true)]
    ops: Option<usize>,
    /// Keep the PKI in DIR: load it from there, or make it and save it
    /// there first, so that runs before and after a change use the same
    /// certificates (instruction counts of a handshake vary by about 0.1 %
    /// with them: their lengths vary).
    #[arg(long, value_name = "DIR")]
    pki_dir: Option<PathBuf>,
}

/// What every scenario gets.
pub struct Ctx {
    /// Shrunk sizes.
    pub quick: bool,
    /// Rounds per measurement.
    pub rounds: usize,
    /// The certificates and keys.
    pub pki: pki::Pki,
    /// The runtime of the tokio peers.
    pub runtime: tokio::runtime::Runtime,
    /// Peers to run (empty: all).
    pub only: Vec<String>,
}

impl Ctx {
    /// `peers` without those left out by `--only`.
    pub fn select<'a>(&self, peers: &[&'a str]) -> Vec<&'a str> {
        peers
            .iter()
            .copied()
            .filter(|p| self.only.is_empty() || self.only.iter().any(|o| o == p))
            .collect()
    }
}

fn main() {
    let cli = Cli::parse();
    if cli.scenario == Scenario::IdleChild {
        scen_mem::idle_child(
            cli.peer.as_deref().expect("--peer"),
            cli.pairs.expect("--pairs"),
        );
        return;
    }
    if cli.scenario == Scenario::ServerChild {
        server_child::server_child(cli.peer.as_deref().expect("--peer"));
        return;
    }
    if cli.scenario == Scenario::InstructionsChild {
        scen_instructions::instructions_child(
            cli.pki_dir.as_deref().expect("--pki-dir"),
            cli.case.as_deref().expect("--case"),
            cli.peer.as_deref().expect("--peer"),
            cli.ops.expect("--ops"),
        );
        return;
    }
    let default_rounds = match cli.scenario {
        Scenario::Instructions => 1,
        _ if cli.quick => 3,
        _ => 5,
    };
    let rounds = cli.rounds.unwrap_or(default_rounds).max(1);
    let ctx = Ctx {
        quick: cli.quick,
        rounds,
        pki: match &cli.pki_dir {
            Some(dir) => pki::Pki::kept_in(dir),
            None => pki::Pki::generate(),
        },
        runtime: net::runtime(),
        only: cli.only.clone(),
    };
    let scenarios: &[Scenario] = match cli.scenario {
        Scenario::All => &[
            Scenario::BulkMem,
            Scenario::HandshakeMem,
            Scenario::BulkLoopback,
            Scenario::ConnectLoopback,
            Scenario::PingPong,
            Scenario::IdleMemory,
            Scenario::C10k,
            Scenario::Soak,
        ],
        ref one => std::slice::from_ref(one),
    };
    let mut collectors: Vec<(Collector, usize)> = Vec::new();
    for scenario in scenarios {
        let start = Instant::now();
        let collector = match scenario {
            Scenario::BulkMem => scen_mem::bulk_mem(&ctx),
            Scenario::HandshakeMem => scen_mem::handshake_mem(&ctx),
            Scenario::BulkLoopback => scen_net::bulk_loopback(&ctx),
            Scenario::ConnectLoopback => scen_net::connect_loopback(&ctx),
            Scenario::PingPong => scen_net::ping_pong(&ctx),
            Scenario::IdleMemory => scen_mem::idle_memory(&ctx),
            Scenario::C10k => scen_c10k::c10k(&ctx),
            Scenario::Soak => scen_soak::soak(&ctx),
            Scenario::Instructions => scen_instructions::instructions(&ctx),
            Scenario::All
            | Scenario::IdleChild
            | Scenario::ServerChild
            | Scenario::InstructionsChild => unreachable!(),
        };
        // The soak is one long run per server, whatever --rounds says.
        let rounds = if *scenario == Scenario::Soak {
            1
        } else {
            rounds
        };
        if !cli.json {
            print!("{}", report::table(&collector, rounds));
            println!("({:.1} s)", start.elapsed().as_secs_f64());
        }
        collectors.push((collector, rounds));
    }
    let all: Vec<serde_json::Value> = collectors
        .iter()
        .flat_map(|(c, rounds)| report::json(c, *rounds))
        .collect();
    let text = serde_json::to_string_pretty(&all).expect("JSON serializes");
    if cli.json {
        println!("{text}");
    }
    if let Some(path) = &cli.json_file {
        std::fs::write(path, text + "\n")
            .unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
    }
    if let Some(path) = &cli.svg {
        let charted: Vec<Collector> = collectors.into_iter().map(|(c, _)| c).collect();
        std::fs::write(path, report::svg(&charted))
            .unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
    }
}
