//! The batch's output files: `winners.csv` (one row per winner, with the
//! models) and `index.html` (a static page, no external assets: images
//! referenced relatively, CSS inline, every text HTML-escaped; also
//! well-formed XML so that it can be checked by a parser).

use std::fmt::Write as _;
use std::path::Path;

use anyhow::Context as _;

use super::ProductReport;

/// The winners table's file name.
pub const WINNERS_CSV: &str = "winners.csv";

/// The report page's file name.
pub const INDEX_HTML: &str = "index.html";

/// The columns of `winners.csv`.
pub const CSV_HEADER: [&str; 14] = [
    "product",
    "title",
    "rank",
    "prompt",
    "seed",
    "predicted_ctr",
    "mean_win_probability",
    "image",
    "render_id",
    "diffusion_model",
    "controlnet",
    "reward_model",
    "prompt_model",
    "adapter",
];

/// Writes `winners.csv` and `index.html` into `out` (each through a
/// temporary file, so a failed write leaves the previous one).
pub fn write_outputs(out: &Path, products: &[ProductReport]) -> anyhow::Result<()> {
    write_atomic(&out.join(WINNERS_CSV), &winners_csv(products))?;
    write_atomic(&out.join(INDEX_HTML), &index_html(products))?;
    Ok(())
}

fn write_atomic(path: &Path, text: &str) -> anyhow::Result<()> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))
}

/// A CSV field, quoted when it holds a comma, quote or line break.
pub fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// The text of `winners.csv`.
pub fn winners_csv(products: &[ProductReport]) -> String {
    let mut out = CSV_HEADER.join(",");
    out.push('\n');
    for p in products {
        for w in &p.winners {
            let fields = [
                p.id.clone(),
                p.title.clone(),
                w.rank.to_string(),
                w.prompt.clone(),
                w.seed.to_string(),
                format!("{:.6}", w.ctr),
                format!("{:.6}", w.mean_win),
                w.file.to_string_lossy().replace('\\', "/"),
                w.render.0.to_string(),
                p.models.checkpoint.clone(),
                p.models.controlnet.clone().unwrap_or_default(),
                p.reward_model.clone(),
                p.prompt_model.clone(),
                p.adapter.clone().unwrap_or_default(),
            ];
            let row: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
            out.push_str(&row.join(","));
            out.push('\n');
        }
    }
    out
}

/// `s` with `&`, `<`, `>`, `"` and `'` escaped for HTML text and
/// attributes.
pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:2em;background:#f6f6f4;color:#222}\
h1{font-size:1.6em}h2{font-size:1.2em;margin:0 0 .5em}\
.product{background:#fff;border-radius:8px;padding:1em 1.2em;margin:0 0 1.5em;box-shadow:0 1px 3px #0002}\
.id{color:#888;font-weight:normal;font-size:.8em}\
.winners{display:flex;flex-wrap:wrap;gap:1em}\
figure{margin:0;width:256px}img{width:256px;height:auto;border-radius:4px;display:block}\
figcaption{font-size:.85em;margin-top:.4em}.rank{font-weight:bold}\
.ctr{color:#0a6}.seed{color:#888}.prompt{margin:.3em 0 0}";

/// The text of `index.html`.
pub fn index_html(products: &[ProductReport]) -> String {
    let mut h = String::new();
    h.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n");
    h.push_str("<title>adstudio catalog winners</title>\n");
    let _ = writeln!(h, "<style>{STYLE}</style>\n</head>\n<body>");
    h.push_str("<h1>Catalog winners</h1>\n");
    let winners: usize = products.iter().map(|p| p.winners.len()).sum();
    let _ = writeln!(
        h,
        "<p class=\"summary\">{} product(s), {winners} winner(s), ranked by the reward model (all pairs, Bradley-Terry), with its predicted CTR.</p>",
        products.len()
    );
    for p in products {
        product_section(&mut h, p);
    }
    h.push_str("</body>\n</html>\n");
    h
}

fn product_section(h: &mut String, p: &ProductReport) {
    let title = escape_html(&p.title);
    let id = escape_html(&p.id);
    let _ = writeln!(
        h,
        "<section class=\"product\" id=\"product-{id}\">\n<h2>{title} <span class=\"id\">{id}</span></h2>\n<div class=\"winners\">"
    );
    for w in &p.winners {
        let src = escape_html(&w.file.to_string_lossy().replace('\\', "/"));
        let _ = writeln!(
            h,
            "<figure class=\"winner\">\n<img src=\"{src}\" alt=\"rank {rank}: {prompt}\"/>\n\
             <figcaption><span class=\"rank\">#{rank}</span> \
             <span class=\"ctr\">predicted CTR {ctr:.2}%</span> \
             <span class=\"seed\">seed {seed}</span>\n<p class=\"prompt\">{prompt}</p></figcaption>\n</figure>",
            rank = w.rank,
            prompt = escape_html(&w.prompt),
            ctr = 100.0 * w.ctr,
            seed = w.seed,
        );
    }
    h.push_str("</div>\n</section>\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_covers_markup_and_quotes() {
        assert_eq!(
            escape_html(r#"<b>"Tom's" & co</b>"#),
            "&lt;b&gt;&quot;Tom&#39;s&quot; &amp; co&lt;/b&gt;"
        );
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a, \"b\""), "\"a, \"\"b\"\"\"");
    }
}
