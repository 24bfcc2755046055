//! `x W^T` by a frozen weight for training: candle's matmul backward always
//! computes the gradient of both operands, which for frozen base weights
//! doubles the work of the backward pass and allocates a weight-sized
//! gradient per layer. This custom op computes the same product on the CPU
//! and, backwards, only the input's gradient `grad W`.

use candle_core::{CpuStorage, CustomOp1, DType, Device, Layout, Shape, Tensor};

struct FrozenMatmul {
    /// The weight, (out, in).
    weight: Tensor,
}

impl CustomOp1 for FrozenMatmul {
    fn name(&self) -> &'static str {
        "frozen-linear"
    }

    fn cpu_fwd(
        &self,
        storage: &CpuStorage,
        layout: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let data = storage.as_slice::<f32>()?;
        let (start, end) = layout
            .contiguous_offsets()
            .ok_or_else(|| candle_core::Error::Msg("frozen-linear: strided input".into()))?;
        let x = Tensor::from_slice(&data[start..end], layout.shape(), &Device::Cpu)?;
        let y = x.broadcast_matmul(&self.weight.t()?)?;
        let shape = y.shape().clone();
        Ok((CpuStorage::F32(y.flatten_all()?.to_vec1::<f32>()?), shape))
    }

    fn bwd(
        &self,
        _arg: &Tensor,
        _res: &Tensor,
        grad_res: &Tensor,
    ) -> candle_core::Result<Option<Tensor>> {
        Ok(Some(grad_res.broadcast_matmul(&self.weight)?))
    }
}

/// Whether [`frozen_matmul`] applies: a CPU f32 input on a backprop graph and
/// a weight that is not itself being trained.
pub fn use_frozen(x: &Tensor, weight: &Tensor) -> bool {
    x.track_op()
        && !weight.track_op()
        && x.device().is_cpu()
        && x.dtype() == DType::F32
        && weight.dtype() == DType::F32
}

/// `x W^T` for `x` (..., in) and a frozen `weight` (out, in), differentiable
/// with respect to `x` only (see [`use_frozen`] for when it may be used).
pub fn frozen_matmul(x: &Tensor, weight: &Tensor) -> candle_core::Result<Tensor> {
    x.contiguous()?.apply_op1(FrozenMatmul {
        weight: weight.clone(),
    })
}
