//! Reading a catalog: CSV with a header or JSONL (chosen by the file's
//! extension), one product per row: `id`, `image`, `title`, optional
//! `category` and per-product overrides (`aspect`, `k`, `n`, `steps`).
//!
//! Whole-file problems (unknown format, a required column missing, an
//! unknown column) are a [`CatalogError`]; a bad row (empty title, duplicate
//! id, unusable override, malformed line) becomes a [`BadRow`] with its
//! line number and never stops the other rows.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::ml::reward::csv::split_record;
use crate::product::AspectPreset;

/// Every column a catalog may have.
pub const COLUMNS: [&str; 8] = [
    "id", "image", "title", "category", "aspect", "k", "n", "steps",
];

/// The columns every catalog must have.
pub const REQUIRED: [&str; 3] = ["id", "image", "title"];

/// A catalog that cannot be read at all.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    /// The file could not be read.
    #[error("reading the catalog {path}: {source}")]
    Read {
        /// The catalog.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The extension names no known format.
    #[error("{path}: unknown catalog format; use a .csv file with a header or a .jsonl file")]
    UnknownFormat {
        /// The catalog.
        path: PathBuf,
    },
    /// The content is not in the format its extension says.
    #[error("{path}: {detail}")]
    WrongFormat {
        /// The catalog.
        path: PathBuf,
        /// What was found.
        detail: String,
    },
    /// Required columns are missing.
    #[error("{path}: missing column(s) {}; the header has {}", .missing.join(", "), .found.join(", "))]
    MissingColumns {
        /// The catalog.
        path: PathBuf,
        /// The missing columns.
        missing: Vec<String>,
        /// The columns found.
        found: Vec<String>,
    },
    /// Columns (or JSON keys) no catalog has.
    #[error("{path}: unknown column(s) {}; known columns are {}", .unknown.join(", "), COLUMNS.join(", "))]
    UnknownColumns {
        /// The catalog.
        path: PathBuf,
        /// The unknown names (with their line for JSONL).
        unknown: Vec<String>,
    },
    /// The catalog has no product rows.
    #[error("{path}: the catalog has no product rows")]
    Empty {
        /// The catalog.
        path: PathBuf,
    },
}

/// Per-product overrides of the batch settings.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Overrides {
    /// Canvas aspect.
    pub aspect: Option<AspectPreset>,
    /// Suggestions per product.
    pub k: Option<usize>,
    /// Renders per suggestion.
    pub n: Option<usize>,
    /// Denoising steps.
    pub steps: Option<usize>,
}

/// A usable catalog row.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CatalogRow {
    /// 1-based line in the file.
    pub line: usize,
    /// The product id (letters, digits, `.`, `_`, `-`; names its folder).
    pub id: String,
    /// The image, resolved against the catalog's folder.
    pub image: PathBuf,
    /// The product title.
    pub title: String,
    /// The category, if given.
    pub category: Option<String>,
    /// Overrides of the batch settings.
    pub overrides: Overrides,
}

/// A row that cannot be run, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadRow {
    /// 1-based line in the file.
    pub line: usize,
    /// Its id, when it has one.
    pub id: Option<String>,
    /// What is wrong.
    pub reason: String,
}

/// A read catalog: the usable rows and the bad ones.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Catalog {
    /// Rows to run, in file order.
    pub rows: Vec<CatalogRow>,
    /// Rows refused while reading.
    pub bad: Vec<BadRow>,
}

/// Raw text fields of a row, by column name.
type Fields = HashMap<String, String>;

/// Records by line: the fields, or why the line is malformed.
type Records = Vec<(usize, Result<Fields, String>)>;

/// Reads the catalog at `path` (format by extension: `.csv`, `.jsonl` or
/// `.ndjson`).
pub fn read_catalog(path: &Path) -> Result<Catalog, CatalogError> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    let jsonl = match ext.as_deref() {
        Some("csv") => false,
        Some("jsonl" | "ndjson") => true,
        _ => {
            return Err(CatalogError::UnknownFormat {
                path: path.to_path_buf(),
            })
        }
    };
    let text = std::fs::read_to_string(path).map_err(|source| CatalogError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let raw = if jsonl {
        jsonl_records(path, &text)?
    } else {
        csv_records(path, &text)?
    };
    let base = path.parent().unwrap_or(Path::new(""));
    let catalog = validate(raw, base);
    if catalog.rows.is_empty() && catalog.bad.is_empty() {
        return Err(CatalogError::Empty {
            path: path.to_path_buf(),
        });
    }
    Ok(catalog)
}

/// Non-empty lines with their 1-based numbers.
fn lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim_end_matches('\r')))
        .filter(|(_, l)| !l.trim().is_empty())
}

fn csv_records(path: &Path, text: &str) -> Result<Records, CatalogError> {
    let mut lines = lines(text);
    let Some((_, header)) = lines.next() else {
        return Ok(Vec::new());
    };
    let wrong = |detail: &str| CatalogError::WrongFormat {
        path: path.to_path_buf(),
        detail: detail.to_string(),
    };
    if header.trim_start().starts_with('{') {
        return Err(wrong(
            "this looks like JSON lines, not CSV; name the file .jsonl",
        ));
    }
    let header: Vec<String> = split_record(header)
        .ok_or_else(|| wrong("line 1: the header has an unclosed quote"))?
        .into_iter()
        .map(|h| h.trim().to_ascii_lowercase())
        .collect();
    check_columns(path, &header)?;
    let mut out = Vec::new();
    for (line, record) in lines {
        let fields = match split_record(record) {
            None => Err("malformed CSV (an unclosed quote)".to_string()),
            Some(f) if f.len() != header.len() => Err(format!(
                "{} fields, the header has {}",
                f.len(),
                header.len()
            )),
            Some(f) => Ok(header.iter().cloned().zip(f).collect()),
        };
        out.push((line, fields));
    }
    Ok(out)
}

fn check_columns(path: &Path, header: &[String]) -> Result<(), CatalogError> {
    let unknown: Vec<String> = header
        .iter()
        .filter(|h| !COLUMNS.contains(&h.as_str()))
        .cloned()
        .collect();
    if !unknown.is_empty() {
        return Err(CatalogError::UnknownColumns {
            path: path.to_path_buf(),
            unknown,
        });
    }
    let missing: Vec<String> = REQUIRED
        .iter()
        .filter(|r| !header.iter().any(|h| h == *r))
        .map(|r| r.to_string())
        .collect();
    if !missing.is_empty() {
        return Err(CatalogError::MissingColumns {
            path: path.to_path_buf(),
            missing,
            found: header.to_vec(),
        });
    }
    Ok(())
}

fn jsonl_records(path: &Path, text: &str) -> Result<Records, CatalogError> {
    let mut out = Vec::new();
    let mut unknown = Vec::new();
    for (line, record) in lines(text) {
        let value: Result<serde_json::Value, _> = serde_json::from_str(record);
        let object = match value {
            Ok(serde_json::Value::Object(map)) => map,
            _ if out.is_empty() => {
                return Err(CatalogError::WrongFormat {
                    path: path.to_path_buf(),
                    detail: format!(
                    "line {line} is not a JSON object; a .jsonl catalog has one object per line"
                ),
                })
            }
            _ => {
                out.push((line, Err("not a JSON object".to_string())));
                continue;
            }
        };
        let mut fields = Fields::new();
        for (key, value) in object {
            if !COLUMNS.contains(&key.as_str()) {
                unknown.push(format!("{key} (line {line})"));
                continue;
            }
            let text = match value {
                serde_json::Value::String(s) => s,
                serde_json::Value::Null => continue,
                other => other.to_string(),
            };
            fields.insert(key, text);
        }
        out.push((line, Ok(fields)));
    }
    if !unknown.is_empty() {
        return Err(CatalogError::UnknownColumns {
            path: path.to_path_buf(),
            unknown,
        });
    }
    Ok(out)
}

/// Turns raw records into rows, refusing bad ones (ids seen twice keep
/// their first row).
fn validate(raw: Records, base: &Path) -> Catalog {
    let mut catalog = Catalog::default();
    let mut seen: HashMap<String, usize> = HashMap::new();
    for (line, fields) in raw {
        let row = fields.and_then(|f| row_of(line, &f, base));
        match row {
            Ok(row) => {
                if let Some(first) = seen.get(&row.id) {
                    catalog.bad.push(BadRow {
                        line,
                        reason: format!("duplicate id {:?} (first on line {first})", row.id),
                        id: Some(row.id),
                    });
                } else {
                    seen.insert(row.id.clone(), line);
                    catalog.rows.push(row);
                }
            }
            Err(reason) => catalog.bad.push(BadRow {
                line,
                id: None,
                reason,
            }),
        }
    }
    catalog
}

fn row_of(line: usize, f: &Fields, base: &Path) -> Result<CatalogRow, String> {
    let get = |k: &str| f.get(k).map(|s| s.trim()).filter(|s| !s.is_empty());
    let id = get("id").ok_or("the id is empty")?.to_string();
    check_id(&id)?;
    let title = get("title").ok_or_else(|| format!("{id}: the title is empty"))?;
    let image = get("image").ok_or_else(|| format!("{id}: the image is empty"))?;
    let number = |k: &str| -> Result<Option<usize>, String> {
        get(k)
            .map(|v| match v.parse::<usize>() {
                Ok(n) if n >= 1 => Ok(n),
                _ => Err(format!("{id}: {k} must be a whole number >= 1, not {v:?}")),
            })
            .transpose()
    };
    let aspect = get("aspect")
        .map(|a| {
            AspectPreset::parse(a).ok_or_else(|| {
                let known: Vec<&str> = AspectPreset::ALL.iter().map(|p| p.label()).collect();
                format!(
                    "{id}: unknown aspect {a:?}; use one of {}",
                    known.join(", ")
                )
            })
        })
        .transpose()?;
    Ok(CatalogRow {
        line,
        image: base.join(image),
        title: title.to_string(),
        category: get("category").map(str::to_string),
        overrides: Overrides {
            aspect,
            k: number("k")?,
            n: number("n")?,
            steps: number("steps")?,
        },
        id,
    })
}

/// Ids name output folders: letters, digits, `.`, `_` and `-`, not
/// starting with a dot.
fn check_id(id: &str) -> Result<(), String> {
    let ok = id
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if !ok || id.starts_with('.') || id.len() > 100 {
        return Err(format!(
            "id {id:?}: use at most 100 letters, digits, '.', '_' or '-' (not starting with '.'); it names the product's folder"
        ));
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    #[test]
    fn csv_rows_overrides_and_bad_rows_with_their_lines() {
        let dir = tempfile::tempdir().unwrap();
        let text = "ID,image,title,category,k,aspect\n\
                    a,img/a.png,\"Red mug, large\",kitchen,3,4:5\n\
                    \n\
                    b,b.png,,,,\n\
                    a,c.png,Again,,,\n\
                    c/d,c.png,Slash,,,\n\
                    e,e.png,Zero,,0,\n\
                    f,f.png,Aspect,,,2:7\n\
                    g,g.png\n";
        let cat = read_catalog(&write(dir.path(), "c.csv", text)).unwrap();
        assert_eq!(cat.rows.len(), 1);
        let a = &cat.rows[0];
        assert_eq!(
            (a.line, a.id.as_str(), a.title.as_str()),
            (2, "a", "Red mug, large")
        );
        assert_eq!(a.image, dir.path().join("img/a.png"));
        assert_eq!(a.category.as_deref(), Some("kitchen"));
        assert_eq!(a.overrides.k, Some(3));
        assert_eq!(a.overrides.aspect, AspectPreset::parse("4:5"));
        let lines: Vec<usize> = cat.bad.iter().map(|b| b.line).collect();
        assert_eq!(lines, [4, 5, 6, 7, 8, 9]);
        assert!(
            cat.bad[0].reason.contains("title is empty"),
            "{:?}",
            cat.bad
        );
        assert!(cat.bad[1]
            .reason
            .contains("duplicate id \"a\" (first on line 2)"));
        assert!(cat.bad[2].reason.contains("\"c/d\""));
        assert!(cat.bad[3].reason.contains("k must be"));
        assert!(cat.bad[4].reason.contains("unknown aspect"));
        assert!(cat.bad[5].reason.contains("2 fields, the header has 6"));
    }

    #[test]
    fn jsonl_rows_and_whole_file_errors() {
        let dir = tempfile::tempdir().unwrap();
        let text = "{\"id\":\"a\",\"image\":\"a.png\",\"title\":\"Mug\",\"steps\":2}\nnot json\n";
        let cat = read_catalog(&write(dir.path(), "c.jsonl", text)).unwrap();
        assert_eq!(cat.rows[0].overrides.steps, Some(2));
        assert_eq!(cat.bad[0].line, 2);

        let err = |name: &str, text: &str| {
            read_catalog(&write(dir.path(), name, text))
                .unwrap_err()
                .to_string()
        };
        let e = err("x.txt", "id,image,title\n");
        assert!(e.contains("unknown catalog format"), "{e}");
        let e = err("m.csv", "id,title\na,Mug\n");
        assert!(e.contains("missing column(s) image"), "{e}");
        let e = err("u.csv", "id,image,title,price\n");
        assert!(e.contains("unknown column(s) price"), "{e}");
        let e = err("j.csv", "{\"id\":\"a\"}\n");
        assert!(e.contains("looks like JSON lines"), "{e}");
        let e = err("c.jsonl", "id,image,title\n");
        assert!(e.contains("line 1 is not a JSON object"), "{e}");
        let e = err(
            "k.jsonl",
            "{\"id\":\"a\",\"image\":\"a.png\",\"title\":\"M\",\"colour\":1}\n",
        );
        assert!(e.contains("colour (line 1)"), "{e}");
        let e = err("e.csv", "id,image,title\n");
        assert!(e.contains("no product rows"), "{e}");
    }
}
