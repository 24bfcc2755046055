//! The models a queued product job needs, and whether a worker has them:
//! the machine that queues a batch records the diffusion models it would
//! render with (located, not loaded); a worker whose models differ gives
//! the job back to the queue with the reason instead of rendering it with
//! other models.

use std::path::PathBuf;

use crate::render::ModelIds;

use super::super::{display_name, ModelRole};

/// The diffusion models `locate` finds, as a job records them; the error
/// says why none can be named (no SD 1.5 checkpoint).
pub fn located_model_ids(
    locate: impl Fn(ModelRole) -> Result<PathBuf, String>,
) -> Result<ModelIds, String> {
    let checkpoint = locate(ModelRole::Sd15)?;
    Ok(ModelIds {
        checkpoint: display_name(&checkpoint),
        controlnet: locate(ModelRole::ControlnetCanny)
            .ok()
            .map(|p| display_name(&p)),
    })
}

/// Why `worker`, whose models are `here`, cannot run a job that needs
/// `needs`; `None` when it can (the job names no models, or the same).
pub fn model_mismatch(
    needs: Option<&ModelIds>,
    here: &Result<ModelIds, String>,
    worker: &str,
) -> Option<String> {
    let needs = needs?;
    let want = describe(needs);
    match here {
        Ok(have) if have == needs => None,
        Ok(have) => Some(format!(
            "worker {worker} has {}, the job needs {want}",
            describe(have)
        )),
        Err(e) => Some(format!("worker {worker} cannot run {want}: {e}")),
    }
}

fn describe(ids: &ModelIds) -> String {
    match &ids.controlnet {
        Some(cn) => format!("checkpoint {} with ControlNet {cn}", ids.checkpoint),
        None => format!("checkpoint {} without a ControlNet", ids.checkpoint),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn ids(checkpoint: &str, controlnet: Option<&str>) -> ModelIds {
        ModelIds {
            checkpoint: checkpoint.into(),
            controlnet: controlnet.map(Into::into),
        }
    }

    #[test]
    fn names_come_from_the_located_folders() {
        let found = located_model_ids(|role| match role {
            ModelRole::Sd15 => Ok(PathBuf::from("/m/sd15-tiny")),
            _ => Err("none".into()),
        })
        .unwrap();
        assert_eq!(found, ids("sd15-tiny", None));
        let missing = located_model_ids(|_| Err("no SD 1.5 checkpoint".into()));
        assert_eq!(missing.unwrap_err(), "no SD 1.5 checkpoint");
    }

    #[test]
    fn a_worker_with_other_models_says_which() {
        let job = ids("sd15-a", Some("canny-a"));
        assert_eq!(model_mismatch(None, &Ok(ids("x", None)), "w"), None);
        assert_eq!(model_mismatch(Some(&job), &Ok(job.clone()), "w"), None);
        let why = model_mismatch(Some(&job), &Ok(ids("sd15-b", Some("canny-a"))), "w2").unwrap();
        assert_eq!(
            why,
            "worker w2 has checkpoint sd15-b with ControlNet canny-a, \
             the job needs checkpoint sd15-a with ControlNet canny-a"
        );
        let why = model_mismatch(Some(&job), &Err("no SD 1.5 checkpoint".into()), "w3").unwrap();
        assert!(
            why.contains("w3") && why.contains("sd15-a") && why.contains("no SD 1.5"),
            "{why}"
        );
    }
}
