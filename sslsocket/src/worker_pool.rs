//! Threads that run blocking jobs (the blocking server's handshakes), kept
//! for a while after their job so that a busy server does not start a
//! thread per client: starting one costs more than a resumed handshake.

use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::Duration;

/// A job for a worker.
pub(crate) type Job = Box<dyn FnOnce() + Send>;

/// How long an idle worker waits for another job before it ends.
const IDLE_LIFETIME: Duration = Duration::from_secs(10);

/// A pool that grows by one thread whenever a job finds no idle worker, and
/// shrinks as workers stay idle for [`IDLE_LIFETIME`]. Every job starts at
/// once: none waits behind another, however long that one takes. Dropping
/// the pool lets idle workers end at once; busy ones end after their job.
#[derive(Debug)]
pub(crate) struct WorkerPool {
    shared: Arc<Shared>,
    name: &'static str,
}

#[derive(Debug, Default)]
struct Shared {
    state: Mutex<State>,
    wake: Condvar,
}

#[derive(Default)]
struct State {
    jobs: VecDeque<Job>,
    /// Workers waiting for a job and not yet promised one.
    idle: usize,
    /// Wake-ups sent to idle workers and not yet taken by one.
    promised: usize,
    /// The pool was dropped: workers end once no job is left.
    closing: bool,
}

impl std::fmt::Debug for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("State")
            .field("jobs", &self.jobs.len())
            .field("idle", &self.idle)
            .field("promised", &self.promised)
            .field("closing", &self.closing)
            .finish()
    }
}

impl WorkerPool {
    /// An empty pool whose threads are called `name`.
    pub(crate) fn new(name: &'static str) -> WorkerPool {
        WorkerPool {
            shared: Arc::default(),
            name,
        }
    }

    /// Runs `job` on an idle worker, or on a new one. Fails only when the
    /// system refuses a new thread; the job is dropped then.
    pub(crate) fn run(&self, job: Job) -> std::io::Result<()> {
        let mut state = self.shared.lock();
        if state.idle > 0 {
            state.idle -= 1;
            state.promised += 1;
            state.jobs.push_back(job);
            drop(state);
            self.shared.wake.notify_one();
            return Ok(());
        }
        drop(state);
        let shared = self.shared.clone();
        std::thread::Builder::new()
            .name(self.name.into())
            .spawn(move || {
                job();
                shared.serve();
            })
            .map(drop)
    }
}

impl Drop for WorkerPool {
    fn drop(&mut self) {
        self.shared.lock().closing = true;
        self.shared.wake.notify_all();
    }
}

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A worker's life after its first job: take jobs until none comes for
    /// [`IDLE_LIFETIME`].
    fn serve(&self) {
        let mut state = self.lock();
        loop {
            if let Some(job) = state.jobs.pop_front() {
                drop(state);
                job();
                state = self.lock();
                continue;
            }
            if state.closing {
                return;
            }
            state.idle += 1;
            let (woken, wait) = self
                .wake
                .wait_timeout(state, IDLE_LIFETIME)
                .unwrap_or_else(PoisonError::into_inner);
            state = woken;
            if state.promised > 0 {
                // This worker takes one promise (and `run` already counted
                // it as no longer idle); the job may have been taken by a
                // worker that finished meanwhile, which the loop sorts out.
                state.promised -= 1;
            } else {
                state.idle -= 1;
                if wait.timed_out() && state.jobs.is_empty() {
                    return;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;

    #[test]
    fn sequential_jobs_reuse_one_idle_worker() {
        let pool = WorkerPool::new("test-worker");
        let (done, finished) = mpsc::channel();
        let mut threads = std::collections::HashSet::new();
        for round in 0..20 {
            let done = done.clone();
            pool.run(Box::new(move || {
                let _ = done.send((round, std::thread::current().id()));
            }))
            .unwrap();
            let (ran, thread) = finished.recv_timeout(Duration::from_secs(10)).unwrap();
            assert_eq!(ran, round);
            threads.insert(thread);
            // The next job comes once the worker waits again.
            while pool.shared.lock().idle == 0 {
                std::thread::yield_now();
            }
        }
        assert_eq!(threads.len(), 1);
    }

    #[test]
    fn idle_workers_end_when_the_pool_is_dropped() {
        let pool = WorkerPool::new("test-worker");
        let shared = pool.shared.clone();
        let (done, finished) = mpsc::channel();
        pool.run(Box::new(move || {
            let _ = done.send(());
        }))
        .unwrap();
        finished.recv_timeout(Duration::from_secs(10)).unwrap();
        while shared.lock().idle == 0 {
            std::thread::yield_now();
        }
        drop(pool);
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while Arc::strong_count(&shared) > 1 {
            assert!(
                std::time::Instant::now() < deadline,
                "the idle worker did not end"
            );
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    #[test]
    fn a_long_job_does_not_hold_up_the_next() {
        let pool = WorkerPool::new("test-worker");
        let (release, blocked) = mpsc::channel::<()>();
        pool.run(Box::new(move || {
            let _ = blocked.recv_timeout(Duration::from_secs(30));
        }))
        .unwrap();
        let (done, finished) = mpsc::channel();
        for _ in 0..5 {
            let done = done.clone();
            pool.run(Box::new(move || {
                let _ = done.send(());
            }))
            .unwrap();
        }
        for _ in 0..5 {
            finished
                .recv_timeout(Duration::from_secs(10))
                .expect("a job waited behind the blocked one");
        }
        drop(release);
    }
}
