//! The continual-learning protocol: which classes form each task, in which order,
//! and what a correct prediction means under each scenario.
//!
//! A `ProtocolConfig` (plain numbers, possibly wrong) is checked once by
//! `Protocol::new` into a `Protocol` whose tasks always partition the classes.
//! The classes are `0..classes`, or the ids a data set actually holds
//! (`class_ids`, e.g. a user's 6 activities with labels 3, 7, ...). The class
//! order is numpy's legacy `permutation(classes)` for the seed applied to them,
//! as in PyCIL; the first task holds `initial` classes, each later one
//! `increment`, and a remainder smaller than `increment` forms a last, shorter
//! task (PyCIL's `DataManager` does the same).
//!
//! `Scenario::ModalityDynamic` (the modality-dynamic setting of the multimodal
//! continual-learning survey this product follows) is class-IL whose tasks are
//! enrolled with changing modalities: `train_absent(task)` names the modality
//! block missing from a task's training windows (the camera off, then the IMU),
//! while tests keep every modality.

use super::numpy_order;
use crate::learn::{ClassId, Prediction};
use std::fmt;
use std::str::FromStr;

/// The seed of the published PyCIL baselines (and of UESTC-MMEA-CL's).
pub const PYCIL_SEED: u32 = 1993;
/// Protocols are materialised (class order, per-class lookups): refuse absurd sizes.
pub const MAX_CLASSES: usize = 65_536;

/// What the learner is told and what counts as correct.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
pub enum Scenario {
    /// Learn class ids; predict by argmax over every class seen so far.
    #[default]
    #[serde(rename = "class-il")]
    ClassIncremental,
    /// Learn class ids; the sample's task is given at test time, so the
    /// prediction is the best-scoring class among that task's classes.
    #[serde(rename = "task-il")]
    TaskIncremental,
    /// Learn each class as its position within its task (0..task size); no task
    /// id at test time, the prediction must name the right position.
    #[serde(rename = "domain-il")]
    DomainIncremental,
    /// Class-IL whose tasks are learned with a modality absent in turn: task t's training
    /// windows lack block `train_absent(t)` (every modality, then the first absent, every
    /// modality, then the second absent, ...); tests have every modality.
    #[serde(rename = "modality-dynamic")]
    ModalityDynamic,
}

impl Scenario {
    pub const ALL: [Scenario; 4] = [
        Scenario::ClassIncremental,
        Scenario::TaskIncremental,
        Scenario::DomainIncremental,
        Scenario::ModalityDynamic,
    ];

    /// The name used on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            Scenario::ClassIncremental => "class-il",
            Scenario::TaskIncremental => "task-il",
            Scenario::DomainIncremental => "domain-il",
            Scenario::ModalityDynamic => "modality-dynamic",
        }
    }
}

impl fmt::Display for Scenario {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Scenario {
    type Err = ProtocolError;
    fn from_str(s: &str) -> Result<Scenario, ProtocolError> {
        Scenario::ALL
            .into_iter()
            .find(|scenario| scenario.name() == s)
            .ok_or_else(|| ProtocolError::UnknownScenario {
                name: s.to_string(),
            })
    }
}

/// The protocol as asked for; `Protocol::new` checks it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ProtocolConfig {
    /// How many classes (the ids `0..classes` unless `class_ids` names them).
    pub classes: usize,
    /// The class ids, when they are not `0..classes` (a data set holding some classes only):
    /// `classes` of them, distinct. Empty: `0..classes`.
    pub class_ids: Vec<ClassId>,
    /// Classes in the first task.
    pub initial: usize,
    /// Classes in each later task.
    pub increment: usize,
    /// Seed of the class order (numpy legacy seeding).
    pub seed: u32,
    pub scenario: Scenario,
}

impl Default for ProtocolConfig {
    /// UESTC-MMEA-CL's published protocol: 32 classes, 4 per task, seed 1993.
    fn default() -> Self {
        ProtocolConfig {
            classes: 32,
            class_ids: Vec::new(),
            initial: 4,
            increment: 4,
            seed: PYCIL_SEED,
            scenario: Scenario::ClassIncremental,
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ProtocolError {
    #[error("protocol: {classes} classes; at least 1 is needed and at most {max}", max = MAX_CLASSES)]
    ClassCount { classes: usize },
    #[error("protocol: initial task of {initial} classes; it must hold 1 to {classes} (the class count)")]
    Initial { initial: usize, classes: usize },
    #[error("protocol: increment of 0 classes with {remaining} classes left after the initial task of {initial}")]
    ZeroIncrement { initial: usize, remaining: usize },
    #[error("unknown scenario {name:?} (known: class-il, task-il, domain-il, modality-dynamic)")]
    UnknownScenario { name: String },
    #[error(
        "protocol: {listed} class ids listed for {classes} classes, or some listed twice: {ids:?}"
    )]
    ClassIds {
        classes: usize,
        listed: usize,
        ids: Vec<ClassId>,
    },
}

/// A checked protocol: tasks partition `0..classes` in the seed's order.
#[derive(Debug, Clone, PartialEq)]
pub struct Protocol {
    config: ProtocolConfig,
    order: Vec<ClassId>,
    tasks: Vec<Vec<ClassId>>,
    /// `task_of[class]`: the task that introduces `class` (`usize::MAX`: not a class).
    task_of: Vec<usize>,
    /// `position[class]`: the class's index within its task (domain-IL label).
    position: Vec<ClassId>,
}

/// The modality block a modality-dynamic task trains without, by task: none, the first, none,
/// the second (video then IMU for the default encoder), repeating.
const DYNAMIC_ABSENT: [Option<usize>; 4] = [None, Some(0), None, Some(1)];

impl Protocol {
    pub fn new(config: &ProtocolConfig) -> Result<Protocol, ProtocolError> {
        check(config)?;
        Ok(Protocol::build(config))
    }

    /// The same protocol with another class-order seed.
    pub fn with_seed(&self, seed: u32) -> Protocol {
        // The numbers were checked when `self` was built; only the order changes.
        Protocol::build(&ProtocolConfig {
            seed,
            ..self.config.clone()
        })
    }

    /// Builds from numbers `check` accepted.
    fn build(config: &ProtocolConfig) -> Protocol {
        let ids = class_ids(config);
        let order: Vec<ClassId> = numpy_order::permutation(config.classes, config.seed)
            .into_iter()
            .map(|i| ids.get(i).copied().unwrap_or(ClassId::MAX))
            .collect();
        let tasks = split_tasks(&order, config.initial, config.increment);
        let bound = ids.iter().map(|c| *c as usize + 1).max().unwrap_or(0);
        let mut task_of = vec![usize::MAX; bound];
        let mut position = vec![0; bound];
        for (task, classes) in tasks.iter().enumerate() {
            for (at, &class) in classes.iter().enumerate() {
                task_of[class as usize] = task;
                position[class as usize] = to_class_id(at);
            }
        }
        Protocol {
            config: config.clone(),
            order,
            tasks,
            task_of,
            position,
        }
    }

    pub fn config(&self) -> &ProtocolConfig {
        &self.config
    }

    pub fn scenario(&self) -> Scenario {
        self.config.scenario
    }

    pub fn seed(&self) -> u32 {
        self.config.seed
    }

    pub fn classes(&self) -> usize {
        self.config.classes
    }

    /// One more than the largest class id: per-class tables are this long.
    pub fn id_bound(&self) -> usize {
        self.task_of.len()
    }

    /// The modality block (index into the embedding's modality blocks) absent from the
    /// training windows of `task`; `None` outside the modality-dynamic scenario.
    pub fn train_absent(&self, task: usize) -> Option<usize> {
        match self.config.scenario {
            Scenario::ModalityDynamic => DYNAMIC_ABSENT[task % DYNAMIC_ABSENT.len()],
            _ => None,
        }
    }

    /// All classes in the order they are learned.
    pub fn order(&self) -> &[ClassId] {
        &self.order
    }

    pub fn tasks(&self) -> &[Vec<ClassId>] {
        &self.tasks
    }

    /// The task that introduces `class`; `None` for an id that is not one of the classes.
    pub fn task_of(&self, class: ClassId) -> Option<usize> {
        self.task_of
            .get(class as usize)
            .copied()
            .filter(|t| *t != usize::MAX)
    }

    /// The label the learner is taught for `class` under the scenario.
    pub fn train_label(&self, class: ClassId) -> Option<ClassId> {
        match self.config.scenario {
            Scenario::DomainIncremental => self.position.get(class as usize).copied(),
            Scenario::ClassIncremental | Scenario::TaskIncremental | Scenario::ModalityDynamic => {
                self.task_of(class).map(|_| class)
            }
        }
    }

    /// Whether `prediction` is right for a test sample of `class`.
    pub fn is_correct(&self, prediction: &Prediction, class: ClassId) -> bool {
        match self.config.scenario {
            Scenario::ClassIncremental | Scenario::ModalityDynamic => prediction.class == class,
            Scenario::DomainIncremental => self.train_label(class) == Some(prediction.class),
            Scenario::TaskIncremental => self.best_in_task(prediction, class) == Some(class),
        }
    }

    /// The best-scoring class among the classes of `class`'s task; the first
    /// one in score order wins a tie. `None` when the learner scores none of them.
    fn best_in_task(&self, prediction: &Prediction, class: ClassId) -> Option<ClassId> {
        let task = self.tasks.get(self.task_of(class)?)?;
        let mut best: Option<(ClassId, f32)> = None;
        for &(candidate, score) in prediction.scores.iter().filter(|(c, _)| task.contains(c)) {
            if best.is_none_or(|(_, top)| score > top) {
                best = Some((candidate, score));
            }
        }
        best.map(|(candidate, _)| candidate)
    }
}

fn check(config: &ProtocolConfig) -> Result<(), ProtocolError> {
    let ProtocolConfig {
        classes,
        initial,
        increment,
        ..
    } = *config;
    if classes == 0 || classes > MAX_CLASSES {
        return Err(ProtocolError::ClassCount { classes });
    }
    if initial == 0 || initial > classes {
        return Err(ProtocolError::Initial { initial, classes });
    }
    if increment == 0 && initial < classes {
        return Err(ProtocolError::ZeroIncrement {
            initial,
            remaining: classes - initial,
        });
    }
    let ids = &config.class_ids;
    let mut sorted = ids.clone();
    sorted.sort_unstable();
    sorted.dedup();
    let too_large = ids.iter().any(|c| *c as usize >= MAX_CLASSES);
    if !ids.is_empty() && (sorted.len() != classes || ids.len() != classes || too_large) {
        return Err(ProtocolError::ClassIds {
            classes,
            listed: ids.len(),
            ids: ids.clone(),
        });
    }
    Ok(())
}

/// The class ids of a checked config, ascending.
fn class_ids(config: &ProtocolConfig) -> Vec<ClassId> {
    if config.class_ids.is_empty() {
        return (0..config.classes).map(to_class_id).collect();
    }
    let mut ids = config.class_ids.clone();
    ids.sort_unstable();
    ids
}

fn split_tasks(order: &[ClassId], initial: usize, increment: usize) -> Vec<Vec<ClassId>> {
    let (first, rest) = order.split_at(initial.min(order.len()));
    let mut tasks = vec![first.to_vec()];
    if increment > 0 {
        tasks.extend(rest.chunks(increment).map(<[ClassId]>::to_vec));
    }
    tasks
}

/// Class ids are below `MAX_CLASSES`, so they always fit a `ClassId`.
fn to_class_id(index: usize) -> ClassId {
    ClassId::try_from(index).unwrap_or(ClassId::MAX)
}

#[cfg(test)]
mod tests;
