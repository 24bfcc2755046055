//! Click-log parsing: CSV and JSONL rows with a creative id, a product id,
//! an image path, impressions and clicks. Pure: takes text, returns the good
//! rows and a per-row rejection report (bad rows never abort the import;
//! only a file that is not a click log at all is refused as a whole).

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

use super::csv::split_record;

/// One creative's click record.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ClickRow {
    /// Unique creative id.
    pub creative_id: String,
    /// Product the creative advertises.
    pub product_id: String,
    /// Path of the ad image, as written in the log.
    pub image_path: PathBuf,
    /// Number of impressions (always > 0 in a parsed log).
    pub impressions: u64,
    /// Number of clicks (always <= impressions in a parsed log).
    pub clicks: u64,
}

impl ClickRow {
    /// Click-through rate = clicks / impressions (0 when there are no
    /// impressions).
    pub fn ctr(&self) -> f64 {
        if self.impressions == 0 {
            0.0
        } else {
            self.clicks as f64 / self.impressions as f64
        }
    }
}

/// Click-log file formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClickLogFormat {
    /// Comma-separated values with a header line.
    Csv,
    /// One JSON object per line.
    Jsonl,
}

impl ClickLogFormat {
    /// Format from a file extension (`csv`, `jsonl`, `ndjson`), if known.
    pub fn from_path(path: &Path) -> Option<Self> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "csv" => Some(Self::Csv),
            "jsonl" | "ndjson" => Some(Self::Jsonl),
            _ => None,
        }
    }

    /// Guesses the format from the content: JSONL when the first non-blank
    /// character is `{`, CSV otherwise.
    pub fn sniff(text: &str) -> Self {
        if text.trim_start().starts_with('{') {
            Self::Jsonl
        } else {
            Self::Csv
        }
    }
}

/// The fields of a click row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    /// `creative_id`.
    CreativeId,
    /// `product_id`.
    ProductId,
    /// `image_path` (alias `image`).
    ImagePath,
    /// `impressions`.
    Impressions,
    /// `clicks`.
    Clicks,
}

impl Field {
    /// All fields, in canonical column order.
    pub const ALL: [Field; 5] = [
        Field::CreativeId,
        Field::ProductId,
        Field::ImagePath,
        Field::Impressions,
        Field::Clicks,
    ];

    /// Canonical column / key name.
    pub fn name(self) -> &'static str {
        match self {
            Field::CreativeId => "creative_id",
            Field::ProductId => "product_id",
            Field::ImagePath => "image_path",
            Field::Impressions => "impressions",
            Field::Clicks => "clicks",
        }
    }

    fn matches(self, key: &str) -> bool {
        let key = key.trim().to_ascii_lowercase();
        key == self.name() || (self == Field::ImagePath && key == "image")
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a row was rejected.
#[derive(Debug, Clone, PartialEq)]
pub enum RowProblem {
    /// The line is not a record of this format (bad quoting, wrong field
    /// count, invalid JSON, not an object).
    Malformed(String),
    /// A required field is absent or empty.
    MissingField(Field),
    /// A count is not a whole number.
    NonNumeric {
        /// Which count.
        field: Field,
        /// The text found.
        value: String,
    },
    /// A count is negative.
    Negative {
        /// Which count.
        field: Field,
        /// The text found.
        value: String,
    },
    /// More clicks than impressions.
    ClicksExceedImpressions {
        /// Clicks found.
        clicks: u64,
        /// Impressions found.
        impressions: u64,
    },
    /// Zero impressions: the CTR is undefined.
    ZeroImpressions,
    /// The creative id was already used by a kept row.
    DuplicateId {
        /// The repeated id.
        id: String,
        /// Line of the kept row with that id.
        first_line: usize,
    },
    /// The image file does not exist.
    MissingImage(PathBuf),
}

impl fmt::Display for RowProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RowProblem::Malformed(why) => write!(f, "malformed row: {why}"),
            RowProblem::MissingField(field) => write!(f, "missing field {field}"),
            RowProblem::NonNumeric { field, value } => {
                write!(f, "{field} is not a whole number: {value:?}")
            }
            RowProblem::Negative { field, value } => write!(f, "{field} is negative: {value}"),
            RowProblem::ClicksExceedImpressions {
                clicks,
                impressions,
            } => write!(f, "clicks ({clicks}) exceed impressions ({impressions})"),
            RowProblem::ZeroImpressions => write!(f, "zero impressions (CTR undefined)"),
            RowProblem::DuplicateId { id, first_line } => {
                write!(
                    f,
                    "duplicate creative id {id:?} (first on line {first_line})"
                )
            }
            RowProblem::MissingImage(path) => write!(f, "image not found: {}", path.display()),
        }
    }
}

/// One rejected row of the report.
#[derive(Debug, Clone, PartialEq)]
pub struct RowRejection {
    /// 1-based line number in the file (the CSV header is line 1).
    pub line: usize,
    /// The row's creative id when it could be read.
    pub creative_id: Option<String>,
    /// Why the row was rejected.
    pub problem: RowProblem,
}

impl fmt::Display for RowRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.creative_id {
            Some(id) => write!(f, "line {} ({id}): {}", self.line, self.problem),
            None => write!(f, "line {}: {}", self.line, self.problem),
        }
    }
}

/// A whole file that cannot be read as a click log.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ClickLogError {
    /// No non-blank line.
    #[error("the click log is empty")]
    Empty,
    /// The CSV header lacks required columns (e.g. the file is not CSV).
    #[error("CSV header lacks column(s) {missing:?}; found {found:?}")]
    MissingColumns {
        /// Required columns not found.
        missing: Vec<String>,
        /// Columns found in the header.
        found: Vec<String>,
    },
    /// No line of a JSONL file is a JSON object.
    #[error("not a JSONL click log: no line is a JSON object ({first_error})")]
    NotJsonl {
        /// The parse error of the first line.
        first_error: String,
    },
}

/// The result of parsing: kept rows (with their line numbers) and the
/// rejection report.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ClickLog {
    /// The good rows, in file order.
    pub rows: Vec<ClickRow>,
    /// `lines[i]` is the 1-based line of `rows[i]`.
    pub lines: Vec<usize>,
    /// One entry per rejected row, in file order.
    pub rejections: Vec<RowRejection>,
}

impl ClickLog {
    /// Moves the rows whose image does not exist (as told by `exists`) to
    /// the rejection report. `exists` receives each row's `image_path`.
    pub fn reject_missing_images(&mut self, exists: impl Fn(&Path) -> bool) {
        let rows = std::mem::take(&mut self.rows);
        let lines = std::mem::take(&mut self.lines);
        for (row, line) in rows.into_iter().zip(lines) {
            if exists(&row.image_path) {
                self.rows.push(row);
                self.lines.push(line);
            } else {
                self.rejections.push(RowRejection {
                    line,
                    creative_id: Some(row.creative_id.clone()),
                    problem: RowProblem::MissingImage(row.image_path.clone()),
                });
            }
        }
        self.rejections.sort_by_key(|r| r.line);
    }
}

/// Parses a click log in the given format.
pub fn parse_click_log(text: &str, format: ClickLogFormat) -> Result<ClickLog, ClickLogError> {
    match format {
        ClickLogFormat::Csv => parse_csv(text),
        ClickLogFormat::Jsonl => parse_jsonl(text),
    }
}

/// Raw field values of one record before validation.
type RawRecord = [Option<RawValue>; 5];

/// A field value as found in the file.
#[derive(Debug, Clone)]
enum RawValue {
    Text(String),
    Json(serde_json::Value),
}

/// Accumulates validated rows and rejections, enforcing unique ids.
#[derive(Default)]
struct Collector {
    log: ClickLog,
    seen: HashMap<String, usize>,
}

impl Collector {
    fn reject(&mut self, line: usize, creative_id: Option<String>, problem: RowProblem) {
        self.log.rejections.push(RowRejection {
            line,
            creative_id,
            problem,
        });
    }

    fn push(&mut self, line: usize, raw: RawRecord) {
        let id = text_of(&raw[0]);
        match validate(&raw) {
            Err(problem) => self.reject(line, id, problem),
            Ok(row) => {
                if let Some(&first_line) = self.seen.get(&row.creative_id) {
                    let id = row.creative_id.clone();
                    self.reject(
                        line,
                        Some(id.clone()),
                        RowProblem::DuplicateId { id, first_line },
                    );
                } else {
                    self.seen.insert(row.creative_id.clone(), line);
                    self.log.rows.push(row);
                    self.log.lines.push(line);
                }
            }
        }
    }
}

fn text_of(v: &Option<RawValue>) -> Option<String> {
    let s = match v.as_ref()? {
        RawValue::Text(s) => s.trim().to_string(),
        RawValue::Json(serde_json::Value::String(s)) => s.trim().to_string(),
        RawValue::Json(serde_json::Value::Number(n)) => n.to_string(),
        RawValue::Json(_) => return None,
    };
    (!s.is_empty()).then_some(s)
}

fn count_of(field: Field, v: &Option<RawValue>) -> Result<u64, RowProblem> {
    let text = match v {
        None => return Err(RowProblem::MissingField(field)),
        Some(RawValue::Json(serde_json::Value::Number(n))) => n.to_string(),
        Some(RawValue::Json(serde_json::Value::String(s))) | Some(RawValue::Text(s)) => {
            s.trim().to_string()
        }
        Some(RawValue::Json(serde_json::Value::Null)) => {
            return Err(RowProblem::MissingField(field))
        }
        Some(RawValue::Json(other)) => {
            return Err(RowProblem::NonNumeric {
                field,
                value: other.to_string(),
            })
        }
    };
    if text.is_empty() {
        return Err(RowProblem::MissingField(field));
    }
    if let Ok(n) = text.parse::<u64>() {
        return Ok(n);
    }
    match text.parse::<f64>() {
        Ok(x) if x < 0.0 => Err(RowProblem::Negative { field, value: text }),
        // Integral values written as floats ("1000.0", 1e3) are accepted.
        Ok(x) if x.is_finite() && x.fract() == 0.0 && x <= u64::MAX as f64 => Ok(x as u64),
        _ => Err(RowProblem::NonNumeric { field, value: text }),
    }
}

fn validate(raw: &RawRecord) -> Result<ClickRow, RowProblem> {
    let creative_id = text_of(&raw[0]).ok_or(RowProblem::MissingField(Field::CreativeId))?;
    let product_id = text_of(&raw[1]).ok_or(RowProblem::MissingField(Field::ProductId))?;
    let image = text_of(&raw[2]).ok_or(RowProblem::MissingField(Field::ImagePath))?;
    let impressions = count_of(Field::Impressions, &raw[3])?;
    let clicks = count_of(Field::Clicks, &raw[4])?;
    if clicks > impressions {
        return Err(RowProblem::ClicksExceedImpressions {
            clicks,
            impressions,
        });
    }
    if impressions == 0 {
        return Err(RowProblem::ZeroImpressions);
    }
    Ok(ClickRow {
        creative_id,
        product_id,
        image_path: PathBuf::from(image),
        impressions,
        clicks,
    })
}

/// Parses a CSV click log (header line with the five columns, any order,
/// extra columns ignored).
pub fn parse_csv(text: &str) -> Result<ClickLog, ClickLogError> {
    let mut lines = text
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim_end_matches('\r')))
        .filter(|(_, l)| !l.trim().is_empty());
    let (_, header) = lines.next().ok_or(ClickLogError::Empty)?;
    let header = split_record(header).unwrap_or_else(|| vec![header.to_string()]);
    let mut columns = [0usize; 5];
    let mut missing = Vec::new();
    for (slot, field) in columns.iter_mut().zip(Field::ALL) {
        match header.iter().position(|h| field.matches(h)) {
            Some(i) => *slot = i,
            None => missing.push(field.name().to_string()),
        }
    }
    if !missing.is_empty() {
        return Err(ClickLogError::MissingColumns {
            missing,
            found: header,
        });
    }
    let mut out = Collector::default();
    for (line, record) in lines {
        let Some(fields) = split_record(record) else {
            out.reject(line, None, RowProblem::Malformed("unclosed quote".into()));
            continue;
        };
        if fields.len() != header.len() {
            let why = format!("{} fields, header has {}", fields.len(), header.len());
            let id = fields.get(columns[0]).filter(|s| !s.is_empty()).cloned();
            out.reject(line, id, RowProblem::Malformed(why));
            continue;
        }
        let raw: RawRecord = columns.map(|c| Some(RawValue::Text(fields[c].clone())));
        out.push(line, raw);
    }
    Ok(out.log)
}

/// Parses a JSONL click log (one object per line with the five keys).
pub fn parse_jsonl(text: &str) -> Result<ClickLog, ClickLogError> {
    let mut out = Collector::default();
    let mut any_object = false;
    let mut first_error = None;
    let mut saw_line = false;
    for (i, line) in text.lines().enumerate() {
        let line_no = i + 1;
        if line.trim().is_empty() {
            continue;
        }
        saw_line = true;
        let value: serde_json::Value = match serde_json::from_str(line) {
            Ok(v) => v,
            Err(e) => {
                first_error.get_or_insert_with(|| format!("line {line_no}: {e}"));
                out.reject(line_no, None, RowProblem::Malformed(e.to_string()));
                continue;
            }
        };
        let serde_json::Value::Object(map) = value else {
            first_error.get_or_insert_with(|| format!("line {line_no}: not an object"));
            out.reject(
                line_no,
                None,
                RowProblem::Malformed("not a JSON object".into()),
            );
            continue;
        };
        any_object = true;
        let raw: RawRecord = Field::ALL.map(|field| {
            map.iter()
                .find(|(k, _)| field.matches(k))
                .map(|(_, v)| RawValue::Json(v.clone()))
        });
        out.push(line_no, raw);
    }
    if !saw_line {
        return Err(ClickLogError::Empty);
    }
    if !any_object {
        return Err(ClickLogError::NotJsonl {
            first_error: first_error.unwrap_or_default(),
        });
    }
    Ok(out.log)
}
