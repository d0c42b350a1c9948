//! Delta debugging's `ddmin` (Zeller & Hildebrandt, "Simplifying and Isolating
//! Failure-Inducing Input", IEEE TSE 28(2), 2002): the smallest subset of an input, in the sense
//! of 1-minimal (removing any single element makes the failure go away), that still fails.
//!
//! The input is split into `n` chunks (`n` = 2 at first). If one chunk alone still fails, it
//! becomes the input (and `n` = 2 again); else if the input without one chunk still fails, that
//! complement becomes the input (and `n` = max(n − 1, 2)); else the chunks are made smaller
//! (`n` = min(2n, size)). It ends when `n` has reached the size of the input and no single
//! element can go: every complement `input − {e}` was tested and passed, which is 1-minimality.
//!
//! Tests run in batches of `jobs` at once, in the paper's order (chunks first, then
//! complements); the first failing test of a batch in that order is taken, so the result does
//! not depend on which test finished first. Results are cached by the exact subset tested, and
//! the number of tests is bounded by [`Options::max_tests`]: past it, the smallest failing input
//! found so far is returned (failing, but maybe not 1-minimal). The whole input is assumed to
//! fail and is never tested here: the caller has checked it.

use std::collections::BTreeMap;

/// How much testing `ddmin` may do.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// Tests run at once (at least one).
    pub jobs: usize,
    /// Tests in all; when reached, the smallest failing input found so far is the result.
    pub max_tests: usize,
}

/// Why `ddmin` stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// The result is 1-minimal: removing any one of its elements makes the failure go away.
    Minimal,
    /// `max_tests` tests were run first.
    Budget,
    /// A test could not say (the run was interrupted).
    Interrupted,
}

/// What `ddmin` found.
#[derive(Debug, Clone)]
pub struct Reduction<T> {
    /// The smallest failing input found, in the input's order.
    pub kept: Vec<T>,
    /// Tests run (cached repeats not counted).
    pub tests: usize,
    pub stop: Stop,
}

/// Progress, reported between batches of tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// A smaller failing input was found: its size, and the tests run so far.
    Reduced { size: usize, tests: usize },
    /// No chunk nor complement failed: the input is now cut into `chunks` chunks.
    Finer { chunks: usize, size: usize },
}

/// Minimises `items` while `test` fails: `test` returns `Some(true)` when its input still fails
/// the same way, `Some(false)` when not, `None` when it could not tell (then `ddmin` stops and
/// returns what it has). `report` hears of every reduction.
pub fn ddmin<T, F, R>(items: &[T], options: Options, test: F, mut report: R) -> Reduction<T>
where
    T: Clone + Sync,
    F: Fn(&[T]) -> Option<bool> + Sync,
    R: FnMut(Event),
{
    let mut search = Search {
        items,
        test: &test,
        options,
        cache: BTreeMap::new(),
        tests: 0,
    };
    let mut current: Vec<usize> = (0..items.len()).collect();
    let mut n = 2;
    let stop = loop {
        let candidates = candidates(&current, n);
        if candidates.is_empty() {
            break Stop::Minimal;
        }
        match search.first_failing(&candidates) {
            Found::Interrupted => break Stop::Interrupted,
            Found::Budget => break Stop::Budget,
            Found::Fails(index) => {
                let (subset, next_n) = &candidates[index];
                current = subset.clone();
                n = next_n.resolve(n);
                report(Event::Reduced {
                    size: current.len(),
                    tests: search.tests,
                });
            }
            Found::None => {
                if n >= current.len() {
                    break Stop::Minimal;
                }
                n = (n * 2).min(current.len());
                report(Event::Finer {
                    chunks: n,
                    size: current.len(),
                });
            }
        }
    };
    Reduction {
        kept: current.iter().map(|&i| items[i].clone()).collect(),
        tests: search.tests,
        stop,
    }
}

/// The granularity after a reduction: 2 after a chunk, max(n − 1, 2) after a complement.
#[derive(Debug, Clone, Copy)]
enum Next {
    Two,
    OneLess,
}

impl Next {
    fn resolve(self, n: usize) -> usize {
        match self {
            Next::Two => 2,
            Next::OneLess => n.saturating_sub(1).max(2),
        }
    }
}

/// The subsets to test at granularity `n`, in the paper's order: each chunk, then each
/// complement (with two chunks, each complement is the other chunk: left out). An input of
/// one element has one candidate, the empty input.
fn candidates(current: &[usize], n: usize) -> Vec<(Vec<usize>, Next)> {
    if current.is_empty() {
        return Vec::new();
    }
    if current.len() == 1 {
        return vec![(Vec::new(), Next::Two)];
    }
    let chunks = split(current, n.min(current.len()));
    let mut all: Vec<(Vec<usize>, Next)> = chunks.iter().map(|c| (c.clone(), Next::Two)).collect();
    if chunks.len() > 2 {
        for (i, _) in chunks.iter().enumerate() {
            let complement: Vec<usize> = chunks
                .iter()
                .enumerate()
                .filter(|(j, _)| *j != i)
                .flat_map(|(_, c)| c.iter().copied())
                .collect();
            all.push((complement, Next::OneLess));
        }
    }
    all
}

/// `items` cut into `n` chunks of sizes differing by at most one, in order.
fn split(items: &[usize], n: usize) -> Vec<Vec<usize>> {
    let (base, extra) = (items.len() / n, items.len() % n);
    let mut chunks = Vec::with_capacity(n);
    let mut start = 0;
    for i in 0..n {
        let len = base + usize::from(i < extra);
        chunks.push(items[start..start + len].to_vec());
        start += len;
    }
    chunks
}

/// The result of one batch of tests.
enum Found {
    /// The index of the first candidate (in order) that fails.
    Fails(usize),
    None,
    Budget,
    Interrupted,
}

/// Testing state: the cache and the count of tests run.
struct Search<'a, T, F> {
    items: &'a [T],
    test: &'a F,
    options: Options,
    cache: BTreeMap<Vec<usize>, bool>,
    tests: usize,
}

impl<T, F> Search<'_, T, F>
where
    T: Clone + Sync,
    F: Fn(&[T]) -> Option<bool> + Sync,
{
    /// Tests `candidates` in order, `jobs` at a time, until a batch holds a failing one.
    fn first_failing(&mut self, candidates: &[(Vec<usize>, Next)]) -> Found {
        let jobs = self.options.jobs.max(1);
        let mut next = 0;
        while next < candidates.len() {
            // The next `jobs` candidates not tested yet (cached ones are decided already).
            let mut batch = Vec::new();
            let mut end = next;
            while end < candidates.len() && batch.len() < jobs {
                if !self.cache.contains_key(&candidates[end].0)
                    && !batch
                        .iter()
                        .any(|&b: &usize| candidates[b].0 == candidates[end].0)
                {
                    batch.push(end);
                }
                end += 1;
            }
            if !batch.is_empty() {
                let room = self.options.max_tests.saturating_sub(self.tests);
                if room == 0 {
                    return Found::Budget;
                }
                batch.truncate(room);
                // Only what the batch covers in order is decided.
                end = batch.last().map_or(end, |&last| last + 1);
                match self.run(candidates, &batch) {
                    Some(results) => {
                        for (&i, failed) in batch.iter().zip(results) {
                            self.cache.insert(candidates[i].0.clone(), failed);
                        }
                    }
                    None => return Found::Interrupted,
                }
            }
            if let Some(i) = (next..end).find(|&i| self.cache.get(&candidates[i].0) == Some(&true))
            {
                return Found::Fails(i);
            }
            next = end;
        }
        Found::None
    }

    /// Runs the tests of `batch` at once; `None` when one could not tell.
    fn run(&mut self, candidates: &[(Vec<usize>, Next)], batch: &[usize]) -> Option<Vec<bool>> {
        self.tests += batch.len();
        let inputs: Vec<Vec<T>> = batch
            .iter()
            .map(|&i| {
                candidates[i]
                    .0
                    .iter()
                    .map(|&k| self.items[k].clone())
                    .collect()
            })
            .collect();
        let test = self.test;
        let results: Vec<Option<bool>> = if inputs.len() == 1 {
            vec![test(&inputs[0])]
        } else {
            std::thread::scope(|scope| {
                let handles: Vec<_> = inputs
                    .iter()
                    .map(|input| scope.spawn(move || test(input)))
                    .collect();
                handles
                    .into_iter()
                    .map(|h| h.join().unwrap_or(None))
                    .collect()
            })
        };
        results.into_iter().collect()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use proptest::prelude::*;

    use super::*;

    fn unbounded(jobs: usize) -> Options {
        Options {
            jobs,
            max_tests: usize::MAX,
        }
    }

    fn run(n: usize, jobs: usize, fails: impl Fn(&[usize]) -> bool + Sync) -> Reduction<usize> {
        let items: Vec<usize> = (0..n).collect();
        ddmin(&items, unbounded(jobs), |input| Some(fails(input)), |_| {})
    }

    #[test]
    fn one_culprit_among_many_is_found_in_logarithmic_tests() {
        let reduction = run(1000, 1, |input| input.contains(&637));
        assert_eq!(reduction.kept, [637]);
        assert_eq!(reduction.stop, Stop::Minimal);
        // Halving to one element, then checking that the empty input passes.
        assert!(reduction.tests <= 2 * 10 + 1, "{} tests", reduction.tests);
    }

    #[test]
    fn a_pair_far_apart_is_kept_together() {
        let reduction = run(64, 2, |input| input.contains(&3) && input.contains(&60));
        assert_eq!(reduction.kept, [3, 60]);
        assert_eq!(reduction.stop, Stop::Minimal);
    }

    #[test]
    fn a_failure_that_needs_nothing_reduces_to_the_empty_input() {
        let reduction = run(5, 1, |_| true);
        assert!(reduction.kept.is_empty());
    }

    #[test]
    fn the_budget_stops_it_with_a_failing_input() {
        let items: Vec<usize> = (0..1000).collect();
        let options = Options {
            jobs: 1,
            max_tests: 3,
        };
        let reduction = ddmin(&items, options, |i| Some(i.contains(&637)), |_| {});
        assert_eq!(reduction.stop, Stop::Budget);
        assert_eq!(reduction.tests, 3);
        assert!(reduction.kept.contains(&637));
        assert!(reduction.kept.len() < 1000);
    }

    #[test]
    fn an_undecided_test_stops_it() {
        let items: Vec<usize> = (0..10).collect();
        let reduction = ddmin(&items, unbounded(2), |_| None, |_| {});
        assert_eq!(reduction.stop, Stop::Interrupted);
        assert_eq!(reduction.kept, items);
    }

    #[test]
    fn parallel_batches_give_the_serial_result() {
        let fails = |input: &[usize]| {
            input.iter().filter(|&&x| x % 7 == 3).count() >= 2 && input.contains(&20)
        };
        let serial = run(50, 1, fails);
        for jobs in [2, 3, 8] {
            assert_eq!(run(50, jobs, fails).kept, serial.kept, "jobs {jobs}");
        }
    }

    #[test]
    fn repeated_subsets_are_tested_once() {
        let calls = AtomicUsize::new(0);
        let items: Vec<usize> = (0..16).collect();
        let reduction = ddmin(
            &items,
            unbounded(1),
            |input| {
                calls.fetch_add(1, Ordering::Relaxed);
                Some(input.contains(&5))
            },
            |_| {},
        );
        assert_eq!(reduction.tests, calls.load(Ordering::Relaxed));
    }

    #[test]
    fn reductions_are_reported() {
        let items: Vec<usize> = (0..8).collect();
        let mut sizes = Vec::new();
        ddmin(
            &items,
            unbounded(1),
            |input| Some(input.contains(&2)),
            |event| {
                if let Event::Reduced { size, .. } = event {
                    sizes.push(size);
                }
            },
        );
        assert_eq!(sizes, [4, 2, 1]);
    }

    /// A small synthetic failure: the input holds every element of `needed`, and (when
    /// `parity` is set) an even number of elements of `flip` (not monotone).
    fn synthetic(needed: &[usize], flip: &[usize], parity: bool) -> impl Fn(&[usize]) -> bool {
        let (needed, flip) = (needed.to_vec(), flip.to_vec());
        move |input: &[usize]| {
            needed.iter().all(|x| input.contains(x))
                && (!parity || input.iter().filter(|x| flip.contains(x)).count() % 2 == 0)
        }
    }

    proptest! {
        #[test]
        fn the_result_fails_and_is_one_minimal(
            n in 1usize..24,
            needed in proptest::collection::vec(0usize..24, 0..4),
            flip in proptest::collection::vec(0usize..24, 0..4),
            parity in any::<bool>(),
            jobs in 1usize..4,
        ) {
            let fails = synthetic(&needed, &flip, parity);
            let items: Vec<usize> = (0..n).collect();
            prop_assume!(fails(&items));
            let reduction = run(n, jobs, &fails);
            prop_assert_eq!(reduction.stop, Stop::Minimal);
            prop_assert!(fails(&reduction.kept), "{:?} does not fail", reduction.kept);
            for i in 0..reduction.kept.len() {
                let mut smaller = reduction.kept.clone();
                smaller.remove(i);
                prop_assert!(!fails(&smaller), "{:?} still fails without its element {}", reduction.kept, i);
            }
            // In the input's order.
            prop_assert!(reduction.kept.windows(2).all(|w| w[0] < w[1]));
        }
    }
}
