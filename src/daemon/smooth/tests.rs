use super::*;
use crate::config::raw::RawDaemon;
use crate::config::Config;

fn smoother(alpha: f64, margin: f64, windows: i64, min_conf: f64) -> Smoother {
    let config = Config::load_with(None, |raw| {
        raw.daemon = RawDaemon {
            smoothing: Some(alpha),
            switch_margin: Some(margin),
            switch_windows: Some(windows),
            min_confidence: Some(min_conf),
            ..RawDaemon::default()
        }
    })
    .expect("built-in profile");
    Smoother::new(config.daemon())
}

/// Scores whose softmax gives `winner` probability ~0.9 over two classes.
fn favour(winner: ClassId) -> Vec<(ClassId, f32)> {
    (0..2)
        .map(|c| (c, if c == winner { 2.2 } else { 0.0 }))
        .collect()
}

#[test]
fn softmax_sums_to_one_and_keeps_order() {
    let p = softmax(&[(0, 1.0), (1, 3.0), (2, -2.0)]);
    assert!((p.values().sum::<f64>() - 1.0).abs() < 1e-12);
    assert!(p[&1] > p[&0] && p[&0] > p[&2]);
    assert!(
        (softmax(&[(0, 1000.0), (1, 1000.0)])[&0] - 0.5).abs() < 1e-12,
        "stable"
    );
}

#[test]
fn a_class_is_adopted_once_confident_and_kept_through_one_stray_window() {
    let mut s = smoother(0.5, 0.1, 2, 0.3);
    let first = s.update(&favour(0));
    assert_eq!((first.class, first.changed), (Some(0), true));
    // One window for class 1: class 1 leads by the margin once, not twice: no switch.
    for scores in [favour(1), favour(0), favour(0)] {
        let out = s.update(&scores);
        assert_eq!(out.class, Some(0));
    }
}

#[test]
fn a_steady_challenger_takes_over_after_switch_windows() {
    let mut s = smoother(0.5, 0.1, 2, 0.3);
    s.update(&favour(0));
    s.update(&favour(0));
    let seen: Vec<Option<ClassId>> = (0..4).map(|_| s.update(&favour(1)).class).collect();
    // Window 1: smoothed 1 leads? 0.9*.5+... the lead needs two windows past the margin.
    let switch_at = seen.iter().position(|c| *c == Some(1)).expect("switches");
    assert!(switch_at >= 1, "{seen:?}");
    assert!(seen[switch_at..].iter().all(|c| *c == Some(1)), "{seen:?}");
}

#[test]
fn no_smoothing_and_no_hysteresis_follows_every_window() {
    let mut s = smoother(1.0, 0.0, 1, 0.0);
    for w in [0, 1, 0, 1] {
        assert_eq!(s.update(&favour(w)).class, Some(w));
    }
}

#[test]
fn below_min_confidence_there_is_no_class_and_forgotten_classes_drop() {
    let mut s = smoother(1.0, 0.1, 2, 0.6);
    let flat: Vec<(ClassId, f32)> = vec![(0, 0.0), (1, 0.0)];
    assert_eq!(s.update(&flat).class, None);
    assert_eq!(s.update(&favour(1)).class, Some(1));
    // Class 1 forgotten: only class 0 is scored now.
    let out = s.update(&[(0, 0.0)]);
    assert_eq!((out.class, out.changed), (Some(0), true));
    assert!((out.confidence - 1.0).abs() < 1e-12);
}
