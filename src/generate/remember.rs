//! A strategy whose trees build their current value once.
//!
//! proptest's `Map` and `Filter` trees rebuild the whole value on every
//! `current()`, and a filtered draft is asked twice per case: once by the
//! filter's predicate, once for the case itself; each time every slot is
//! mapped and the request repaired again. The wrapper remembers the value
//! for the second asker, until the tree moves (`simplify`, `complicate`),
//! and draws nothing from the runner itself, so the cases for a seed are
//! unchanged.

use std::cell::RefCell;

use proptest::strategy::{NewTree, Strategy, ValueTree};
use proptest::test_runner::TestRunner;

/// `strategy`, its trees remembering their current value.
#[derive(Debug)]
pub(crate) struct Remembered<S>(pub(crate) S);

impl<S: Strategy> Strategy for Remembered<S>
where
    S::Value: Clone,
{
    type Tree = RememberedTree<S::Tree>;
    type Value = S::Value;

    fn new_tree(&self, runner: &mut TestRunner) -> NewTree<Self> {
        Ok(RememberedTree {
            tree: self.0.new_tree(runner)?,
            value: RefCell::new(None),
        })
    }
}

/// The tree of [`Remembered`].
#[derive(Debug)]
pub(crate) struct RememberedTree<T: ValueTree> {
    tree: T,
    value: RefCell<Option<T::Value>>,
}

impl<T: ValueTree> ValueTree for RememberedTree<T>
where
    T::Value: Clone,
{
    type Value = T::Value;

    /// The first call builds the value and keeps a copy; the second takes
    /// that copy (the filter's predicate and the case are the two askers
    /// of every case, and the case keeps the value); a later one builds it
    /// again, the same value, as the tree has not moved.
    fn current(&self) -> T::Value {
        if let Some(value) = self.value.borrow_mut().take() {
            return value;
        }
        let value = self.tree.current();
        *self.value.borrow_mut() = Some(value.clone());
        value
    }

    fn simplify(&mut self) -> bool {
        *self.value.get_mut() = None;
        self.tree.simplify()
    }

    fn complicate(&mut self) -> bool {
        *self.value.get_mut() = None;
        self.tree.complicate()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::test_runner::{Config, RngAlgorithm, TestRng};

    fn runner() -> TestRunner {
        TestRunner::new_with_rng(
            Config::default(),
            TestRng::from_seed(RngAlgorithm::ChaCha, &[7; 32]),
        )
    }

    #[test]
    fn same_values_as_the_bare_strategy_through_shrinking() {
        // A remembered value that outlived a move of its tree would show
        // here as the unshrunk value where the bare tree has moved on.
        let strategy = proptest::collection::vec(0u32..1000, 0..20);
        let (mut bare_runner, mut kept_runner) = (runner(), runner());
        for _ in 0..50 {
            let mut bare = strategy.new_tree(&mut bare_runner).unwrap();
            let mut kept = Remembered(strategy.clone())
                .new_tree(&mut kept_runner)
                .unwrap();
            assert_eq!(kept.current(), bare.current());
            assert_eq!(kept.current(), bare.current());
            assert_eq!(kept.current(), bare.current());
            for step in 0..30 {
                let moved = if step % 3 == 2 {
                    (bare.complicate(), kept.complicate())
                } else {
                    (bare.simplify(), kept.simplify())
                };
                assert_eq!(moved.0, moved.1);
                assert_eq!(kept.current(), bare.current());
            }
        }
    }
}
