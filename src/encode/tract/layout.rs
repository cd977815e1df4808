//! Channel-last layout for tract: a pass over the decluttered graph that
//! moves every 2-D convolution, and the 1x1 convolutions tract has turned into
//! matrix products, from NCHW to NHWC before tract picks its kernels.
//!
//! Why: an ONNX model is NCHW, and for a batch of frames tract runs each 1x1
//! convolution as a matrix product over `N*H*W` that needs the channel axis
//! moved in and out (a transpose before and after every product), and its
//! NCHW depthwise convolution runs near 1-2 GFLOP/s on x86. Channel-last, the
//! 1x1 convolutions are plain products with bias, clip and residual fused,
//! and the depthwise ones run tract's channel-inner loop (docs/encoder.md has
//! the profile). tract makes this move by itself only for depthwise
//! convolutions on CPUs where it has a channel-last depthwise kernel (arm64,
//! wasm); this pass asks for it everywhere, through tract's own axis-change
//! propagation, so the graph computes the same function (the same bits, up to
//! the order of a final mean).
//!
//! The pass never makes a model fail: a change tract cannot propagate is
//! skipped, and an error restores the graph as it was.

use std::collections::HashSet;
use tract_onnx::prelude::*;
use tract_onnx::tract_core::internal::{AxisChange, AxisOp, InOut, TypedModelPatch};
use tract_onnx::tract_core::ops::cnn::Conv;
use tract_onnx::tract_core::ops::einsum::EinSum;
use tract_onnx::tract_core::ops::nn::DataFormat;
use tract_onnx::tract_core::optim::change_axes::change_axes;

/// Moves what it can to channel-last; returns how many changes it applied.
pub fn channel_last(model: &mut TypedModel) -> usize {
    let mut work = model.clone();
    match apply_all(&mut work) {
        Ok(applied) => {
            *model = work;
            applied
        }
        Err(_) => 0,
    }
}

fn apply_all(model: &mut TypedModel) -> TractResult<usize> {
    let mut applied = 0;
    let mut paired: HashSet<String> = HashSet::new();
    // Each applied change fixes at least one node for good; the bound only
    // guards against a propagation that would undo an earlier one.
    for _ in 0..model.nodes().len() {
        if !apply_one(model, &mut paired)? {
            break;
        }
        applied += 1;
    }
    Ok(applied)
}

/// Applies the first wanted change that propagates; false when none does.
fn apply_one(model: &mut TypedModel, paired: &mut HashSet<String>) -> TractResult<bool> {
    for id in model.eval_order()? {
        let Some(change) = wanted(model, id)? else {
            continue;
        };
        if let Some(patch) = propagate(model, &change)? {
            patch.apply(model)?;
            return Ok(true);
        }
        let node = model.node(id);
        if node.op_is::<Conv>() && paired.insert(node.name.clone()) {
            if let Some(moved) = through_pair(model, id, &change)? {
                *model = moved;
                return Ok(true);
            }
        }
    }
    Ok(false)
}

/// The axis change that would put node `id`'s activation channel-last.
fn wanted(model: &TypedModel, id: usize) -> TractResult<Option<AxisChange>> {
    let node = model.node(id);
    if let Some(conv) = node.op_as::<Conv>() {
        let Some(&input) = node.inputs.first() else {
            return Ok(None);
        };
        let rank = model.outlet_fact(input)?.rank();
        let nchw = conv.pool_spec.data_format == DataFormat::NCHW && rank == 4;
        let op = AxisOp::Move(1, rank.saturating_sub(1));
        return Ok(nchw.then_some(AxisChange { outlet: input, op }));
    }
    let Some(einsum) = node.op_as::<EinSum>() else {
        return Ok(None);
    };
    let weights_const = match node.inputs.as_slice() {
        [data, weights] => {
            model.outlet_fact(*data)?.rank() == 4 && model.outlet_fact(*weights)?.konst.is_some()
        }
        _ => false,
    };
    let rank = node.outputs.first().map_or(0, |o| o.fact.rank());
    if !weights_const || rank < 4 {
        return Ok(None);
    }
    // The output channel: the output axis that only the weights carry.
    let channel = (0..rank).find(|&p| {
        einsum
            .axes
            .axis((InOut::Out(0), p))
            .is_ok_and(|a| a.inputs[0].is_empty() && !a.inputs[1].is_empty())
    });
    Ok(channel.filter(|&c| c + 1 != rank).map(|c| AxisChange {
        outlet: OutletId::new(id, 0),
        op: AxisOp::Move(c, rank - 1),
    }))
}

/// tract's propagation of `change` through the graph, as a patch, if every
/// node it reaches accepts it (model inputs and outputs never change).
fn propagate(model: &TypedModel, change: &AxisChange) -> TractResult<Option<TypedModelPatch>> {
    let mut locked = model.output_outlets()?.to_vec();
    locked.extend(model.input_outlets()?.iter());
    let mut explored = HashSet::new();
    Ok(change_axes(model, change, &locked, &[], &mut explored)?.map(|(patch, _)| patch))
}

/// A convolution whose input cannot move (it comes straight from a model
/// input): a copy of the model with a transpose pair in front of it, which
/// absorbs the change on the input side. `None`, and no copy kept, when the
/// change still does not propagate downstream.
fn through_pair(
    model: &TypedModel,
    id: usize,
    change: &AxisChange,
) -> TractResult<Option<TypedModel>> {
    let AxisOp::Move(from, to) = change.op else {
        return Ok(None);
    };
    let mut moved = model.clone();
    let node = model.node(id);
    let mut patch = TypedModelPatch::default();
    let tapped = patch.tap_model(model, change.outlet)?;
    let there = patch.wire_node(
        format!("{}.to_nhwc", node.name),
        AxisOp::Move(from, to),
        &[tapped],
    )?;
    let back = patch.wire_node(
        format!("{}.to_nchw", node.name),
        AxisOp::Move(to, from),
        &there,
    )?;
    let mut inputs = back;
    for input in node.inputs.iter().skip(1) {
        inputs.push(patch.tap_model(model, *input)?);
    }
    let conv = patch.wire_node(&node.name, node.op.clone(), &inputs)?;
    patch.shunt_outside(model, OutletId::new(id, 0), conv[0])?;
    patch.obliterate(id)?;
    patch.apply(&mut moved)?;
    let Some(&pair_out) = moved.node_by_name(&node.name)?.inputs.first() else {
        return Ok(None);
    };
    let retry = AxisChange {
        outlet: pair_out,
        op: change.op.clone(),
    };
    match propagate(&moved, &retry)? {
        Some(patch) => {
            patch.apply(&mut moved)?;
            Ok(Some(moved))
        }
        None => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 3-D input through a 3x3 conv, a ReLU-free 1x1 conv and a mean: the
    /// pass moves both convolutions and leaves the values alone.
    fn tiny_cnn() -> TractResult<TypedModel> {
        let mut m = TypedModel::default();
        let x = m.add_source("x", f32::fact([2, 4, 6, 5]))?;
        let conv = |m: &mut TypedModel, name: &str, x: OutletId, k: usize, ci: usize, co: usize| {
            let w: Vec<f32> = (0..co * ci * k * k)
                .map(|i| ((i * 37) % 11) as f32 / 11.0 - 0.5)
                .collect();
            let w = m.add_const(
                format!("{name}.w"),
                Tensor::from_shape(&[co, ci, k, k], &w)?,
            )?;
            let b = m.add_const(
                format!("{name}.b"),
                Tensor::from_shape(&[co], &vec![0.1f32; co])?,
            )?;
            let pool = tract_onnx::tract_core::ops::cnn::PoolSpec {
                data_format: DataFormat::NCHW,
                kernel_shape: tvec![k, k],
                padding: tract_onnx::tract_core::ops::cnn::PaddingSpec::Explicit(
                    tvec![k / 2, k / 2],
                    tvec![k / 2, k / 2],
                ),
                dilations: None,
                strides: None,
                input_channels: ci,
                output_channels: co,
            };
            let op = Conv {
                pool_spec: pool,
                kernel_fmt: tract_onnx::tract_core::ops::cnn::KernelFormat::OIHW,
                group: 1,
                q_params: None,
            };
            Ok::<_, TractError>(m.wire_node(name, op, &[x, w, b])?[0])
        };
        let a = conv(&mut m, "a", x, 3, 4, 8)?;
        let b = conv(&mut m, "b", a, 1, 8, 3)?;
        m.select_output_outlets(&[b])?;
        m.into_decluttered()
    }

    fn run(m: TypedModel, x: &Tensor) -> TractResult<Tensor> {
        let out = m
            .into_optimized()?
            .into_runnable()?
            .run(tvec![x.clone().into()])?;
        Ok(out[0].clone().into_tensor())
    }

    #[test]
    fn moves_convolutions_to_channel_last_without_changing_values() -> TractResult<()> {
        let plain = tiny_cnn()?;
        let mut moved = plain.clone();
        assert!(channel_last(&mut moved) >= 1);
        let formats: Vec<DataFormat> = (moved.nodes().iter())
            .filter_map(|n| n.op_as::<Conv>().map(|c| c.pool_spec.data_format))
            .collect();
        assert!(
            formats.iter().all(|f| *f == DataFormat::NHWC),
            "{formats:?}"
        );
        let x: Vec<f32> = (0..2 * 4 * 6 * 5)
            .map(|i| ((i * 13) % 17) as f32 / 17.0)
            .collect();
        let x = Tensor::from_shape(&[2, 4, 6, 5], &x)?;
        let (a, b) = (run(plain, &x)?, run(moved, &x)?);
        assert_eq!(a.shape(), b.shape());
        let (a, b) = (
            a.to_plain_array_view::<f32>()?,
            b.to_plain_array_view::<f32>()?,
        );
        let diff = a
            .iter()
            .zip(b)
            .map(|(p, q)| (p - q).abs())
            .fold(0f32, f32::max);
        assert!(diff < 1e-6, "channel-last changed the output by {diff}");
        Ok(())
    }
}
