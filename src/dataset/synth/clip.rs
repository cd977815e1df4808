//! One clip's content in memory: its sensor rows and its frames, drawn from the clip's own
//! random streams. The writer stores them; tests and benchmarks can read them directly.

use super::activity::{signature, ClassSignature};
use super::imu::{self, RawRow};
use super::motion::Motion;
use super::params::SynthParams;
use super::plan::ClipPlan;
use super::rng::{clip_rng, Stream};
use super::video::{self, ClipLook};
use rand_chacha::ChaCha8Rng;

/// The class signature and the head motion of `clip`, and the IMU stream positioned after
/// the motion was drawn (sensor error continues from it).
fn motion(params: &SynthParams, clip: &ClipPlan) -> (ClassSignature, Motion, ChaCha8Rng) {
    let sig = signature(clip.class, params.knobs().overlap);
    let mut rng = clip_rng(params.seed(), clip.class.label(), clip.index, Stream::Imu);
    let motion = Motion::draw(&sig.imu, clip.duration_s() as f32, &mut rng);
    (sig, motion, rng)
}

/// The clip's sensor rows in raw counts, stuck-sensor run included.
pub fn sensor_rows(params: &SynthParams, clip: &ClipPlan) -> Vec<RawRow> {
    let (_, motion, mut rng) = motion(params, clip);
    imu::sensor_rows(
        &motion,
        clip.sensor_rows,
        params.knobs().noise,
        clip.dropout,
        &mut rng,
    )
}

/// The clip's frames in order, as RGB bytes of `size` x `size`.
pub struct Frames {
    look: ClipLook,
    motion: Motion,
    rng: ChaCha8Rng,
    clip: ClipPlan,
    size: u32,
    next: usize,
}

impl Frames {
    pub fn new(params: &SynthParams, clip: &ClipPlan) -> Frames {
        let (sig, motion, _) = motion(params, clip);
        let mut rng = clip_rng(params.seed(), clip.class.label(), clip.index, Stream::Video);
        let look = ClipLook::draw(&sig, &mut rng);
        Frames {
            look,
            motion,
            rng,
            clip: clip.clone(),
            size: params.size(),
            next: 0,
        }
    }

    /// The JPEG quality every frame of this clip is written at.
    pub fn quality(&self) -> u8 {
        self.look.quality
    }
}

impl Iterator for Frames {
    type Item = Vec<u8>;

    fn next(&mut self) -> Option<Vec<u8>> {
        if self.next >= self.clip.frames {
            return None;
        }
        let t = self.clip.frame_time_s(self.next) as f32;
        self.next += 1;
        Some(video::render(
            &self.look,
            &self.motion,
            t,
            self.size,
            &mut self.rng,
        ))
    }
}
