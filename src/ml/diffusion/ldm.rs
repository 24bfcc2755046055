//! Key names of single-file SD 1.x checkpoints (the original LDM layout that
//! model sites distribute) mapped from the diffusers names our modules ask
//! for. Used through [`candle_nn::VarBuilder::rename_f`], so the modules stay
//! the same and a missing tensor error names the LDM key.
//!
//! Prefixes inside a single file: `model.diffusion_model.` (UNet),
//! `first_stage_model.` (VAE), `cond_stage_model.transformer.` (CLIP text
//! encoder, already in Hugging Face names). ControlNet files use
//! `control_model.` or no prefix.

use super::config::Level;

/// Prefix of the UNet in a single-file checkpoint.
pub const UNET_PREFIX: &str = "model.diffusion_model.";
/// Prefix of the VAE in a single-file checkpoint.
pub const VAE_PREFIX: &str = "first_stage_model.";
/// Prefix of the CLIP text encoder in a single-file checkpoint.
pub const CLIP_PREFIX: &str = "cond_stage_model.transformer.";

/// What the UNet key mapping needs to know about the architecture.
#[derive(Debug, Clone)]
pub struct UNetLayout {
    /// Resnets per down block.
    pub layers_per_block: usize,
    /// Whether each level (down order) has cross-attention.
    pub cross_attention: Vec<bool>,
}

impl UNetLayout {
    /// The layout of a model with these levels.
    pub fn new(layers_per_block: usize, levels: &[Level]) -> Self {
        Self {
            layers_per_block,
            cross_attention: levels.iter().map(|l| l.cross_attention).collect(),
        }
    }
}

fn split_index(rest: &str) -> Option<(usize, &str)> {
    let (idx, tail) = rest.split_once('.')?;
    Some((idx.parse().ok()?, tail))
}

/// Resnet member names: diffusers -> LDM UNet.
fn unet_resnet(rest: &str) -> String {
    const MAP: [(&str, &str); 6] = [
        ("norm1.", "in_layers.0."),
        ("conv1.", "in_layers.2."),
        ("time_emb_proj.", "emb_layers.1."),
        ("norm2.", "out_layers.0."),
        ("conv2.", "out_layers.3."),
        ("conv_shortcut.", "skip_connection."),
    ];
    for (d, l) in MAP {
        if let Some(tail) = rest.strip_prefix(d) {
            return format!("{l}{tail}");
        }
    }
    rest.to_owned()
}

/// Maps the shared down path + mid block + time embedding (UNet and
/// ControlNet). `None` if the name is not part of it.
fn down_path(name: &str, layout: &UNetLayout) -> Option<String> {
    let l1 = layout.layers_per_block + 1;
    if let Some(rest) = name.strip_prefix("conv_in.") {
        return Some(format!("input_blocks.0.0.{rest}"));
    }
    if let Some(rest) = name.strip_prefix("time_embedding.linear_1.") {
        return Some(format!("time_embed.0.{rest}"));
    }
    if let Some(rest) = name.strip_prefix("time_embedding.linear_2.") {
        return Some(format!("time_embed.2.{rest}"));
    }
    if let Some(rest) = name.strip_prefix("down_blocks.") {
        let (i, rest) = split_index(rest)?;
        if let Some(rest) = rest.strip_prefix("resnets.") {
            let (j, rest) = split_index(rest)?;
            return Some(format!(
                "input_blocks.{}.0.{}",
                1 + i * l1 + j,
                unet_resnet(rest)
            ));
        }
        if let Some(rest) = rest.strip_prefix("attentions.") {
            let (j, rest) = split_index(rest)?;
            return Some(format!("input_blocks.{}.1.{rest}", 1 + i * l1 + j));
        }
        if let Some(rest) = rest.strip_prefix("downsamplers.0.conv.") {
            return Some(format!("input_blocks.{}.0.op.{rest}", (i + 1) * l1));
        }
        return None;
    }
    if let Some(rest) = name.strip_prefix("mid_block.") {
        if let Some(rest) = rest.strip_prefix("resnets.") {
            let (j, rest) = split_index(rest)?;
            return Some(format!("middle_block.{}.{}", 2 * j, unet_resnet(rest)));
        }
        if let Some(rest) = rest.strip_prefix("attentions.0.") {
            return Some(format!("middle_block.1.{rest}"));
        }
    }
    None
}

/// LDM name (without prefix) of a diffusers UNet tensor name; unknown names
/// are returned unchanged.
pub fn unet_key(name: &str, layout: &UNetLayout) -> String {
    if let Some(k) = down_path(name, layout) {
        return k;
    }
    let l1 = layout.layers_per_block + 1;
    let n = layout.cross_attention.len();
    if let Some(rest) = name.strip_prefix("conv_norm_out.") {
        return format!("out.0.{rest}");
    }
    if let Some(rest) = name.strip_prefix("conv_out.") {
        return format!("out.2.{rest}");
    }
    if let Some(rest) = name.strip_prefix("up_blocks.") {
        if let Some((i, rest)) = split_index(rest) {
            if let Some((j, rest)) = rest.strip_prefix("resnets.").and_then(split_index) {
                return format!("output_blocks.{}.0.{}", i * l1 + j, unet_resnet(rest));
            }
            if let Some((j, rest)) = rest.strip_prefix("attentions.").and_then(split_index) {
                return format!("output_blocks.{}.1.{rest}", i * l1 + j);
            }
            if let Some(rest) = rest.strip_prefix("upsamplers.0.conv.") {
                let has_attn = i < n && layout.cross_attention[n - 1 - i];
                let slot = if has_attn { 2 } else { 1 };
                return format!("output_blocks.{}.{slot}.conv.{rest}", i * l1 + l1 - 1);
            }
        }
    }
    name.to_owned()
}

/// LDM name of a diffusers ControlNet tensor name (lllyasviel layout, no
/// prefix); `hint_blocks` is the number of convolutions in the
/// conditioning embedding's `blocks` (6 for SD 1.5).
pub fn controlnet_key(name: &str, layout: &UNetLayout, hint_blocks: usize) -> String {
    if let Some(k) = down_path(name, layout) {
        return k;
    }
    if let Some(rest) = name.strip_prefix("controlnet_cond_embedding.") {
        if let Some(tail) = rest.strip_prefix("conv_in.") {
            return format!("input_hint_block.0.{tail}");
        }
        if let Some(tail) = rest.strip_prefix("conv_out.") {
            return format!("input_hint_block.{}.{tail}", 2 * (hint_blocks + 1));
        }
        if let Some((k, tail)) = rest.strip_prefix("blocks.").and_then(split_index) {
            return format!("input_hint_block.{}.{tail}", 2 * (k + 1));
        }
    }
    if let Some((k, tail)) = name
        .strip_prefix("controlnet_down_blocks.")
        .and_then(split_index)
    {
        return format!("zero_convs.{k}.0.{tail}");
    }
    if let Some(tail) = name.strip_prefix("controlnet_mid_block.") {
        return format!("middle_block_out.0.{tail}");
    }
    name.to_owned()
}

/// VAE attention member names: diffusers (either naming) -> LDM.
fn vae_attention(rest: &str) -> String {
    const MAP: [(&str, &str); 9] = [
        ("group_norm.", "norm."),
        ("to_q.", "q."),
        ("query.", "q."),
        ("to_k.", "k."),
        ("key.", "k."),
        ("to_v.", "v."),
        ("value.", "v."),
        ("to_out.0.", "proj_out."),
        ("proj_attn.", "proj_out."),
    ];
    for (d, l) in MAP {
        if let Some(tail) = rest.strip_prefix(d) {
            return format!("{l}{tail}");
        }
    }
    rest.to_owned()
}

fn vae_resnet(rest: &str) -> String {
    match rest.strip_prefix("conv_shortcut.") {
        Some(tail) => format!("nin_shortcut.{tail}"),
        None => rest.to_owned(),
    }
}

fn vae_mid(rest: &str) -> Option<String> {
    if let Some((j, tail)) = rest.strip_prefix("resnets.").and_then(split_index) {
        return Some(format!("mid.block_{}.{}", j + 1, vae_resnet(tail)));
    }
    rest.strip_prefix("attentions.0.")
        .map(|tail| format!("mid.attn_1.{}", vae_attention(tail)))
}

/// LDM name (without prefix) of a diffusers VAE tensor name; `levels` is the
/// number of `block_out_channels`. Unknown names are returned unchanged.
pub fn vae_key(name: &str, levels: usize) -> String {
    for side in ["encoder.", "decoder."] {
        let Some(rest) = name.strip_prefix(side) else {
            continue;
        };
        if let Some(tail) = rest.strip_prefix("conv_norm_out.") {
            return format!("{side}norm_out.{tail}");
        }
        if let Some(k) = rest.strip_prefix("mid_block.").and_then(vae_mid) {
            return format!("{side}{k}");
        }
        if let Some((i, tail)) = rest.strip_prefix("down_blocks.").and_then(split_index) {
            if let Some((j, t)) = tail.strip_prefix("resnets.").and_then(split_index) {
                return format!("{side}down.{i}.block.{j}.{}", vae_resnet(t));
            }
            if let Some(t) = tail.strip_prefix("downsamplers.0.conv.") {
                return format!("{side}down.{i}.downsample.conv.{t}");
            }
        }
        if let Some((i, tail)) = rest.strip_prefix("up_blocks.").and_then(split_index) {
            let ldm_i = levels.saturating_sub(1 + i);
            if let Some((j, t)) = tail.strip_prefix("resnets.").and_then(split_index) {
                return format!("{side}up.{ldm_i}.block.{j}.{}", vae_resnet(t));
            }
            if let Some(t) = tail.strip_prefix("upsamplers.0.conv.") {
                return format!("{side}up.{ldm_i}.upsample.conv.{t}");
            }
        }
    }
    name.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sd15() -> UNetLayout {
        UNetLayout {
            layers_per_block: 2,
            cross_attention: vec![true, true, true, false],
        }
    }

    /// Pairs from the SD 1.5 conversion (diffusers' `convert_from_ckpt`).
    #[test]
    fn sd15_unet_names_match_the_ldm_checkpoint_layout() {
        let l = sd15();
        for (d, ldm) in [
            ("conv_in.weight", "input_blocks.0.0.weight"),
            ("time_embedding.linear_2.bias", "time_embed.2.bias"),
            (
                "down_blocks.0.resnets.1.conv1.weight",
                "input_blocks.2.0.in_layers.2.weight",
            ),
            (
                "down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_q.weight",
                "input_blocks.1.1.transformer_blocks.0.attn1.to_q.weight",
            ),
            (
                "down_blocks.0.downsamplers.0.conv.weight",
                "input_blocks.3.0.op.weight",
            ),
            (
                "down_blocks.1.resnets.0.conv_shortcut.weight",
                "input_blocks.4.0.skip_connection.weight",
            ),
            (
                "down_blocks.3.resnets.1.time_emb_proj.weight",
                "input_blocks.11.0.emb_layers.1.weight",
            ),
            (
                "mid_block.resnets.1.norm2.weight",
                "middle_block.2.out_layers.0.weight",
            ),
            (
                "mid_block.attentions.0.proj_in.weight",
                "middle_block.1.proj_in.weight",
            ),
            (
                "up_blocks.0.resnets.2.conv2.bias",
                "output_blocks.2.0.out_layers.3.bias",
            ),
            (
                "up_blocks.0.upsamplers.0.conv.weight",
                "output_blocks.2.1.conv.weight",
            ),
            (
                "up_blocks.1.attentions.2.proj_out.weight",
                "output_blocks.5.1.proj_out.weight",
            ),
            (
                "up_blocks.1.upsamplers.0.conv.weight",
                "output_blocks.5.2.conv.weight",
            ),
            (
                "up_blocks.3.resnets.0.conv_shortcut.bias",
                "output_blocks.9.0.skip_connection.bias",
            ),
            ("conv_norm_out.weight", "out.0.weight"),
            ("conv_out.bias", "out.2.bias"),
        ] {
            assert_eq!(unet_key(d, &l), ldm, "{d}");
        }
    }

    #[test]
    fn sd15_vae_and_controlnet_names_match_the_ldm_layout() {
        for (d, ldm) in [
            (
                "encoder.down_blocks.1.resnets.0.conv_shortcut.weight",
                "encoder.down.1.block.0.nin_shortcut.weight",
            ),
            (
                "encoder.down_blocks.0.downsamplers.0.conv.bias",
                "encoder.down.0.downsample.conv.bias",
            ),
            (
                "encoder.mid_block.attentions.0.to_q.weight",
                "encoder.mid.attn_1.q.weight",
            ),
            (
                "encoder.mid_block.attentions.0.group_norm.bias",
                "encoder.mid.attn_1.norm.bias",
            ),
            (
                "decoder.mid_block.resnets.1.norm1.weight",
                "decoder.mid.block_2.norm1.weight",
            ),
            (
                "decoder.up_blocks.0.resnets.2.conv2.weight",
                "decoder.up.3.block.2.conv2.weight",
            ),
            (
                "decoder.up_blocks.2.upsamplers.0.conv.weight",
                "decoder.up.1.upsample.conv.weight",
            ),
            ("decoder.conv_norm_out.weight", "decoder.norm_out.weight"),
            ("quant_conv.weight", "quant_conv.weight"),
        ] {
            assert_eq!(vae_key(d, 4), ldm, "{d}");
        }
        let l = sd15();
        for (d, ldm) in [
            (
                "controlnet_cond_embedding.conv_in.weight",
                "input_hint_block.0.weight",
            ),
            (
                "controlnet_cond_embedding.blocks.0.weight",
                "input_hint_block.2.weight",
            ),
            (
                "controlnet_cond_embedding.blocks.5.bias",
                "input_hint_block.12.bias",
            ),
            (
                "controlnet_cond_embedding.conv_out.weight",
                "input_hint_block.14.weight",
            ),
            ("controlnet_down_blocks.11.weight", "zero_convs.11.0.weight"),
            ("controlnet_mid_block.bias", "middle_block_out.0.bias"),
            (
                "down_blocks.2.attentions.1.norm.weight",
                "input_blocks.8.1.norm.weight",
            ),
        ] {
            assert_eq!(controlnet_key(d, &l, 6), ldm, "{d}");
        }
    }
}
