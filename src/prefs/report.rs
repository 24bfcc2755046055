//! [`PrefStats`] as plain-text tables (what `adstudio prefs stats` prints).

use std::fmt;

use super::agreement::Accuracy;
use super::stats::PrefStats;
use crate::store::PreferenceCounts;

/// Left-aligned first column, right-aligned others, two spaces apart.
fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let parts: Vec<String> = cells
            .iter()
            .zip(&widths)
            .enumerate()
            .map(|(i, (cell, &w))| {
                if i == 0 {
                    format!("{cell:<w$}")
                } else {
                    format!("{cell:>w$}")
                }
            })
            .collect();
        parts.join("  ").trim_end().to_string()
    };
    let mut out = vec![line(headers.to_vec())];
    out.extend(
        rows.iter()
            .map(|r| line(r.iter().map(String::as_str).collect())),
    );
    out.join("\n")
}

fn outcome_cells(c: &PreferenceCounts) -> Vec<String> {
    [c.a, c.b, c.tie, c.cant_tell, c.skip]
        .iter()
        .map(u64::to_string)
        .collect()
}

/// A kappa as printed and shown ("undefined" when it is not defined).
pub fn kappa_text(kappa: Option<f64>) -> String {
    kappa.map_or_else(|| "undefined".to_string(), |k| format!("{k:.3}"))
}

fn accuracy_cells(accuracy: Option<Accuracy>) -> [String; 2] {
    match accuracy {
        Some(a) => [
            format!("{:.1}%", 100.0 * a.value),
            format!("{:.1}%-{:.1}%", 100.0 * a.ci_low, 100.0 * a.ci_high),
        ],
        None => ["-".to_string(), "-".to_string()],
    }
}

impl PrefStats {
    /// Per product: product, pairs, human A / B / tie / can't tell / skip,
    /// model labels.
    pub fn product_rows(&self) -> Vec<Vec<String>> {
        self.products
            .iter()
            .map(|p| {
                let mut row = vec![p.product.to_string(), p.pairs.to_string()];
                row.extend(outcome_cells(&p.human));
                row.push(p.model.total().to_string());
                row
            })
            .collect()
    }

    /// Per labeler: labeler, source, pairs, A / B / tie / can't tell / skip.
    pub fn labeler_rows(&self) -> Vec<Vec<String>> {
        self.labelers
            .iter()
            .map(|l| {
                let mut row = vec![l.labeler.clone(), l.source.to_string(), l.pairs.to_string()];
                row.extend(outcome_cells(&l.counts));
                row
            })
            .collect()
    }

    /// Per two labelers: "a ~ b", shared pairs, agreeing, Cohen's kappa.
    pub fn agreement_rows(&self) -> Vec<Vec<String>> {
        self.between_labelers
            .iter()
            .map(|a| {
                vec![
                    format!("{} ~ {}", a.labeler_a, a.labeler_b),
                    a.shared_pairs.to_string(),
                    a.agreeing.to_string(),
                    kappa_text(a.kappa),
                ]
            })
            .collect()
    }

    fn products_table(&self) -> String {
        let rows = self.product_rows();
        let headers = [
            "product",
            "pairs",
            "a",
            "b",
            "tie",
            "can't tell",
            "skip",
            "model",
        ];
        table(&headers, &rows)
    }

    fn labelers_table(&self) -> String {
        let rows = self.labeler_rows();
        let headers = [
            "labeler",
            "source",
            "pairs",
            "a",
            "b",
            "tie",
            "can't tell",
            "skip",
        ];
        table(&headers, &rows)
    }

    fn agreement_table(&self) -> String {
        let rows = self.agreement_rows();
        table(&["labelers", "shared pairs", "agreeing", "kappa"], &rows)
    }

    fn reward_table(&self) -> String {
        let rows: Vec<Vec<String>> = self
            .people_vs_models
            .models
            .iter()
            .map(|m| {
                let [acc, ci] = accuracy_cells(m.accuracy);
                vec![
                    m.model_id.clone(),
                    m.compared.to_string(),
                    m.from_labels.to_string(),
                    m.from_scores.to_string(),
                    m.undecided.to_string(),
                    acc,
                    ci,
                ]
            })
            .collect();
        let headers = [
            "model",
            "compared",
            "from labels",
            "from scores",
            "undecided",
            "accuracy",
            "95% CI",
        ];
        table(&headers, &rows)
    }
}

impl fmt::Display for PrefStats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let t = &self.total;
        writeln!(
            f,
            "labels: {} active (a {}, b {}, tie {}, can't tell {}, skip {}), {} retracted",
            t.total(),
            t.a,
            t.b,
            t.tie,
            t.cant_tell,
            t.skip,
            self.retracted
        )?;
        writeln!(f, "\nper product (human labels by outcome; model labels)")?;
        writeln!(f, "{}", self.products_table())?;
        writeln!(f, "\nper labeler")?;
        writeln!(f, "{}", self.labelers_table())?;
        writeln!(
            f,
            "\nagreement between people (Cohen's kappa on shared pairs, ratings first better / \
             second better / tie)"
        )?;
        writeln!(f, "{}", self.agreement_table())?;
        let all = &self.all_labelers;
        writeln!(
            f,
            "Fleiss' kappa: {} ({} labelers, {} pairs rated by 2 or more, {} ratings)",
            kappa_text(all.kappa),
            all.labelers,
            all.pairs,
            all.ratings
        )?;
        writeln!(
            f,
            "\nreward model vs people ({} pairs decided by a human majority, ties excluded)",
            self.people_vs_models.human_decided_pairs
        )?;
        write!(f, "{}", self.reward_table())
    }
}
