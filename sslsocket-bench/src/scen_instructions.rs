//! The instructions scenario: instructions per operation of sslsocket and
//! raw rustls, counted by callgrind, for handshake-mem's handshakes and for
//! bulk data in memory. Unlike time, an instruction count repeats from run
//! to run (to about 0.01 %), so that a change of a fraction of a percent
//! shows; it does not see cache misses, mispredicted branches or what each
//! instruction costs.
//!
//! Each measurement runs this binary (the hidden `instructions-child`)
//! twice under `valgrind --tool=callgrind`. A run makes the configurations
//! and warms up as handshake-mem and bulk-mem do, uncounted, then does n1
//! (or n2) operations inside [`counted`], the only function callgrind
//! counts (`--toggle-collect`). The result, (Ir(n2) − Ir(n1)) / (n2 − n1),
//! leaves out what a call of [`counted`] does once (for bulk: the
//! connection's handshake). The operations are handshake-mem's and
//! bulk-mem's ([`handshakes_once`], [`bulk_once`]) over the same in-memory
//! pipe, with the same certificates: the bench makes its PKI (or loads it,
//! `--pki-dir`) and hands it to every child in files.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use crate::mem::MemFactory;
use crate::peers::Spec;
use crate::pki::Pki;
use crate::report::{Better, Collector, Progress};
use crate::scen_mem::{
    bulk_once, handshakes_once, size_label, BULK_WARM_UP, HANDSHAKE_CASES, HANDSHAKE_WARM_UP, MIB,
};
use crate::Ctx;

/// The peers compared.
const PEERS: [&str; 2] = ["sslsocket", "rustls"];

/// The write size of the bulk case: one full TLS record per write.
const BULK_WRITE: usize = 16 * 1024;

/// What one operation is.
#[derive(Debug, Clone, Copy)]
enum Workload {
    /// A handshake of a new pair, client and server together, session
    /// tickets included (as handshake-mem counts it).
    Handshake(Spec),
    /// One MiB from the client to the server over one connection, in
    /// [`BULK_WRITE`] writes: the client's sending and the server's receiving.
    Bulk(Spec),
}

impl Workload {
    fn spec(self) -> Spec {
        match self {
            Workload::Handshake(spec) | Workload::Bulk(spec) => spec,
        }
    }

    /// Runs `ops` operations with `factory`'s connections; how many
    /// handshakes resumed.
    fn run(self, factory: &MemFactory, ops: usize) -> usize {
        match self {
            Workload::Handshake(_) => handshakes_once(factory, ops).1,
            Workload::Bulk(_) => {
                bulk_once(factory, ops * MIB, BULK_WRITE);
                0
            }
        }
    }

    /// The warm-up of handshake-mem or bulk-mem, not counted: first
    /// connections, lazily built contexts, the session to resume, and
    /// aws-lc's random generator, which seeds itself from jitterentropy on
    /// first use: some 420 million instructions, a few million more or
    /// fewer every time.
    fn warm_up(self, factory: &MemFactory) {
        let ops = match self {
            Workload::Handshake(_) => HANDSHAKE_WARM_UP,
            Workload::Bulk(_) => BULK_WARM_UP / MIB,
        };
        self.run(factory, ops);
    }
}

/// What callgrind counts (`--toggle-collect`): `ops` operations after the
/// warm-up; how many handshakes resumed.
#[inline(never)]
fn counted(workload: Workload, factory: &MemFactory, ops: usize) -> usize {
    workload.run(factory, ops)
}

/// The counted operations of the first run (n1); the second does more.
const FIRST_RUN: usize = 1;

/// One row of the table.
struct Case {
    /// handshake-mem's name, or the bulk case's.
    name: String,
    /// Instructions per what.
    unit: &'static str,
    /// What one operation is.
    workload: Workload,
    /// Operations the second run does beyond the first (n2 − n1): full
    /// run, `--quick`.
    extra: (usize, usize),
}

impl Case {
    /// The counted operations of the two runs: (n1, n2).
    fn ops(&self, quick: bool) -> (usize, usize) {
        let extra = if quick { self.extra.1 } else { self.extra.0 };
        (FIRST_RUN, FIRST_RUN + extra)
    }
}

/// Every case: handshake-mem's, then bulk with TLS 1.3 AES-128-GCM.
fn cases() -> Vec<Case> {
    let handshakes = HANDSHAKE_CASES.iter().map(|case| Case {
        name: case.name.to_string(),
        unit: "Ir/handshake",
        workload: Workload::Handshake(case.spec),
        // Multiples of 32: aws-lc makes new blinding values for an RSA key
        // every 32 private-key operations (BN_BLINDING_COUNTER), a few
        // million instructions, so that each run gets its share.
        // Resumptions are 2–10 times cheaper: twice as many.
        extra: if case.spec.resumption {
            (512, 64)
        } else {
            (256, 32)
        },
    });
    let bulk = Case {
        name: format!(
            "{} {} writes",
            Spec::DEFAULT.suite.label(),
            size_label(BULK_WRITE)
        ),
        unit: "Ir/MiB",
        workload: Workload::Bulk(Spec::DEFAULT),
        extra: (128, 16),
    };
    handshakes.chain([bulk]).collect()
}

/// The child of [`instructions`] (hidden scenario `instructions-child`):
/// the warm-up, then `ops` counted operations of the case `case` with
/// `peer`'s connections, with the PKI [`Pki::save`] wrote to `pki_dir`.
/// Prints nothing; callgrind counts.
pub fn instructions_child(pki_dir: &Path, case: &str, peer: &str, ops: usize) {
    let pki = Pki::load(pki_dir).expect("load the PKI");
    let case = cases()
        .into_iter()
        .find(|c| c.name == case)
        .unwrap_or_else(|| panic!("no instructions case {case:?}"));
    let spec = case.workload.spec();
    let factory = MemFactory::new(peer, &pki, spec);
    case.workload.warm_up(&factory);
    let resumed = counted(case.workload, &factory, ops);
    let expected = if spec.resumption { ops } else { 0 };
    assert_eq!(resumed, expected, "{peer}: resumed handshakes of {ops}");
}

/// `valgrind --version`, e.g. `valgrind-3.19.0`; ends the bench with a
/// message when valgrind cannot be run.
fn valgrind_version() -> String {
    match Command::new("valgrind").arg("--version").output() {
        Ok(output) if output.status.success() => {
            String::from_utf8_lossy(&output.stdout).trim().to_string()
        }
        _ => {
            eprintln!(
                "instructions: counts with valgrind's callgrind, but `valgrind --version` \
                 does not run: install valgrind (e.g. `apt-get install valgrind`)"
            );
            std::process::exit(1)
        }
    }
}

/// A directory of this process for the PKI and callgrind's output files,
/// removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> Scratch {
        let dir = std::env::temp_dir().join(format!(
            "sslsocket-bench-instructions-{}",
            std::process::id()
        ));
        fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
        Scratch(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// One run of the child under callgrind.
struct Run {
    child: Child,
    out: PathBuf,
    what: String,
}

impl Run {
    /// Starts the child for `ops` operations of `case` with `peer`.
    fn start(scratch: &Scratch, case: &str, peer: &str, ops: usize) -> Run {
        let out = scratch.0.join(format!("{peer}-{ops}.callgrind"));
        let exe = std::env::current_exe().expect("own executable");
        let child = Command::new("valgrind")
            .arg("--tool=callgrind")
            .arg(format!("--callgrind-out-file={}", out.display()))
            .arg(format!(
                "--toggle-collect={}",
                std::any::type_name_of_val(&counted)
            ))
            // Only the instruction count: no cache or branch simulation,
            // no per-instruction costs to write.
            .args([
                "--cache-sim=no",
                "--branch-sim=no",
                "--dump-instr=no",
                "--quiet",
            ])
            .arg(exe)
            .arg("instructions-child")
            .args(["--case", case, "--peer", peer, "--ops", &ops.to_string()])
            .arg("--pki-dir")
            .arg(&scratch.0)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start valgrind");
        Run {
            child,
            out,
            what: format!("{case}, {peer}, {ops} operations"),
        }
    }

    /// Waits for the child: the instructions it executed (callgrind's `Ir`).
    fn finish(self) -> u64 {
        let output = self.child.wait_with_output().expect("wait for valgrind");
        assert!(
            output.status.success(),
            "instructions: the child ({}) failed ({}): {}",
            self.what,
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
        let text = fs::read_to_string(&self.out)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", self.out.display()));
        let _ = fs::remove_file(&self.out);
        total_ir(&text)
            .unwrap_or_else(|| panic!("no totals line in {} ({})", self.out.display(), self.what))
    }
}

/// The total `Ir` of a callgrind output file: its `totals:` line (or
/// `summary:`; both hold the sum of every event, and `Ir` is the only one).
fn total_ir(text: &str) -> Option<u64> {
    text.lines()
        .find_map(|line| {
            line.strip_prefix("totals:")
                .or_else(|| line.strip_prefix("summary:"))
        })?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// instructions: callgrind's instruction counts per handshake and per MiB.
pub fn instructions(ctx: &Ctx) -> Collector {
    let valgrind = valgrind_version();
    let scratch = Scratch::new();
    ctx.pki.save(&scratch.0).expect("write the PKI");
    let cases = cases();
    let mut collector = Collector::new("instructions", &[("sslsocket", "rustls")]);
    collector.note(format!(
        "instructions executed (callgrind's Ir, {valgrind}) per operation: \
         (Ir(n2) - Ir(n1)) / (n2 - n1) of two runs of a child process; each makes its \
         configurations and warms up as handshake-mem ({HANDSHAKE_WARM_UP} handshakes) and \
         bulk-mem ({} MiB) do, uncounted, then does n1 or n2 counted operations",
        BULK_WARM_UP / MIB
    ));
    collector.note(
        "the operations are handshake-mem's (client + server, new objects, session tickets \
         included) and bulk-mem's (Ir/MiB: the client's write + flush and the server's reads \
         of each MiB) over the in-memory pipe, X25519 for all",
    );
    let mut ops = Vec::new();
    for case in &cases {
        collector.case(&case.name, case.unit, Better::Lower, &[], false);
        let (n1, n2) = case.ops(ctx.quick);
        ops.push(format!("{} {n1} / {n2}", case.name));
    }
    collector.note(format!("n1 / n2: {}", ops.join(", ")));
    let peers = ctx.select(&PEERS);
    let mut progress = Progress::new(ctx.rounds * cases.len());
    for round in 0..ctx.rounds {
        for case in &cases {
            progress.step(&format!(
                "instructions round {}/{} {}",
                round + 1,
                ctx.rounds,
                case.name
            ));
            let (n1, n2) = case.ops(ctx.quick);
            // All runs of a case at once: the counts do not depend on the
            // load, and the machine's cores share the work.
            let runs: Vec<(&str, Run, Run)> = peers
                .iter()
                .map(|&peer| {
                    (
                        peer,
                        Run::start(&scratch, &case.name, peer, n1),
                        Run::start(&scratch, &case.name, peer, n2),
                    )
                })
                .collect();
            for (peer, first, second) in runs {
                let (ir1, ir2) = (first.finish(), second.finish());
                let per_op = (ir2 as f64 - ir1 as f64) / (n2 - n1) as f64;
                collector.add(&case.name, peer, per_op);
            }
        }
    }
    progress.finish();
    collector
}
