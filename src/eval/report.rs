//! The benchmark's files: `report.json` (DESIGN.md's stable field names; fields
//! may be added, never renamed), `report.md` (a table and the accuracy matrices
//! for people) and the SVG plots of `plot`.
//!
//! Numbers in `report.json` are fractions, bytes and milliseconds; `report.md`
//! shows accuracies in percent.

use super::plot;
use super::protocol::{Protocol, Scenario};
use super::seeds::StrategyRun;
use super::EvalError;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// Version of the `report.json` layout; bumped when a field changes meaning.
pub const REPORT_FORMAT: u32 = 1;

/// Everything one `bench cl` produced.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct BenchReport {
    pub dataset: String,
    pub scenario: Scenario,
    pub classes: usize,
    pub tasks: usize,
    pub seeds: Vec<u32>,
    /// The byte budget the learners were built with; `None` if unbounded.
    pub budget_bytes: Option<u64>,
    pub initial: usize,
    pub increment: usize,
    pub format: u32,
    /// Which encoder produced the embeddings, when the caller knows (`with_encoder`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encoder: Option<EncoderRecord>,
    pub strategies: Vec<StrategyRun>,
}

/// The encoder behind a report's embeddings. Clips taken from the cache were encoded
/// by whichever backend wrote them; the cache is keyed by the model's sha256, so every
/// backend computes the same function (within the encoder's 1e-4 contract).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct EncoderRecord {
    pub sha256: String,
    /// The backend this run opened ("tract" or "ort") and its execution provider.
    pub backend: String,
    pub execution_provider: String,
    /// Clips this run encoded with that backend.
    pub clips_encoded: usize,
    /// Clips whose embeddings came from the cache.
    pub clips_from_cache: usize,
}

impl BenchReport {
    pub fn new(
        dataset: impl Into<String>,
        protocol: &Protocol,
        seeds: Vec<u32>,
        budget_bytes: Option<u64>,
        strategies: Vec<StrategyRun>,
    ) -> BenchReport {
        let config = protocol.config();
        BenchReport {
            dataset: dataset.into(),
            scenario: config.scenario,
            classes: config.classes,
            tasks: protocol.tasks().len(),
            seeds,
            budget_bytes,
            initial: config.initial,
            increment: config.increment,
            format: REPORT_FORMAT,
            encoder: None,
            strategies,
        }
    }

    /// The same report, saying which encoder produced its embeddings.
    pub fn with_encoder(mut self, encoder: EncoderRecord) -> BenchReport {
        self.encoder = Some(encoder);
        self
    }

    /// `report.json`: pretty-printed, ending with a newline.
    pub fn to_json(&self) -> Result<String, EvalError> {
        let mut json = serde_json::to_string_pretty(self)?;
        json.push('\n');
        Ok(json)
    }

    /// `report.md`: summary table, notes, then one accuracy matrix per strategy.
    pub fn to_markdown(&self) -> String {
        let mut md = String::new();
        let _ = writeln!(md, "# Continual-learning benchmark: {}\n", self.dataset);
        let _ = writeln!(md, "{}\n", self.protocol_line());
        md.push_str(&summary_table(&self.strategies));
        md.push_str("\nAccuracies in %, mean ± std over seeds; `n/a`: undefined for this run (see notes).\n");
        for (note, names) in fwt_notes(&self.strategies) {
            let _ = writeln!(md, "- forward transfer {note}: {}.", names.join(", "));
        }
        if let Some(e) = &self.encoder {
            let _ = writeln!(md, "{}", encoder_line(e));
        }
        for strategy in &self.strategies {
            md.push('\n');
            md.push_str(&matrix_table(strategy));
        }
        md
    }

    fn protocol_line(&self) -> String {
        let seeds: Vec<String> = self.seeds.iter().map(u32::to_string).collect();
        let budget = self
            .budget_bytes
            .map_or("unbounded".to_string(), |b| format!("{b} bytes"));
        format!(
            "Scenario {} · {} classes in {} tasks ({} first, then {} per task) · seeds {} · budget {budget}",
            self.scenario,
            self.classes,
            self.tasks,
            self.initial,
            self.increment,
            seeds.join(", ")
        )
    }
}

const HEADER: &str =
    "| strategy | final acc | avg incr acc | forgetting | BWT | memory bytes | learn ms/task \
| acc video absent | acc IMU absent |\n|---|---|---|---|---|---|---|---|---|\n";

/// Each distinct forward-transfer note once, with the strategies it applies to, in
/// report order (one line instead of one per strategy).
fn fwt_notes(strategies: &[StrategyRun]) -> Vec<(&str, Vec<&str>)> {
    let mut notes: Vec<(&str, Vec<&str>)> = Vec::new();
    for s in strategies {
        let Some(note) = s.fwt_note.as_deref() else {
            continue;
        };
        match notes.iter_mut().find(|(n, _)| *n == note) {
            Some((_, names)) => names.push(&s.name),
            None => notes.push((note, vec![&s.name])),
        }
    }
    notes
}

fn encoder_line(e: &EncoderRecord) -> String {
    format!(
        "\nEmbeddings: encoder sha256 {}; {} clips encoded now by {} ({}), {} from the cache.",
        e.sha256, e.clips_encoded, e.backend, e.execution_provider, e.clips_from_cache
    )
}

fn summary_table(strategies: &[StrategyRun]) -> String {
    let mut table = HEADER.to_string();
    for s in strategies {
        let _ = writeln!(
            table,
            "| {} | {} ± {} | {} ± {} | {} | {} | {} | {:.2} | {} | {} |",
            s.name,
            pct(s.final_accuracy),
            pct(s.final_accuracy_std),
            pct(s.avg_incremental_accuracy),
            pct(s.avg_incremental_accuracy_std),
            opt_pct(s.forgetting),
            opt_pct(s.bwt),
            s.memory_bytes,
            s.learn_ms_per_task,
            opt_pct(s.missing_modality.video),
            opt_pct(s.missing_modality.imu),
        );
    }
    table
}

/// Row i: after learning task i; column j: accuracy on task j.
fn matrix_table(strategy: &StrategyRun) -> String {
    let tasks = strategy.accuracy_matrix.tasks();
    let mut md = format!(
        "## {}: accuracy matrix (%)\n\n| after task \\ on task |",
        strategy.name
    );
    for j in 0..tasks {
        let _ = write!(md, " {j} |");
    }
    md.push_str(&format!("\n|---|{}\n", "---|".repeat(tasks)));
    for (i, row) in strategy.accuracy_matrix.rows().iter().enumerate() {
        let _ = write!(md, "| {i} |");
        for j in 0..tasks {
            let _ = write!(md, " {} |", row.get(j).map_or(String::new(), |&v| pct(v)));
        }
        md.push('\n');
    }
    md
}

fn pct(fraction: f64) -> String {
    format!("{:.1}", fraction * 100.0)
}

fn opt_pct(fraction: Option<f64>) -> String {
    fraction.map_or("n/a".to_string(), pct)
}

/// Creates `dir` and writes `report.json`, `report.md`, `accuracy_curve.svg` and
/// one `matrix_<strategy>.svg` per strategy; returns the paths written.
/// File names are checked before anything is written.
pub fn write_report(dir: &Path, report: &BenchReport) -> Result<Vec<PathBuf>, EvalError> {
    let stems = plot::matrix_file_stems(&report.strategies)?;
    std::fs::create_dir_all(dir).map_err(|source| EvalError::Io {
        path: dir.to_path_buf(),
        action: "creating the report directory",
        source,
    })?;
    let mut files = vec![
        ("report.json".to_string(), report.to_json()?),
        ("report.md".to_string(), report.to_markdown()),
        (
            "accuracy_curve.svg".to_string(),
            plot::accuracy_curve_svg(report),
        ),
    ];
    for (strategy, stem) in report.strategies.iter().zip(stems) {
        files.push((format!("{stem}.svg"), plot::matrix_svg(strategy)));
    }
    files
        .into_iter()
        .map(|(name, text)| write_file(&dir.join(name), &text))
        .collect()
}

fn write_file(path: &Path, text: &str) -> Result<PathBuf, EvalError> {
    std::fs::write(path, text).map_err(|source| EvalError::Io {
        path: path.to_path_buf(),
        action: "writing",
        source,
    })?;
    Ok(path.to_path_buf())
}
