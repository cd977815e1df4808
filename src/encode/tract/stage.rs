//! The frame stage cut out of a model's graph for tract: the per-frame
//! network (the frame-stage input tensor to its output tensor) and the fuse
//! graph (frame features, IMU and presence to the contract's outputs).
//!
//! tract can make any tensor a model input (its node becomes a source and
//! whatever only fed it is dropped), so both halves are the model's own nodes:
//! `fuse` over the features of a window's frames runs the same operators, in
//! the same order, as the whole graph does after the cut.

use crate::encode::{FrameStageTensors, ModelContract};
use tract_onnx::prelude::*;

/// The two halves of a model cut at its declared frame stage.
#[derive(Clone)]
pub struct Cut {
    /// Input: frames `[F, 3, H, W]`; output: their features `[F, ...]`.
    pub frames: InferenceModel,
    /// Inputs: features `[N*T, ...]`, `imu`, `present`; outputs: the contract's three.
    pub fuse: InferenceModel,
    /// One frame's feature dims (the features tensor without its first axis).
    pub feature_shape: Vec<usize>,
}

impl Cut {
    /// Values in one frame's features.
    pub fn feature_len(&self) -> usize {
        self.feature_shape.iter().product()
    }
}

/// Cuts `model` (inputs video, imu, present; outputs as the contract says) at `at`.
pub fn cut(model: &InferenceModel, at: &FrameStageTensors, c: &ModelContract) -> TractResult<Cut> {
    let input = tensor(model, &at.input)?;
    let output = tensor(model, &at.output)?;
    let inputs = model.input_outlets()?;
    let (Some(&imu), Some(&present)) = (inputs.get(1), inputs.get(2)) else {
        anyhow::bail!("the model has {} inputs, the contract 3", inputs.len());
    };
    let frames = sub_model(model, &[input], &[output])?
        .with_input_fact(0, f32::fact([1, 3, c.height, c.width]).into())?;
    let feature_shape = feature_shape(&frames)?;
    let fuse = sub_model(model, &[output, imu, present], model.output_outlets()?)?;
    Ok(Cut {
        frames,
        fuse,
        feature_shape,
    })
}

/// The outlet a tensor name labels; only a node's first output can become an input.
fn tensor(model: &InferenceModel, name: &str) -> TractResult<OutletId> {
    match model.find_outlet_label(name) {
        Some(outlet) if outlet.slot == 0 => Ok(outlet),
        Some(_) => anyhow::bail!("tensor `{name}` is not the first output of its node"),
        None => anyhow::bail!("the graph has no tensor `{name}`"),
    }
}

/// `model` with these inputs and outputs and nothing else; an output that
/// still needs another of the model's inputs is refused, naming it.
fn sub_model(
    model: &InferenceModel,
    inputs: &[OutletId],
    outputs: &[OutletId],
) -> TractResult<InferenceModel> {
    let mut sub = model.clone();
    sub.set_input_outlets(inputs)?;
    sub.select_output_outlets(outputs)?;
    sub.compact()?;
    for dropped in model
        .input_outlets()?
        .iter()
        .filter(|o| !inputs.contains(o))
    {
        let name = &model.node(dropped.node).name;
        if sub.node_by_name(name).is_ok() {
            anyhow::bail!("the outputs still read input `{name}` past the cut");
        }
    }
    Ok(sub)
}

/// One frame's feature dims, from the frame model typed for a single frame.
fn feature_shape(frames: &InferenceModel) -> TractResult<Vec<usize>> {
    let typed = frames.clone().into_typed()?;
    let fact = typed.output_fact(0)?;
    let Some(shape) = fact.shape.as_concrete() else {
        anyhow::bail!("the frame features have no fixed shape ({:?})", fact.shape);
    };
    match shape.split_first() {
        Some((1, rest)) => Ok(rest.to_vec()),
        _ => anyhow::bail!("one frame gives features of shape {shape:?}, expected [1, ...]"),
    }
}
