//! Running strategies reproducibly: a seed fixes every value drawn, a
//! failure names the seed, and the same seed replays the same run.

use std::fmt;

use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestError, TestRng, TestRunner};

/// How many cases to run, and from which seed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GeneratorConfig {
    /// Cases tried per property.
    pub cases: u32,
    /// `None`: a fresh seed, reported with any failure.
    pub seed: Option<u64>,
}

impl Default for GeneratorConfig {
    fn default() -> GeneratorConfig {
        GeneratorConfig {
            cases: 256,
            seed: None,
        }
    }
}

impl GeneratorConfig {
    /// Try `cases` cases per property, from a random seed.
    pub fn new(cases: u32) -> GeneratorConfig {
        GeneratorConfig { cases, seed: None }
    }

    /// Draw from `seed`, so that a run can be repeated exactly.
    pub fn with_seed(self, seed: u64) -> GeneratorConfig {
        GeneratorConfig {
            seed: Some(seed),
            ..self
        }
    }

    /// The seed a run uses: the configured one, or a fresh one.
    pub fn resolve_seed(&self) -> u64 {
        self.seed.unwrap_or_else(rand::random)
    }

    /// A proptest runner whose every draw follows from `seed`. It keeps no
    /// regression files: replaying is by seed.
    pub fn runner(&self, seed: u64) -> TestRunner {
        let config = Config {
            cases: self.cases,
            failure_persistence: None,
            source_file: None,
            max_shrink_iters: 16_384,
            ..Config::default()
        };
        TestRunner::new_with_rng(config, rng(seed))
    }

    /// Runs `test` on `cases` values of `strategy`; on failure, shrinks to
    /// a minimal value and reports it with the seed that replays it.
    /// Returns the seed used.
    pub fn check<S: Strategy>(
        &self,
        strategy: &S,
        test: impl Fn(S::Value) -> Result<(), TestCaseError>,
    ) -> Result<u64, GenerationFailure<S::Value>> {
        let seed = self.resolve_seed();
        let mut runner = self.runner(seed);
        match runner.run(strategy, test) {
            Ok(()) => Ok(seed),
            Err(TestError::Fail(reason, minimal)) => Err(GenerationFailure {
                seed,
                reason: reason.to_string(),
                minimal: Some(minimal),
            }),
            Err(TestError::Abort(reason)) => Err(GenerationFailure {
                seed,
                reason: format!("generation gave up: {reason}"),
                minimal: None,
            }),
        }
    }
}

/// Why one value failed: the rule it broke (the group a failure is counted
/// and shrunk under) and what happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Breach {
    /// What reports group by: `ImageIds [max_items]`, `request id`.
    pub rule: String,
    /// Why the answer breaks the rule, in the user's words.
    pub reason: String,
    /// End the run here, counting nothing (Ctrl-C).
    pub stop: bool,
}

impl Breach {
    /// A breach of `rule`, for `reason`.
    pub fn new(rule: impl Into<String>, reason: impl Into<String>) -> Breach {
        Breach {
            rule: rule.into(),
            reason: reason.into(),
            stop: false,
        }
    }

    /// Ends a [`GeneratorConfig::check_all`] run at once, counting nothing.
    pub fn stop(reason: impl Into<String>) -> Breach {
        Breach::new("", reason).and_stop()
    }

    /// This breach, ending the run after it is counted (unshrunk).
    pub fn and_stop(self) -> Breach {
        Breach { stop: true, ..self }
    }
}

/// Every value of a rule that failed, and the smallest one shrinking found
/// within its budget.
#[derive(Debug, Clone)]
pub struct RuleFailures<V> {
    /// The rule the failures break.
    pub rule: String,
    /// How many of the run's values broke it.
    pub count: u64,
    /// Why the smallest value failed.
    pub reason: String,
    /// The smallest value found that still breaks the same rule.
    pub minimal: V,
    /// Test runs shrinking spent on it.
    pub shrink_steps: u32,
}

/// A run that judged every value: how many ran, the failures by rule in
/// the order first met, and the seed that replays it.
#[derive(Debug, Clone)]
pub struct Judged<V> {
    /// The seed the run drew from (rerun with it to see the same cases).
    pub seed: u64,
    /// Cases tried per property.
    pub cases: u32,
    /// The failures, one entry per rule broken.
    pub failures: Vec<RuleFailures<V>>,
    /// Generation gave up (a strategy rejected too many values).
    pub gave_up: Option<String>,
}

impl GeneratorConfig {
    /// Runs `test` on every one of `cases` values of `strategy` — a failure
    /// does not stop the run — and groups the failures by the rule each
    /// broke. Then each group's first value is shrunk, with at most
    /// `shrink_budget` more runs of `test` per group, to the smallest value
    /// that still breaks the same rule (a value that fails for another
    /// reason is no simplification of it).
    pub fn check_all<S: Strategy>(
        &self,
        strategy: &S,
        shrink_budget: u32,
        test: impl FnMut(S::Value) -> Result<(), Breach>,
    ) -> Judged<S::Value> {
        self.check_all_in_chunks(strategy, shrink_budget, 1, |_| {}, || {}, test)
    }

    /// [`GeneratorConfig::check_all`], the cases generated `chunk` at a
    /// time: `before_chunk` sees each chunk's values before the first of
    /// them is tested (the runner sends their requests there, many in
    /// flight), `after_cases` is told when the last case has been, before
    /// any shrinking. The values, and so the verdicts, are those
    /// `check_all` tests, in the same order, whatever `chunk`.
    pub fn check_all_in_chunks<S: Strategy>(
        &self,
        strategy: &S,
        shrink_budget: u32,
        chunk: usize,
        mut before_chunk: impl FnMut(&[S::Value]),
        after_cases: impl FnOnce(),
        mut test: impl FnMut(S::Value) -> Result<(), Breach>,
    ) -> Judged<S::Value> {
        let seed = self.resolve_seed();
        let mut runner = self.runner(seed);
        let (groups, gave_up) = self.test_cases(
            strategy,
            &mut runner,
            chunk.max(1),
            &mut before_chunk,
            &mut test,
        );
        after_cases();
        let failures = groups
            .into_iter()
            .map(|group| shrink_group(group, shrink_budget, &mut test))
            .collect();
        Judged {
            seed,
            cases: self.cases,
            failures,
            gave_up,
        }
    }

    /// Tests every case, `chunk` values at a time, and groups the failures
    /// by rule, each group with its count and its first failing tree; with
    /// why generation gave up, if it did.
    fn test_cases<S: Strategy>(
        &self,
        strategy: &S,
        runner: &mut TestRunner,
        chunk: usize,
        before_chunk: &mut impl FnMut(&[S::Value]),
        test: &mut impl FnMut(S::Value) -> Result<(), Breach>,
    ) -> (Vec<FailureGroup<S::Tree>>, Option<String>) {
        let mut groups: Vec<FailureGroup<S::Tree>> = Vec::new();
        let mut gave_up = None;
        let mut left = self.cases as usize;
        let mut trees = Vec::with_capacity(chunk);
        'cases: while left > 0 && gave_up.is_none() {
            trees.clear();
            while trees.len() < chunk && left > 0 {
                left -= 1;
                match strategy.new_tree(runner) {
                    Ok(tree) => trees.push(tree),
                    Err(reason) => {
                        gave_up = Some(format!("generation gave up: {reason}"));
                        break;
                    }
                }
            }
            // Each value is built once: `current` rebuilds the whole value
            // (every mapped draft, repair and mutation) on each call, and
            // gives the same value each time, so the values `before_chunk`
            // sees are the ones tested.
            let values: Vec<S::Value> = trees.iter().map(|t| t.current()).collect();
            before_chunk(&values);
            for (tree, value) in trees.drain(..).zip(values) {
                if let Err(breach) = test(value) {
                    if breach.stop {
                        // Counted as it is, unshrunk: nothing after it would
                        // tell more (Ctrl-C, a target that cannot be reached).
                        if !breach.rule.is_empty() {
                            groups.push((breach, 1, tree));
                        }
                        break 'cases;
                    }
                    match groups.iter_mut().find(|(b, _, _)| b.rule == breach.rule) {
                        Some(group) => group.1 += 1,
                        None => groups.push((breach, 1, tree)),
                    }
                }
            }
        }
        (groups, gave_up)
    }
}

/// A rule's failures while the cases run: the first breach, how many broke
/// the rule, and the first failing value's tree, to shrink.
type FailureGroup<T> = (Breach, u64, T);

/// `group`'s failures, its first value shrunk with at most `shrink_budget`
/// more runs of `test` to the smallest that still breaks the same rule.
fn shrink_group<T: ValueTree>(
    (breach, count, mut tree): FailureGroup<T>,
    shrink_budget: u32,
    test: &mut impl FnMut(T::Value) -> Result<(), Breach>,
) -> RuleFailures<T::Value> {
    if breach.stop {
        return RuleFailures {
            minimal: tree.current(),
            rule: breach.rule,
            count,
            reason: breach.reason,
            shrink_steps: 0,
        };
    }
    // proptest's own shrinking walk: simplify after a failure,
    // complicate after a pass; the last failing value is kept,
    // so a budget that runs out mid-walk still reports one.
    let mut reason = breach.reason;
    let mut minimal = tree.current();
    let mut steps = 0;
    let mut moved = tree.simplify();
    while moved && steps < shrink_budget {
        steps += 1;
        match test(tree.current()) {
            Err(b) if b.stop => break,
            Err(b) if b.rule == breach.rule => {
                reason = b.reason;
                minimal = tree.current();
                moved = tree.simplify();
            }
            _ => moved = tree.complicate(),
        }
    }
    RuleFailures {
        rule: breach.rule,
        count,
        reason,
        minimal,
        shrink_steps: steps,
    }
}

/// A failed run: why, the smallest failing value, and the seed to replay.
#[derive(Debug, Clone)]
pub struct GenerationFailure<V> {
    /// The seed of the failing run.
    pub seed: u64,
    /// Why it failed.
    pub reason: String,
    /// The failing value after shrinking; `None` when generation itself
    /// gave up (too many rejected values).
    pub minimal: Option<V>,
}

/// The minimal input shows as JSON, as the specs and cases write requests
/// (Debug would print `Object {"a": String("b")}`).
impl<V: serde::Serialize> fmt::Display for GenerationFailure<V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}", self.reason)?;
        if let Some(minimal) = &self.minimal {
            let json = serde_json::to_string_pretty(minimal)
                .unwrap_or_else(|e| format!("(not expressible as JSON: {e})"));
            writeln!(f, "minimal failing input: {json}")?;
        }
        write!(
            f,
            "seed: {seed} (replay this run with IMGCONFORM_SEED={seed})",
            seed = self.seed
        )
    }
}

impl<V: fmt::Debug + serde::Serialize> std::error::Error for GenerationFailure<V> {}

/// Generation could not produce a value (a strategy rejected too many).
#[derive(Debug, Clone)]
pub struct GenerationError {
    message: String,
}

impl fmt::Display for GenerationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for GenerationError {}

/// The ChaCha generator proptest uses, keyed by a 64-bit seed.
pub(crate) fn rng(seed: u64) -> TestRng {
    let mut bytes = [0u8; 32];
    let mut state = seed;
    for chunk in bytes.chunks_mut(8) {
        // SplitMix64: distinct seeds give unrelated keys.
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        chunk.copy_from_slice(&(z ^ (z >> 31)).to_le_bytes());
    }
    TestRng::from_seed(RngAlgorithm::ChaCha, &bytes)
}

/// `n` values of `strategy`, as a run with `seed` draws them.
pub(crate) fn sample<S: Strategy>(
    strategy: &S,
    seed: u64,
    n: usize,
    what: &str,
) -> Result<Vec<S::Value>, GenerationError> {
    let mut runner = GeneratorConfig::new(n as u32).runner(seed);
    (0..n)
        .map(|_| {
            strategy
                .new_tree(&mut runner)
                .map(|tree| tree.current())
                .map_err(|reason| GenerationError {
                    message: format!("could not generate {what} (seed {seed}): {reason}"),
                })
        })
        .collect()
}

/// The simplest value of `strategy`: its first draw shrunk as far as it
/// goes (optional parameters unsent, shortest strings, least integers).
pub(crate) fn simplest<S: Strategy>(strategy: &S) -> Option<S::Value> {
    let mut runner = GeneratorConfig::new(1).runner(0);
    let mut tree = strategy.new_tree(&mut runner).ok()?;
    for _ in 0..100_000 {
        if !tree.simplify() {
            break;
        }
    }
    Some(tree.current())
}
