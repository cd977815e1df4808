//! Reports: `report.json` / `report.md` pinned by golden files, SVG plots that
//! are well-formed and name every strategy, and `write_report`'s files and errors.
//!
//! To regenerate the golden files after an intended format change:
//! `MMCL_UPDATE_GOLDEN=1 cargo test --no-default-features --test eval_report`.

mod eval_support;

use eval_support::{labelled, one_hot, samples, NearestMean, StepClock};
use mmcl::eval::plot::{accuracy_curve_svg, matrix_svg};
use mmcl::eval::{
    run_seeds, write_report, BenchReport, EvalError, FeatureSet, Labelled, Protocol,
    ProtocolConfig, RunOptions,
};
use mmcl::learn::{LearnError, Learner};
use std::num::NonZeroUsize;
use std::path::Path;

/// 8 classes; the fourth test sample of each class looks like the next class,
/// so accuracies are neither 0 nor 1 and depend on which classes are known.
fn features() -> FeatureSet {
    let embed = one_hot(8);
    let test: Vec<Labelled> = samples(8, 4, &|c, k| {
        if k == 3 {
            embed((c + 1) % 8, 0)
        } else {
            embed(c, k)
        }
    });
    let video_absent = test
        .iter()
        .map(|l| labelled(embed((l.class + 2) % 8, 1), l.class))
        .collect();
    FeatureSet {
        dim: 8,
        train: samples(8, 3, &embed),
        test: test.clone(),
        test_video_absent: Some(video_absent),
        test_imu_absent: Some(test),
        ..Default::default()
    }
}

fn report() -> BenchReport {
    let protocol = Protocol::new(&ProtocolConfig {
        classes: 8,
        initial: 2,
        increment: 2,
        ..Default::default()
    })
    .unwrap();
    let features = features();
    let clock = StepClock::new(1_500_000);
    let options = RunOptions {
        clock: &clock,
        batch: NonZeroUsize::new(4),
    };
    let seeds = [1993, 1994];
    let ncm = || Ok(Box::new(NearestMean::new(8)) as Box<dyn Learner>);
    let forgetful =
        || -> Result<Box<dyn Learner>, LearnError> { Ok(Box::new(NearestMean::forgetful(8))) };
    let strategies = vec![
        run_seeds(&features, &protocol, &seeds, &ncm, options, &mut |_| {}).unwrap(),
        run_seeds(
            &features,
            &protocol,
            &seeds,
            &forgetful,
            options,
            &mut |_| {},
        )
        .unwrap(),
    ];
    BenchReport::new(
        "synthetic-8",
        &protocol,
        seeds.to_vec(),
        Some(1 << 20),
        strategies,
    )
}

fn golden(name: &str, actual: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/eval")
        .join(name);
    if std::env::var_os("MMCL_UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, actual).unwrap();
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    assert!(
        expected == actual,
        "{} differs from the report written now:\n{actual}",
        path.display()
    );
}

#[test]
fn report_json_matches_golden() {
    golden("report.json", &report().to_json().unwrap());
}

#[test]
fn the_encoder_record_is_in_both_files_and_each_note_is_said_once() {
    let report = report().with_encoder(mmcl::eval::EncoderRecord {
        sha256: "ab".repeat(32),
        backend: "ort".into(),
        execution_provider: "cpu".into(),
        clips_encoded: 3,
        clips_from_cache: 5,
    });
    let json: serde_json::Value = serde_json::from_str(&report.to_json().unwrap()).unwrap();
    assert_eq!(json["encoder"]["backend"], "ort");
    assert_eq!(json["encoder"]["clips_from_cache"], 5);
    let md = report.to_markdown();
    assert!(
        md.contains("3 clips encoded now by ort (cpu), 5 from the cache"),
        "{md}"
    );
    // Both strategies share the class-IL note: one line names them both.
    assert_eq!(md.matches("forward transfer undefined").count(), 1, "{md}");
}

#[test]
fn report_markdown_matches_golden() {
    golden("report.md", &report().to_markdown());
}

#[test]
fn report_json_has_the_stable_field_names() {
    let json: serde_json::Value = serde_json::from_str(&report().to_json().unwrap()).unwrap();
    for key in [
        "dataset",
        "scenario",
        "classes",
        "tasks",
        "seeds",
        "budget_bytes",
        "strategies",
    ] {
        assert!(json.get(key).is_some(), "missing {key}");
    }
    assert_eq!(json["scenario"], "class-il");
    assert_eq!(
        (json["classes"].as_u64(), json["tasks"].as_u64()),
        (Some(8), Some(4))
    );
    let strategy = &json["strategies"][0];
    for key in [
        "name",
        "final_accuracy",
        "avg_incremental_accuracy",
        "forgetting",
        "bwt",
        "memory_bytes",
        "learn_ms_per_task",
        "accuracy_matrix",
        "missing_modality",
        "per_seed",
    ] {
        assert!(strategy.get(key).is_some(), "strategy lacks {key}");
    }
    assert!(
        strategy["missing_modality"]["video"].is_f64()
            && strategy["missing_modality"]["imu"].is_f64()
    );
    let matrix = strategy["accuracy_matrix"].as_array().unwrap();
    assert_eq!(matrix.len(), 4);
    assert!(
        matrix[0][1].is_null() && matrix[3][0].is_f64(),
        "null above the diagonal"
    );
    assert_eq!(strategy["per_seed"].as_array().unwrap().len(), 2);
    assert!(strategy["fwt"].is_null() && strategy["fwt_note"].is_string());
}

/// Checks that every tag is closed in order (enough XML for our own writer).
fn assert_balanced(svg: &str) {
    let mut stack: Vec<&str> = Vec::new();
    let mut rest = svg;
    while let Some(open) = rest.find('<') {
        let close = rest[open..].find('>').expect("unterminated tag") + open;
        let tag = &rest[open + 1..close];
        if let Some(name) = tag.strip_prefix('/') {
            assert_eq!(stack.pop(), Some(name.trim()), "mismatched </{name}>");
        } else if !tag.ends_with('/') {
            stack.push(tag.split_whitespace().next().unwrap());
        }
        assert!(!rest[open + 1..close].contains('<'), "'<' inside a tag");
        rest = &rest[close + 1..];
    }
    assert!(stack.is_empty(), "unclosed tags {stack:?}");
    assert!(svg.starts_with("<svg ") && svg.trim_end().ends_with("</svg>"));
}

#[test]
fn plots_are_well_formed_and_name_every_strategy() {
    let mut report = report();
    report.strategies[1].name = "forget <&> \"me\"".to_string();
    let curve = accuracy_curve_svg(&report);
    assert_balanced(&curve);
    assert!(curve.contains(">ncm</text>"));
    assert!(curve.contains("forget &lt;&amp;&gt; &quot;me&quot;"));
    assert!(curve.contains("classes learned") && curve.contains("accuracy (%)"));
    assert_eq!(curve.matches("<polyline").count(), 2);
    for strategy in &report.strategies {
        let matrix = matrix_svg(strategy);
        assert_balanced(&matrix);
        // One cell per measured accuracy: 4 tasks, 10 cells.
        assert_eq!(matrix.matches("stroke=\"#ffffff\"").count(), 10);
        assert_eq!(matrix, matrix_svg(strategy), "deterministic");
    }
    assert!(matrix_svg(&report.strategies[1]).contains("forget &lt;&amp;&gt;"));
}

#[test]
fn write_report_writes_every_file() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("nested/report");
    let report = report();
    let files = write_report(&out, &report).unwrap();
    let names: Vec<String> = files
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names,
        [
            "report.json",
            "report.md",
            "accuracy_curve.svg",
            "matrix_ncm.svg",
            "matrix_forgetful.svg"
        ]
    );
    assert_eq!(
        std::fs::read_to_string(out.join("report.json")).unwrap(),
        report.to_json().unwrap()
    );
}

#[test]
fn write_report_errors_name_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let blocker = dir.path().join("file");
    std::fs::write(&blocker, "not a directory").unwrap();
    let err = write_report(&blocker.join("out"), &report()).unwrap_err();
    assert!(matches!(err, EvalError::Io { .. }), "{err}");
    assert!(
        err.to_string().contains("creating the report directory")
            && err.to_string().contains("file/out"),
        "{err}"
    );

    let mut report = report();
    report.strategies[1].name = "n c m".into();
    report.strategies[0].name = "n_c_m".into();
    let out = dir.path().join("clash");
    let err = write_report(&out, &report).unwrap_err();
    assert!(
        matches!(&err, EvalError::FileNameClash { file, .. } if file == "matrix_n_c_m.svg"),
        "{err}"
    );
    assert!(!out.exists(), "nothing written when names clash");
}
