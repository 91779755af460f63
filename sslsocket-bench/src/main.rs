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
mod scen_mem;
mod scen_net;

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
    /// Every scenario, in this order.
    All,
    /// Internal: one idle-memory measurement in a fresh process.
    #[value(hide = true)]
    IdleChild,
    /// Internal: the server of one c10k measurement, in a fresh process.
    #[value(hide = true)]
    C10kServer,
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
    /// Rounds per measurement (default: 5, or 3 with --quick).
    #[arg(long)]
    rounds: Option<usize>,
    /// Only these peers (comma-separated), e.g. for profiling one of them.
    #[arg(long, value_delimiter = ',')]
    only: Vec<String>,
    /// idle-child, c10k-server: the peer to measure.
    #[arg(long, hide = true)]
    peer: Option<String>,
    /// idle-child: how many pairs.
    #[arg(long, hide = true)]
    pairs: Option<usize>,
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
    if cli.scenario == Scenario::C10kServer {
        scen_c10k::c10k_server(cli.peer.as_deref().expect("--peer"));
        return;
    }
    let rounds = cli.rounds.unwrap_or(if cli.quick { 3 } else { 5 }).max(1);
    let ctx = Ctx {
        quick: cli.quick,
        rounds,
        pki: pki::Pki::generate(),
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
        ],
        ref one => std::slice::from_ref(one),
    };
    let mut collectors: Vec<Collector> = Vec::new();
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
            Scenario::All | Scenario::IdleChild | Scenario::C10kServer => unreachable!(),
        };
        if !cli.json {
            print!("{}", report::table(&collector, rounds));
            println!("({:.1} s)", start.elapsed().as_secs_f64());
        }
        collectors.push(collector);
    }
    let all: Vec<serde_json::Value> = collectors
        .iter()
        .flat_map(|c| report::json(c, rounds))
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
        std::fs::write(path, report::svg(&collectors))
            .unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
    }
}
