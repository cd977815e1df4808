//! `Pipeline`: builds and starts the graph, reports its health, joins it.
//!
//! ```text
//! source thread ─┬─ <source>/video ─┐
//!   (one each)   └─ <source>/imu ───┼─► aligner thread ─► windows ─► encoder thread ─► output
//! source thread ─── <source>/audio ─┘   (Select + shutdown)  (block)   (small batches)   (block)
//! ```
//!
//! `Pipeline::start` runs the whole graph; `Pipeline::start_windows` stops at the
//! aligner (tests and tools). Everything is checked before any thread starts:
//! source names are unique, no modality comes from two sources, and with an
//! encoder its contract can take what the sources emit (no audio without an
//! audio input) and the window spec's shape. Frames are reduced to the
//! encoder's input size (or `settings.frame_size`) in the source threads, and
//! the aligner's spec is given that size.

use super::align_stage::{AlignStage, Emitter, Input, SeqWindow};
use super::channel::{channel, Gauge, SampleSender};
use super::encode_stage::{EncodeStage, EncodedWindow};
use super::health::{AlignCell, Cells, EncodeCell, PipelineHealth, SourceCell};
use super::join::{join_all, spawn, Running};
use super::settings::{ChannelPolicy, ChannelSettings, PipelineSettings};
use super::source_stage::SourceStage;
use super::stage::{PipelineError, PipelineOutcome, Stage};
use crate::align::{Aligner, WindowParams, WindowSpec};
use crate::encode::{Encoder, FrameCache, ModelContract};
use crate::sample::Modality;
use crate::sensor::Source;
use crate::shutdown::Shutdown;
use crate::time::Timestamp;
use crossbeam_channel::Receiver;
use std::sync::Arc;
use std::time::Duration;

/// A running graph. Read `output()` until it disconnects (every source ended
/// and everything was passed on), then `join`; or `stop` it at any time.
///
/// Dropping a `Pipeline` without joining drops the output: the stages stop as
/// they find their consumer gone (a source only once it next has a sample).
pub struct Pipeline<T> {
    output: Receiver<T>,
    cells: Cells,
    stages: Vec<Running>,
    shutdown: Shutdown,
    join_timeout: Duration,
}

impl Pipeline<EncodedWindow> {
    /// Starts sources, aligner and encoder. `spec` is the aligner's window (its
    /// frame size is replaced by the encoder's input size); the first window
    /// starts at `start`; every stage watches `shutdown`.
    pub fn start(
        sources: Vec<Box<dyn Source>>,
        spec: &WindowSpec,
        start: Timestamp,
        encoder: Box<dyn Encoder>,
        settings: &PipelineSettings,
        shutdown: &Shutdown,
    ) -> Result<Pipeline<EncodedWindow>, PipelineError> {
        let contract = encoder.contract();
        check_encoder(&sources, spec, contract)?;
        let size = (contract.width as u32, contract.height as u32);
        let spec = with_frame_size(spec, Some(size))?;
        let front = Front::start(sources, &spec, start, settings, shutdown)?;
        let cell = EncodeCell::new();
        let (out, output, gauge) =
            channel("output".into(), blocking(settings.output_capacity), None);
        let stage = EncodeStage {
            encoder,
            frames: FrameCache::for_spec(&spec),
            input: front.windows,
            out,
            cell: cell.clone(),
            shutdown: shutdown.clone(),
        };
        let mut stages = front.stages;
        stages.push(spawn(Stage::Encoder, move || stage.run())?);
        let mut cells = front.cells;
        cells.encoder = Some(cell);
        cells.channels.push(gauge);
        Ok(Pipeline::assemble(
            output, cells, stages, shutdown, settings,
        ))
    }
}

impl Pipeline<SeqWindow> {
    /// Starts sources and aligner only: the output is the aligner's windows,
    /// empty ones included. Frames are reduced to `settings.frame_size`, if set.
    pub fn start_windows(
        sources: Vec<Box<dyn Source>>,
        spec: &WindowSpec,
        start: Timestamp,
        settings: &PipelineSettings,
        shutdown: &Shutdown,
    ) -> Result<Pipeline<SeqWindow>, PipelineError> {
        let spec = with_frame_size(spec, settings.frame_size)?;
        let front = Front::start(sources, &spec, start, settings, shutdown)?;
        let (stages, cells) = (front.stages, front.cells);
        Ok(Pipeline::assemble(
            front.windows,
            cells,
            stages,
            shutdown,
            settings,
        ))
    }
}

impl<T> Pipeline<T> {
    fn assemble(
        output: Receiver<T>,
        cells: Cells,
        stages: Vec<Running>,
        shutdown: &Shutdown,
        settings: &PipelineSettings,
    ) -> Pipeline<T> {
        Pipeline {
            output,
            cells,
            stages,
            shutdown: shutdown.clone(),
            join_timeout: settings.join_timeout,
        }
    }

    /// The items the last stage produced, in order; disconnected once it ended.
    pub fn output(&self) -> &Receiver<T> {
        &self.output
    }

    /// One snapshot of every stage and channel.
    pub fn health(&self) -> PipelineHealth {
        self.cells.snapshot()
    }

    /// Drops the output, waits for the stages to end on their own or, once the
    /// shutdown is triggered, for at most the join timeout more; each stage's outcome.
    pub fn join(self) -> PipelineOutcome {
        let Pipeline {
            output,
            stages,
            shutdown,
            join_timeout,
            ..
        } = self;
        drop(output);
        PipelineOutcome {
            stages: join_all(stages, &shutdown, join_timeout),
        }
    }

    /// Triggers the shutdown, then `join`s.
    pub fn stop(self) -> PipelineOutcome {
        self.shutdown.trigger();
        self.join()
    }
}

/// The started sources and aligner, before the encoder (if any) is added.
struct Front {
    windows: Receiver<SeqWindow>,
    stages: Vec<Running>,
    cells: Cells,
}

impl Front {
    fn start(
        sources: Vec<Box<dyn Source>>,
        spec: &WindowSpec,
        start: Timestamp,
        settings: &PipelineSettings,
        shutdown: &Shutdown,
    ) -> Result<Front, PipelineError> {
        let modalities = check_sources(&sources)?;
        let aligner =
            Aligner::new(spec.clone(), start, &modalities).map_err(PipelineError::Align)?;
        let (token, watch) = crossbeam_channel::bounded::<()>(0);
        let mut stages = Vec::new();
        let mut inputs = Vec::new();
        let mut cells = Cells {
            sources: Vec::new(),
            aligner: AlignCell::new(),
            encoder: None,
            channels: Vec::new(),
        };
        for source in sources {
            let mut wired = wire(source.as_ref(), settings, &watch);
            inputs.append(&mut wired.inputs);
            let stage = wired.stage(source, spec, shutdown, &mut cells);
            let name = Stage::Source(stage.source.name().to_string());
            stages.push(spawn(name, move || stage.run())?);
        }
        let (out, windows, gauge) =
            channel("windows".into(), blocking(settings.window_capacity), None);
        cells.channels.push(gauge);
        let stage = AlignStage {
            aligner,
            inputs,
            emitter: Emitter {
                out,
                shutdown: shutdown.clone(),
                next_seq: 0,
            },
            cell: cells.aligner.clone(),
            _downstream: token,
        };
        stages.push(spawn(Stage::Aligner, move || stage.run())?);
        Ok(Front {
            windows,
            stages,
            cells,
        })
    }
}

/// A source's channels, one per modality: its ends and the aligner's.
struct Wired {
    senders: Vec<(Modality, SampleSender)>,
    inputs: Vec<Input>,
    gauges: Vec<(Modality, Arc<Gauge>)>,
}

impl Wired {
    /// The source's thread body; its health cell and gauges join `cells`.
    fn stage(
        self,
        source: Box<dyn Source>,
        spec: &WindowSpec,
        shutdown: &Shutdown,
        cells: &mut Cells,
    ) -> SourceStage {
        cells
            .channels
            .extend(self.gauges.iter().map(|(_, g)| g.clone()));
        let cell = SourceCell::new(source.name().to_string(), &self.gauges);
        super::health::lock(&cell).monitor = source.monitor();
        cells.sources.push(cell.clone());
        SourceStage {
            source,
            senders: self.senders,
            frame_size: spec.frame_size(),
            cell,
            shutdown: shutdown.clone(),
        }
    }
}

fn wire(source: &dyn Source, settings: &PipelineSettings, watch: &Receiver<()>) -> Wired {
    let mut senders = Vec::new();
    let mut inputs = Vec::new();
    let mut gauges = Vec::new();
    for m in distinct(source.modalities()) {
        let name = format!("{}/{m}", source.name());
        let (tx, rx, gauge) = channel(name, settings.channel(m), Some(watch.clone()));
        senders.push((m, tx));
        inputs.push(Input {
            rx,
            gauge: gauge.clone(),
        });
        gauges.push((m, gauge));
    }
    Wired {
        senders,
        inputs,
        gauges,
    }
}

fn blocking(capacity: usize) -> ChannelSettings {
    ChannelSettings {
        capacity,
        policy: ChannelPolicy::Block,
    }
}

/// `modalities` without repeats, in `Modality::ALL` order.
fn distinct(modalities: &[Modality]) -> Vec<Modality> {
    Modality::ALL
        .into_iter()
        .filter(|m| modalities.contains(m))
        .collect()
}

/// Unique names, one source per modality; the union of the modalities.
fn check_sources(sources: &[Box<dyn Source>]) -> Result<Vec<Modality>, PipelineError> {
    if sources.is_empty() {
        return Err(PipelineError::NoSources);
    }
    let mut owner: Vec<(Modality, &str)> = Vec::new();
    for (i, s) in sources.iter().enumerate() {
        if sources.iter().take(i).any(|o| o.name() == s.name()) {
            let name = s.name().to_string();
            return Err(PipelineError::DuplicateName { name });
        }
        for m in distinct(s.modalities()) {
            if let Some((_, first)) = owner.iter().find(|(o, _)| *o == m) {
                return Err(PipelineError::DuplicateModality {
                    modality: m,
                    first: first.to_string(),
                    second: s.name().to_string(),
                });
            }
            owner.push((m, s.name()));
        }
    }
    Ok(distinct(&owner.iter().map(|(m, _)| *m).collect::<Vec<_>>()))
}

/// Refuses what the encoder cannot take: audio without an audio input, and a
/// window of another frame count or IMU length than the model's.
fn check_encoder(
    sources: &[Box<dyn Source>],
    spec: &WindowSpec,
    c: &ModelContract,
) -> Result<(), PipelineError> {
    let takes_audio = c.modalities.iter().any(|m| m == Modality::Audio.name());
    if let Some(s) = sources
        .iter()
        .find(|s| s.modalities().contains(&Modality::Audio))
    {
        if !takes_audio {
            return Err(PipelineError::AudioUnsupported {
                source_name: s.name().to_string(),
                encoder: c.name.clone(),
                modalities: c.modalities.join(", "),
            });
        }
    }
    let mismatch = |what, spec: usize, model: usize| PipelineError::SpecMismatch {
        encoder: c.name.clone(),
        what,
        spec: spec.to_string(),
        model: model.to_string(),
    };
    if spec.frames() != c.frames {
        return Err(mismatch("frames per window", spec.frames(), c.frames));
    }
    if spec.imu_len() != c.imu_len {
        return Err(mismatch("IMU points per window", spec.imu_len(), c.imu_len));
    }
    Ok(())
}

/// `spec` with its frame size set to `size` (unchanged when `None`).
fn with_frame_size(
    spec: &WindowSpec,
    size: Option<(u32, u32)>,
) -> Result<WindowSpec, PipelineError> {
    let Some((width, height)) = size else {
        return Ok(spec.clone());
    };
    WindowSpec::new(WindowParams {
        frame_size: Some((width, height)),
        ..spec.params().clone()
    })
    .map_err(|error| PipelineError::FrameSize {
        width,
        height,
        error,
    })
}
