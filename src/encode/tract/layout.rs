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
//! A single image (the frame stage's one new frame) matters as much as a
//! batch: tract drops a batch axis of 1 while decluttering, leaving CHW
//! convolutions and rank-3 products, which the pass moves to HWC alike (left
//! channel-first, one frame cost 1.8x its share of a batch of two).
//!
//! The pass never makes a model fail: a change tract cannot propagate is
//! skipped, and an error restores the graph as it was.

use std::collections::HashSet;
use tract_onnx::prelude::*;
use tract_onnx::tract_core::internal::{AxisChange, AxisOp, InOut, TypedModelPatch};
use tract_onnx::tract_core::ops::cnn::Conv;
use tract_onnx::tract_core::ops::einsum::EinSum;
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
        // A 2-D convolution, channel first: NCHW, or CHW once tract has
        // dropped a batch axis of 1.
        let format = conv.pool_spec.data_format;
        let channel = usize::from(format.has_n());
        let image = !format.c_is_last() && rank == channel + 3;
        let op = AxisOp::Move(channel, rank.saturating_sub(1));
        return Ok(image.then_some(AxisChange { outlet: input, op }));
    }
    let Some(einsum) = node.op_as::<EinSum>() else {
        return Ok(None);
    };
    let (weights_const, data_rank) = match node.inputs.as_slice() {
        [data, weights] => (
            model.outlet_fact(*weights)?.konst.is_some(),
            model.outlet_fact(*data)?.rank(),
        ),
        _ => (false, 0),
    };
    let rank = node.outputs.first().map_or(0, |o| o.fact.rank());
    if !weights_const || !(3..=4).contains(&data_rank) || rank != data_rank {
        return Ok(None);
    }
    // The output channel: the output axis that only the weights carry.
    let channel = (0..rank).find(|&p| {
        einsum
            .axes
            .axis((InOut::Out(0), p))
            .is_ok_and(|a| a.inputs[0].is_empty() && !a.inputs[1].is_empty())
    });
    // The product of a 1x1 convolution over an image: NCHW (channel at 1), or
    // CHW without a batch axis (channel at 0). A rank-3 product with its
    // channel at 1 is a 1-D convolution over a batch (N, C, L): left alone.
    let image = |c: usize| c + 1 != rank && (rank == 4 || c == 0);
    Ok(channel.filter(|&c| image(c)).map(|c| AxisChange {
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
    use tract_onnx::tract_core::ops::cnn::{KernelFormat, PaddingSpec, PoolSpec};
    use tract_onnx::tract_core::ops::nn::DataFormat;

    /// One NCHW convolution layer: `k`x`k`, `ci` -> `co` channels, `group` groups.
    struct Layer {
        k: usize,
        ci: usize,
        co: usize,
        group: usize,
    }

    /// A batch of `n` 4-channel 6x5 images through a 3x3 conv, a 1x1 conv, a
    /// 3x3 depthwise conv and a 1x1 conv: the shape of a MobileNet block.
    fn tiny_cnn(n: usize) -> TractResult<TypedModel> {
        let mut m = TypedModel::default();
        let mut x = m.add_source("x", f32::fact([n, 4, 6, 5]))?;
        let layers = [
            Layer {
                k: 3,
                ci: 4,
                co: 8,
                group: 1,
            },
            Layer {
                k: 1,
                ci: 8,
                co: 8,
                group: 1,
            },
            Layer {
                k: 3,
                ci: 8,
                co: 8,
                group: 8,
            },
            Layer {
                k: 1,
                ci: 8,
                co: 3,
                group: 1,
            },
        ];
        for (i, l) in layers.iter().enumerate() {
            let name = format!("conv{i}");
            let per_group = l.ci / l.group;
            let w: Vec<f32> = (0..l.co * per_group * l.k * l.k)
                .map(|j| ((j * 37 + i) % 11) as f32 / 11.0 - 0.5)
                .collect();
            let w = Tensor::from_shape(&[l.co, per_group, l.k, l.k], &w)?;
            let w = m.add_const(format!("{name}.w"), w)?;
            let b = Tensor::from_shape(&[l.co], &vec![0.1f32; l.co])?;
            let b = m.add_const(format!("{name}.b"), b)?;
            let pad = tvec![l.k / 2, l.k / 2];
            let pool_spec = PoolSpec {
                data_format: DataFormat::NCHW,
                kernel_shape: tvec![l.k, l.k],
                padding: PaddingSpec::Explicit(pad.clone(), pad),
                dilations: None,
                strides: None,
                input_channels: l.ci,
                output_channels: l.co,
            };
            let op = Conv {
                pool_spec,
                kernel_fmt: KernelFormat::OIHW,
                group: l.group,
                q_params: None,
            };
            x = m.wire_node(name, op, &[x, w, b])?[0];
        }
        m.select_output_outlets(&[x])?;
        m.into_decluttered()
    }

    fn run(m: TypedModel, x: &Tensor) -> TractResult<Tensor> {
        let out = m
            .into_optimized()?
            .into_runnable()?
            .run(tvec![x.clone().into()])?;
        Ok(out[0].clone().into_tensor())
    }

    /// Every convolution ends channel-last, the products too, and the values
    /// stay: for a batch, and for a single image, where tract drops the batch
    /// axis while decluttering and the convolutions it leaves are CHW.
    #[test]
    fn moves_convolutions_to_channel_last_without_changing_values() -> TractResult<()> {
        for n in [2, 1] {
            let plain = tiny_cnn(n)?;
            let mut moved = plain.clone();
            assert!(channel_last(&mut moved) >= 1, "batch {n}: nothing moved");
            let formats: Vec<DataFormat> = (moved.nodes().iter())
                .filter_map(|n| n.op_as::<Conv>().map(|c| c.pool_spec.data_format))
                .collect();
            assert_eq!(formats.len(), 2, "batch {n}: {formats:?}");
            assert!(
                formats.iter().all(DataFormat::c_is_last),
                "batch {n}: {formats:?}"
            );
            let len = n * 4 * 6 * 5;
            let x: Vec<f32> = (0..len).map(|i| ((i * 13) % 17) as f32 / 17.0).collect();
            let x = Tensor::from_shape(&[n, 4, 6, 5], &x)?;
            let (a, b) = (run(plain, &x)?, run(moved, &x)?);
            assert_eq!(a.shape(), b.shape());
            let (a, b) = (
                a.to_plain_array_view::<f32>()?,
                b.to_plain_array_view::<f32>()?,
            );
            let diff = (a.iter().zip(b))
                .map(|(p, q)| (p - q).abs())
                .fold(0f32, f32::max);
            assert!(
                diff < 1e-5,
                "batch {n}: channel-last changed the output by {diff}"
            );
        }
        Ok(())
    }
}
