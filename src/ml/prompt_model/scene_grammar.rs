//! Constrained scene plans: the model writes the five plan lines
//! (`Scene`, `Stands on`, `Around it`, `Light`, `Mood`), but each line's
//! phrase must be one of a closed set. The setting comes from a shortlist;
//! the surface and props from the chosen setting's own lists (so they
//! belong together); light and mood from global lists. The model's own
//! probabilities choose among the allowed phrases, token by token (a
//! prefix tree of each line's tokens), so every plan is well formed and
//! coherent while the choice stays the model's (and stays trainable).

use std::collections::HashMap;

use super::constraint::TokenConstraint;
use super::error::{PromptModelError, Result};
use super::scene::SLOT_NAMES;
use super::tokenizer::TextTokenizer;

/// A setting with the surfaces and props that belong in it.
#[derive(Debug, Clone, PartialEq)]
pub struct SceneOption {
    /// Where the scene is ("a sunlit bathroom").
    pub setting: String,
    /// What the product can stand on there.
    pub surfaces: Vec<String>,
    /// Scene dressing around it.
    pub props: Vec<String>,
}

/// The phrases a plan may use.
#[derive(Debug, Clone, PartialEq)]
pub struct SceneChoices {
    /// The allowed settings with their surfaces and props.
    pub options: Vec<SceneOption>,
    /// The allowed light phrases.
    pub lights: Vec<String>,
    /// The allowed mood words.
    pub moods: Vec<String>,
}

/// A prefix tree of token sequences; each complete sequence names a choice.
#[derive(Debug, Clone, Default)]
struct Trie {
    /// Node 0 is the root.
    nodes: Vec<TrieNode>,
}

#[derive(Debug, Clone, Default)]
struct TrieNode {
    children: Vec<(u32, usize)>,
    /// The choice a sequence ending here names.
    choice: Option<usize>,
    /// Every choice in this node's subtree.
    below: Vec<usize>,
}

impl Trie {
    fn new(sequences: &[Vec<u32>]) -> Trie {
        let mut trie = Trie {
            nodes: vec![TrieNode::default()],
        };
        for (choice, seq) in sequences.iter().enumerate() {
            let mut node = 0;
            for &token in seq {
                node = match trie.child(node, token) {
                    Some(next) => next,
                    None => {
                        trie.nodes.push(TrieNode::default());
                        let next = trie.nodes.len() - 1;
                        trie.nodes[node].children.push((token, next));
                        next
                    }
                };
            }
            // A duplicate phrase keeps its first choice.
            trie.nodes[node].choice.get_or_insert(choice);
        }
        // Children are created after their parents: one backward pass
        // gathers each subtree's choices.
        for node in (0..trie.nodes.len()).rev() {
            let mut below: Vec<usize> = trie.nodes[node].choice.into_iter().collect();
            for &(_, child) in &trie.nodes[node].children {
                below.extend_from_slice(&trie.nodes[child].below);
            }
            below.sort_unstable();
            below.dedup();
            trie.nodes[node].below = below;
        }
        trie
    }

    /// The tokens after `node` that still lead to a choice `open` allows.
    fn allowed_where(&self, node: usize, open: impl Fn(usize) -> bool) -> Vec<u32> {
        self.nodes
            .get(node)
            .map(|n| {
                n.children
                    .iter()
                    .filter(|&&(_, child)| self.nodes[child].below.iter().any(|&c| open(c)))
                    .map(|&(t, _)| t)
                    .collect()
            })
            .unwrap_or_default()
    }

    fn child(&self, node: usize, token: u32) -> Option<usize> {
        self.nodes
            .get(node)?
            .children
            .iter()
            .find(|(t, _)| *t == token)
            .map(|&(_, n)| n)
    }

    fn allowed(&self, node: usize) -> Vec<u32> {
        self.nodes
            .get(node)
            .map(|n| n.children.iter().map(|&(t, _)| t).collect())
            .unwrap_or_default()
    }

    fn choice(&self, node: usize) -> Option<usize> {
        self.nodes.get(node).and_then(|n| n.choice)
    }
}

/// The token-level grammar of a constrained plan.
#[derive(Debug, Clone)]
pub struct SceneGrammar {
    settings: Trie,
    /// Per setting: the surface and props trees.
    per_setting: Vec<(Trie, Trie)>,
    lights: Trie,
    moods: Trie,
}

/// The tokens of one plan line, `"{key}: {phrase}\n"`, without BOS;
/// `None` when they do not decode back to the line (a tokenizer that
/// cannot write it, e.g. one with unknown-word tokens).
fn line_tokens(tokenizer: &TextTokenizer, slot: usize, phrase: &str) -> Result<Option<Vec<u32>>> {
    let line = format!("{}: {}\n", SLOT_NAMES[slot], phrase.trim());
    let ids = tokenizer
        .inner()
        .encode(line.as_str(), false)
        .map_err(|e| PromptModelError::Tokenizer(e.to_string()))?
        .get_ids()
        .to_vec();
    Ok((tokenizer.decode(&ids)? == line).then_some(ids))
}

/// The tree of `slot`'s lines; `None` when the tokenizer cannot write one.
fn trie_of(tokenizer: &TextTokenizer, slot: usize, phrases: &[String]) -> Result<Option<Trie>> {
    if phrases.is_empty() {
        return Err(PromptModelError::Input(format!(
            "the scene grammar has no phrase for {:?}",
            SLOT_NAMES[slot]
        )));
    }
    let lines: Option<Vec<Vec<u32>>> = phrases
        .iter()
        .map(|p| line_tokens(tokenizer, slot, p))
        .collect::<Result<Vec<_>>>()?
        .into_iter()
        .collect();
    Ok(lines.map(|l| Trie::new(&l)))
}

impl SceneGrammar {
    /// The grammar of `choices` in `tokenizer`'s tokens; `None` when the
    /// tokenizer cannot write every line exactly (the caller then plans in
    /// free text). Fails when a list is empty.
    pub fn new(tokenizer: &TextTokenizer, choices: &SceneChoices) -> Result<Option<SceneGrammar>> {
        let settings: Vec<String> = choices.options.iter().map(|o| o.setting.clone()).collect();
        let mut per_setting = Vec::with_capacity(choices.options.len());
        for o in &choices.options {
            let surfaces = trie_of(tokenizer, 1, &o.surfaces)?;
            let props = trie_of(tokenizer, 2, &o.props)?;
            match (surfaces, props) {
                (Some(s), Some(p)) => per_setting.push((s, p)),
                _ => return Ok(None),
            }
        }
        let tries = (
            trie_of(tokenizer, 0, &settings)?,
            trie_of(tokenizer, 3, &choices.lights)?,
            trie_of(tokenizer, 4, &choices.moods)?,
        );
        let (Some(settings), Some(lights), Some(moods)) = tries else {
            return Ok(None);
        };
        Ok(Some(SceneGrammar {
            settings,
            per_setting,
            lights,
            moods,
        }))
    }

    /// The tree of `slot`'s line, given the chosen setting.
    fn trie(&self, slot: usize, setting: usize) -> Option<&Trie> {
        match slot {
            0 => Some(&self.settings),
            1 => self.per_setting.get(setting).map(|(s, _)| s),
            2 => self.per_setting.get(setting).map(|(_, p)| p),
            3 => Some(&self.lights),
            4 => Some(&self.moods),
            _ => None,
        }
    }

    /// A constraint for a batch of answers under this grammar.
    pub fn constraint(&self) -> SceneConstraint<'_> {
        SceneConstraint {
            grammar: self,
            rows: HashMap::new(),
            groups: 1,
        }
    }

    /// How many settings the grammar offers.
    pub fn settings(&self) -> usize {
        self.per_setting.len()
    }
}

/// Where one row is in the grammar.
#[derive(Debug, Clone, Copy, Default)]
struct RowState {
    /// Tokens of the answer already walked.
    consumed: usize,
    /// The line being written.
    slot: usize,
    /// Its node in that line's tree.
    node: usize,
    /// The chosen setting, once its line is complete.
    setting: usize,
    /// A token outside the grammar was seen: the row is ended.
    broken: bool,
}

/// [`TokenConstraint`] of a [`SceneGrammar`]: each row walks the five
/// line trees in order and ends after the mood line.
#[derive(Debug)]
pub struct SceneConstraint<'g> {
    grammar: &'g SceneGrammar,
    rows: HashMap<usize, RowState>,
    /// Row `r` chooses among the settings `s` with `s % groups == r % groups`.
    groups: usize,
}

impl SceneConstraint<'_> {
    /// Splits the settings into `groups` interleaved groups (setting `s` in
    /// group `s % groups`) and lets row `r` choose only within group
    /// `r % groups`, so a batch covers at least `groups` settings (rows
    /// decode in lockstep, so they cannot see each other's choice in
    /// time). The model still chooses within its group.
    pub fn with_setting_groups(mut self, groups: usize) -> Self {
        self.groups = groups.max(1);
        self
    }

    fn advance(&self, state: &mut RowState, token: u32) {
        let Some(trie) = self.grammar.trie(state.slot, state.setting) else {
            state.broken = true;
            return;
        };
        let Some(next) = trie.child(state.node, token) else {
            state.broken = true;
            return;
        };
        match trie.choice(next) {
            Some(choice) => {
                if state.slot == 0 {
                    state.setting = choice;
                }
                state.slot += 1;
                state.node = 0;
            }
            None => state.node = next,
        }
    }
}

impl TokenConstraint for SceneConstraint<'_> {
    fn allowed(&mut self, row: usize, tokens: &[u32]) -> Option<Vec<u32>> {
        let mut state = self.rows.get(&row).copied().unwrap_or_default();
        for &token in tokens.get(state.consumed..).unwrap_or(&[]) {
            if !state.broken {
                self.advance(&mut state, token);
            }
        }
        state.consumed = tokens.len();
        self.rows.insert(row, state);
        if state.broken {
            return Some(Vec::new());
        }
        let Some(trie) = self.grammar.trie(state.slot, state.setting) else {
            // Past the mood line: the plan is complete.
            return Some(Vec::new());
        };
        if state.slot == 0 {
            let groups = self.groups;
            let open = trie.allowed_where(state.node, |c| c % groups == row % groups);
            if !open.is_empty() {
                return Some(open);
            }
        }
        Some(trie.allowed(state.node))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seqs(list: &[&[u32]]) -> Vec<Vec<u32>> {
        list.iter().map(|s| s.to_vec()).collect()
    }

    #[test]
    fn a_trie_allows_exactly_the_continuations_of_its_sequences() {
        let trie = Trie::new(&seqs(&[&[1, 2, 3], &[1, 4], &[5], &[1, 2, 3]]));
        assert_eq!(trie.allowed(0), vec![1, 5]);
        let one = trie.child(0, 1).expect("1");
        assert_eq!(trie.allowed(one), vec![2, 4]);
        let end = trie.child(one, 4).expect("4");
        assert_eq!(trie.choice(end), Some(1));
        let dup = trie.child(trie.child(one, 2).expect("2"), 3).expect("3");
        assert_eq!(
            trie.choice(dup),
            Some(0),
            "a duplicate keeps its first choice"
        );
        assert_eq!(trie.child(0, 9), None);
    }

    /// A grammar built by hand on token ids: settings 10 / 11 (each one
    /// token), setting 0 has surfaces [20] and props [30, 31], setting 1
    /// surfaces [21] and props [32]; lights [40], moods [50, 51].
    fn grammar() -> SceneGrammar {
        SceneGrammar {
            settings: Trie::new(&seqs(&[&[10], &[11]])),
            per_setting: vec![
                (Trie::new(&seqs(&[&[20]])), Trie::new(&seqs(&[&[30, 31]]))),
                (Trie::new(&seqs(&[&[21]])), Trie::new(&seqs(&[&[32]]))),
            ],
            lights: Trie::new(&seqs(&[&[40]])),
            moods: Trie::new(&seqs(&[&[50], &[51]])),
        }
    }

    #[test]
    fn the_surface_and_props_follow_the_chosen_setting_and_the_row_ends() {
        let g = grammar();
        let mut c = g.constraint();
        assert_eq!(c.allowed(0, &[]), Some(vec![10, 11]));
        assert_eq!(c.allowed(0, &[11]), Some(vec![21]));
        assert_eq!(c.allowed(1, &[10]), Some(vec![20]), "rows are independent");
        assert_eq!(c.allowed(0, &[11, 21]), Some(vec![32]));
        assert_eq!(c.allowed(1, &[10, 20]), Some(vec![30]));
        assert_eq!(c.allowed(1, &[10, 20, 30]), Some(vec![31]));
        assert_eq!(c.allowed(0, &[11, 21, 32]), Some(vec![40]));
        assert_eq!(c.allowed(0, &[11, 21, 32, 40]), Some(vec![50, 51]));
        assert_eq!(c.allowed(0, &[11, 21, 32, 40, 51]), Some(vec![]));
    }

    #[test]
    fn setting_groups_split_the_settings_between_rows() {
        let g = grammar();
        let mut c = g.constraint().with_setting_groups(2);
        assert_eq!(c.allowed(0, &[]), Some(vec![10]));
        assert_eq!(c.allowed(1, &[]), Some(vec![11]));
        assert_eq!(c.allowed(2, &[]), Some(vec![10]));
        assert_eq!(c.allowed(1, &[11]), Some(vec![21]));
        let mut one = g.constraint().with_setting_groups(1);
        assert_eq!(one.allowed(5, &[]), Some(vec![10, 11]));
    }

    #[test]
    fn a_token_outside_the_grammar_ends_the_row() {
        let g = grammar();
        let mut c = g.constraint();
        assert_eq!(c.allowed(0, &[10, 99]), Some(vec![]));
        assert_eq!(c.allowed(0, &[10, 99, 20]), Some(vec![]));
    }
}
