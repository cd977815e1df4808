//! The determinism the journal relies on (the `Learner` contract): replaying the calls a
//! learner received after a snapshot, on that snapshot loaded again, ends in a learner whose
//! `save()` is the original's byte for byte, for every strategy and any sequence of learn and
//! forget calls (refused ones included), through `SharedLearner` as the daemon will. The RNG
//! state is part of the saved state: learning after loading a state whose RNG state was
//! changed gives another result.

mod learn_support;

use learn_support::{config, trained, windows, DIM};
use mmcl::embedding::Embedding;
use mmcl::envelope;
use mmcl::learn::rng::Rng;
use mmcl::learn::snapshot::{self, FORMAT, FORMAT_VERSION};
use mmcl::learn::{
    build, load, ClassId, LearnError, LearnReport, Learner, LearnerConfig, SharedLearner,
};
use proptest::prelude::*;

/// One call: learn `size` windows of classes `first..first + spread`, or forget a class.
#[derive(Debug, Clone)]
enum Call {
    Learn {
        first: u32,
        spread: u32,
        size: usize,
        seed: u64,
    },
    Forget(ClassId),
}

fn call() -> impl Strategy<Value = Call> {
    prop_oneof![
        4 => (0u32..5, 1u32..3, 1usize..12, any::<u64>())
            .prop_map(|(first, spread, size, seed)| Call::Learn { first, spread, size, seed }),
        1 => (0u32..6).prop_map(Call::Forget),
    ]
}

/// What a call returned, in a comparable form.
#[derive(Debug, PartialEq)]
enum Outcome {
    Learned(Result<LearnReport, LearnError>),
    Forgot(Result<(), LearnError>),
}

fn batch(call_first: u32, spread: u32, size: usize, seed: u64) -> (Vec<Embedding>, Vec<ClassId>) {
    let labels: Vec<ClassId> = (0..size as u32).map(|i| call_first + i % spread).collect();
    (windows(&mut Rng::new(seed), &labels), labels)
}

/// What the calls go to: a learner owned by the test, or one shared as the daemon shares it.
trait Target {
    fn learn(&mut self, x: &[Embedding], y: &[ClassId]) -> Result<LearnReport, LearnError>;
    fn forget(&mut self, class: ClassId) -> Result<(), LearnError>;
}

impl Target for Box<dyn Learner> {
    fn learn(&mut self, x: &[Embedding], y: &[ClassId]) -> Result<LearnReport, LearnError> {
        self.as_mut().learn(x, y)
    }
    fn forget(&mut self, class: ClassId) -> Result<(), LearnError> {
        self.as_mut().forget(class)
    }
}

impl Target for SharedLearner {
    fn learn(&mut self, x: &[Embedding], y: &[ClassId]) -> Result<LearnReport, LearnError> {
        SharedLearner::learn(self, x, y)
    }
    fn forget(&mut self, class: ClassId) -> Result<(), LearnError> {
        SharedLearner::forget(self, class)
    }
}

/// Makes each call, returning what each returned.
fn apply(target: &mut impl Target, calls: &[Call]) -> Vec<Outcome> {
    calls
        .iter()
        .map(|c| match c {
            Call::Learn {
                first,
                spread,
                size,
                seed,
            } => {
                let (x, y) = batch(*first, *spread, *size, *seed);
                Outcome::Learned(target.learn(&x, &y))
            }
            Call::Forget(class) => Outcome::Forgot(target.forget(*class)),
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn replaying_the_calls_on_a_loaded_snapshot_gives_the_same_bytes(
        s in 0..mmcl::learn::Strategy::ALL.len(),
        seed in any::<u64>(),
        before in prop::collection::vec(call(), 0..5),
        after in prop::collection::vec(call(), 1..8),
    ) {
        let strategy = mmcl::learn::Strategy::ALL[s];
        let mut original = build(DIM, &LearnerConfig { seed, epochs: 2, ..config(strategy) }).expect("builds");
        apply(&mut original, &before);
        let snapshot = original.save();
        let outcomes = apply(&mut original, &after);
        let mut replayed = SharedLearner::new(load(&snapshot).expect("loads"));
        prop_assert_eq!(apply(&mut replayed, &after), outcomes, "{}", strategy);
        prop_assert!(replayed.save() == original.save(), "{}: replay diverged", strategy);
    }
}

/// For the strategies that draw random numbers while learning (shuffles, pseudo-features,
/// herding ties), the RNG state sits first among their fields, right after the header:
/// changing it in the saved state (and re-sealing) changes what the next learn call does.
#[test]
fn the_rng_state_is_saved_and_restored() {
    use mmcl::learn::Strategy as S;
    for strategy in [
        S::Finetune,
        S::Ewc,
        S::Lwf,
        S::Er,
        S::Icarl,
        S::Proto,
        S::Joint,
    ] {
        let learner = trained(strategy, 6);
        let saved = learner.save();
        let opened = envelope::open(&FORMAT, &[FORMAT_VERSION], &saved).expect("opens");
        let header = snapshot::start(&config(strategy), DIM).buf.len();
        let mut body = opened.body.to_vec();
        body[header] ^= 0x5a;
        let changed = load(&envelope::seal(&FORMAT, FORMAT_VERSION, &body)).expect("loads");
        let (mut a, mut b) = (load(&saved).expect("loads"), changed);
        let (x, y) = batch(0, 3, 9, 77);
        a.learn(&x, &y).expect("learns");
        b.learn(&x, &y).expect("learns");
        let (a, b) = (a.save(), b.save());
        let differ = a
            .iter()
            .zip(&b)
            .enumerate()
            .filter(|(i, (p, q))| p != q && !(20 + header..28 + header).contains(i))
            .count();
        assert!(
            differ > 0,
            "{strategy}: the saved RNG state does not drive learning"
        );
    }
}
