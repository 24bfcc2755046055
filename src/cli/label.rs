//! `adstudio label`: a headless labelling driver. It labels through the
//! same [`LabelSession`] command path as the studio's labelling screen,
//! with answers from a file, stdin or a seeded random labeler.
//!
//! Output (stdout, flushed after every line): a first `labelling as ...`
//! line, `COMMITTED <id>` after each label's COMMIT returned,
//! `RETRACTED <id>` after each undo's COMMIT returned, `DONE ...` when the
//! answers outlast the pairs, and a final `progress: ...` line.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Write};
use std::path::PathBuf;

use anyhow::Context as _;
use clap::Args;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::paths::DataDir;
use crate::store::{ImageStore, ProductId, Store};
use crate::studio::labelling::{
    Answer, GroupKey, LabelError, LabelProgress, LabelSession, PairCounts, Scope,
};

/// Keys when `--count` is not given with `--answers random`.
const DEFAULT_RANDOM_COUNT: u64 = 100;

/// Arguments of `adstudio label`.
#[derive(Debug, Clone, Args)]
pub struct LabelArgs {
    /// The labeler's name, stored with every label.
    #[arg(long)]
    pub labeler: String,
    /// Only label pairs of this stored product (default: every product
    /// and imported creative group).
    #[arg(long)]
    pub product: Option<i64>,
    /// Where answers come from: `random`, a file with one key per line, or
    /// `-` for stdin. Keys: a/left, l/right, t (tie), c (can't tell),
    /// s (skip), u (undo); blank lines and `#` comments are ignored.
    #[arg(long, value_parser = parse_source)]
    pub answers: AnswerSource,
    /// Seed of the pair choice and of the random answers.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Stop after this many keys (default: 100 random keys, or every line).
    #[arg(long)]
    pub count: Option<u64>,
}

/// Where `adstudio label` reads its answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AnswerSource {
    /// A seeded random labeler (with an occasional undo).
    Random,
    /// One key per line on stdin.
    Stdin,
    /// One key per line in this file.
    File(PathBuf),
}

fn parse_source(text: &str) -> Result<AnswerSource, String> {
    Ok(match text {
        "" => return Err("give `random`, `-` (stdin) or a file of keys".into()),
        "random" => AnswerSource::Random,
        "-" => AnswerSource::Stdin,
        path => AnswerSource::File(PathBuf::from(path)),
    })
}

/// One key of the driver.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    /// Answer the shown pair.
    Answer(Answer),
    /// Retract the last label.
    Undo,
}

/// Parses one line of an answers file: `Ok(None)` for a blank line or a
/// `#` comment.
pub fn parse_key(line: &str) -> Result<Option<Key>, String> {
    let text = line.trim().to_ascii_lowercase();
    Ok(Some(match text.as_str() {
        "" => return Ok(None),
        t if t.starts_with('#') => return Ok(None),
        "a" | "left" => Key::Answer(Answer::Left),
        "l" | "right" => Key::Answer(Answer::Right),
        "t" | "tie" => Key::Answer(Answer::Tie),
        "c" | "cant_tell" | "cant-tell" => Key::Answer(Answer::CantTell),
        "s" | "skip" => Key::Answer(Answer::Skip),
        "u" | "undo" => Key::Undo,
        other => {
            return Err(format!(
                "unknown key {other:?}: use a/left, l/right, t, c, s or u"
            ))
        }
    }))
}

/// The keys of a run.
enum Keys {
    Random(Box<StdRng>),
    Lines {
        reader: Box<dyn BufRead>,
        line: usize,
    },
}

impl Keys {
    fn open(args: &LabelArgs) -> anyhow::Result<Keys> {
        let reader: Box<dyn BufRead> = match &args.answers {
            AnswerSource::Random => {
                return Ok(Keys::Random(Box::new(StdRng::seed_from_u64(
                    args.seed ^ 0x1abe1,
                ))))
            }
            AnswerSource::Stdin => Box::new(BufReader::new(io::stdin())),
            AnswerSource::File(path) => {
                Box::new(BufReader::new(File::open(path).with_context(|| {
                    format!("opening the answers file {}", path.display())
                })?))
            }
        };
        Ok(Keys::Lines { reader, line: 0 })
    }

    /// The next key, `None` at the end of the input.
    fn next(&mut self, session: &LabelSession) -> anyhow::Result<Option<Key>> {
        match self {
            Keys::Random(rng) => {
                let shown = session.current().is_some();
                let labelled = session.progress().overall.labelled > 0;
                Ok(Some(random_key(rng, shown, labelled)))
            }
            Keys::Lines { reader, line } => loop {
                let mut text = String::new();
                *line += 1;
                if reader
                    .read_line(&mut text)
                    .with_context(|| format!("reading answer line {line}"))?
                    == 0
                {
                    return Ok(None);
                }
                match parse_key(&text) {
                    Ok(Some(key)) => return Ok(Some(key)),
                    Ok(None) => continue,
                    Err(e) => anyhow::bail!("answer line {line}: {e}"),
                }
            },
        }
    }
}

/// A random labeler: an undo one time in ten when there is a label to
/// undo (always when no pair is shown, so a finished pool keeps cycling),
/// else an answer, mostly left or right.
fn random_key(rng: &mut StdRng, pair_shown: bool, can_undo: bool) -> Key {
    if !pair_shown {
        return Key::Undo;
    }
    match rng.random_range(0..100) {
        0..=9 if can_undo => Key::Undo,
        0..=9 => Key::Answer(Answer::Skip),
        10..=44 => Key::Answer(Answer::Left),
        45..=79 => Key::Answer(Answer::Right),
        80..=87 => Key::Answer(Answer::Tie),
        88..=94 => Key::Answer(Answer::CantTell),
        _ => Key::Answer(Answer::Skip),
    }
}

/// What a run did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LabelRunSummary {
    /// Labels committed.
    pub committed: usize,
    /// Labels retracted.
    pub retracted: usize,
}

/// Runs `adstudio label` on the store of `data_dir`.
pub fn run_label(args: &LabelArgs, data_dir: Option<PathBuf>) -> anyhow::Result<LabelRunSummary> {
    let data_dir = DataDir::resolve(data_dir).context("finding the data directory")?;
    let location = data_dir.store_location();
    let store = Store::open_location(&location).with_context(|| format!("opening {location}"))?;
    let images = ImageStore::new(data_dir.images_dir());
    let scope = match args.product {
        Some(id) => Scope::Only(GroupKey::Product(ProductId(id))),
        None => Scope::All,
    };
    let mut session = LabelSession::open(&store, &images, &args.labeler, &scope, args.seed)
        .context("opening the labelling session")?;
    let mut keys = Keys::open(args)?;
    let limit = match (&args.answers, args.count) {
        (_, Some(n)) => Some(n),
        (AnswerSource::Random, None) => Some(DEFAULT_RANDOM_COUNT),
        _ => None,
    };
    let mut out = io::stdout().lock();
    let overall = session.progress().overall;
    emit(
        &mut out,
        &format!(
            "labelling as {}: {} of {} pairs labelled",
            session.labeler(),
            overall.labelled,
            overall.total()
        ),
    )?;
    let summary = drive(&store, &mut session, &mut keys, limit, &mut out)?;
    emit(&mut out, &progress_line(&session.progress()))?;
    Ok(summary)
}

/// Runs keys through the session until the input, the limit or (for
/// random keys) the work runs out.
fn drive(
    store: &Store,
    session: &mut LabelSession,
    keys: &mut Keys,
    limit: Option<u64>,
    out: &mut dyn Write,
) -> anyhow::Result<LabelRunSummary> {
    let mut summary = LabelRunSummary::default();
    let mut used = 0u64;
    while limit.is_none_or(|n| used < n) {
        let Some(key) = keys.next(session)? else {
            break;
        };
        used += 1;
        match key {
            Key::Answer(_) if session.current().is_none() => {
                emit(out, "DONE no pair left to label")?;
                break;
            }
            Key::Answer(answer) => match session.answer(store, answer) {
                Ok(committed) => {
                    emit(out, &format!("COMMITTED {}", committed.id))?;
                    summary.committed += 1;
                }
                Err(e @ LabelError::AlreadyLabelled { .. }) => log::warn!("{e}"),
                Err(e) => return Err(e).context("recording a label"),
            },
            Key::Undo => match session.undo(store).context("undoing the last label")? {
                Some(undone) => {
                    emit(out, &format!("RETRACTED {}", undone.id))?;
                    summary.retracted += 1;
                }
                None if matches!(*keys, Keys::Random(_)) && session.current().is_none() => {
                    emit(out, "DONE nothing to label or undo")?;
                    break;
                }
                None => log::warn!("nothing to undo"),
            },
        }
    }
    Ok(summary)
}

/// Writes one line and flushes it.
fn emit(out: &mut dyn Write, line: &str) -> anyhow::Result<()> {
    writeln!(out, "{line}")
        .and_then(|()| out.flush())
        .context("writing to stdout")
}

fn counts(c: &PairCounts) -> String {
    format!("{} labelled, {} remaining", c.labelled, c.remaining)
}

/// `progress: overall L labelled, R remaining; product 3: ...`.
pub fn progress_line(progress: &LabelProgress) -> String {
    let mut line = format!("progress: overall {}", counts(&progress.overall));
    if let Some((key, group)) = &progress.group {
        line.push_str(&format!("; {key}: {}", counts(group)));
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_parse_case_and_space_insensitively() {
        assert_eq!(parse_key(" A \n"), Ok(Some(Key::Answer(Answer::Left))));
        assert_eq!(parse_key("left"), Ok(Some(Key::Answer(Answer::Left))));
        assert_eq!(parse_key("L"), Ok(Some(Key::Answer(Answer::Right))));
        assert_eq!(parse_key("right"), Ok(Some(Key::Answer(Answer::Right))));
        assert_eq!(parse_key("t"), Ok(Some(Key::Answer(Answer::Tie))));
        assert_eq!(parse_key("c"), Ok(Some(Key::Answer(Answer::CantTell))));
        assert_eq!(parse_key("s"), Ok(Some(Key::Answer(Answer::Skip))));
        assert_eq!(parse_key("u"), Ok(Some(Key::Undo)));
        assert_eq!(parse_key("   "), Ok(None));
        assert_eq!(parse_key("# a comment"), Ok(None));
        assert!(parse_key("x").is_err_and(|e| e.contains("\"x\"")));
    }

    #[test]
    fn random_keys_undo_when_nothing_is_shown_and_cover_every_answer() {
        let mut rng = StdRng::seed_from_u64(1);
        assert_eq!(random_key(&mut rng, false, false), Key::Undo);
        let keys: Vec<Key> = (0..500).map(|_| random_key(&mut rng, true, true)).collect();
        for answer in Answer::ALL {
            assert!(keys.contains(&Key::Answer(answer)), "{answer:?}");
        }
        assert!(keys.contains(&Key::Undo));
        let no_undo = (0..500).all(|_| random_key(&mut rng, true, false) != Key::Undo);
        assert!(
            no_undo,
            "nothing to undo: never an undo while a pair is shown"
        );
    }
}
