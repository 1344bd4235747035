//! Loads the Rego policies, runs their unit tests and evaluates their `deny` rules.
//!
//! Conventions the loader relies on (STYLE.md §24): one folder per policy; a policy file declares
//! `deny contains msg if { … }` at the start of a line; a test file is named `*_test.rego` and
//! declares `test_*` rules at the start of a line; every file says `import rego.v1`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use regorus::{Engine, Value};

use crate::{Error, ManifestSet};

/// One message of a policy's `deny` set.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Denial {
    /// The rule that produced it, e.g. `data.paystream.probes.deny`.
    pub rule: String,
    /// The message: `<Kind> <namespace>/<name>[: container <name>]: <problem>`.
    pub message: String,
}

/// The result of one `test_*` rule.
#[derive(Debug, Clone)]
pub struct TestOutcome {
    /// The test file.
    pub file: PathBuf,
    /// The rule path, e.g. `data.paystream.probes_test.test_missing_liveness_is_denied`.
    pub rule: String,
    /// `None` when the rule evaluated to `true`, else why it failed.
    pub failure: Option<String>,
}

/// A test file and the test rules it declares.
#[derive(Debug)]
struct TestFile {
    path: PathBuf,
    package: String,
    rules: Vec<String>,
}

/// Every policy under one folder, loaded into one Rego engine.
#[derive(Debug)]
pub struct PolicySet {
    engine: Engine,
    deny_rules: Vec<String>,
    tests: Vec<TestFile>,
}

impl PolicySet {
    /// Loads every `.rego` file under `dir` (recursively, in path order).
    pub fn load(dir: &Path) -> Result<Self, Error> {
        let mut files = Vec::new();
        collect_rego(dir, &mut files)?;
        files.sort();
        if files.is_empty() {
            return Err(Error::NoPolicies(dir.to_path_buf()));
        }
        let mut engine = Engine::new();
        let mut deny_rules = Vec::new();
        let mut tests = Vec::new();
        for path in files {
            let text = std::fs::read_to_string(&path).map_err(|source| Error::Read {
                path: path.clone(),
                source,
            })?;
            let heads = rule_heads(&text);
            let package = engine
                .add_policy(path.display().to_string(), text)
                .map_err(|err| Error::Policy {
                    path: path.clone(),
                    message: format!("{err:#}"),
                })?;
            let is_test = path
                .file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.ends_with("_test.rego"));
            if is_test {
                let rules = heads.into_iter().filter(|h| h.starts_with("test_")).collect();
                tests.push(TestFile { path, package, rules });
            } else if heads.contains("deny") {
                deny_rules.push(format!("{package}.deny"));
            }
        }
        Ok(Self {
            engine,
            deny_rules,
            tests,
        })
    }

    /// The `deny` rules found, e.g. `data.paystream.probes.deny`.
    pub fn deny_rules(&self) -> &[String] {
        &self.deny_rules
    }

    /// Runs every `test_*` rule of every `*_test.rego` file; a test passes when it is `true`.
    pub fn run_tests(&mut self) -> Vec<TestOutcome> {
        self.engine.set_input(Value::new_object());
        let mut outcomes = Vec::new();
        for file in &self.tests {
            for rule in &file.rules {
                let path = format!("{}.{rule}", file.package);
                let failure = match self.engine.eval_rule(path.clone()) {
                    Ok(Value::Bool(true)) => None,
                    Ok(Value::Undefined) => Some("undefined: a condition in the test was false".to_owned()),
                    Ok(other) => Some(format!("evaluated to {other}, not true")),
                    Err(err) => Some(format!("error: {err:#}")),
                };
                outcomes.push(TestOutcome {
                    file: file.path.clone(),
                    rule: path,
                    failure,
                });
            }
        }
        outcomes
    }

    /// Evaluates every `deny` rule with `{"objects": [...]}` of the set as input.
    pub fn evaluate(&mut self, set: &ManifestSet) -> Result<Vec<Denial>, Error> {
        let input = Value::from_json_str(&set.to_input().to_string()).map_err(|err| Error::Manifest {
            path: set.origin.clone(),
            message: format!("{err:#}"),
        })?;
        self.engine.set_input(input);
        let mut denials = BTreeSet::new();
        for rule in &self.deny_rules {
            let value = self.engine.eval_rule(rule.clone()).map_err(|err| Error::Eval {
                rule: rule.clone(),
                message: format!("{err:#}"),
            })?;
            if value == Value::Undefined {
                continue;
            }
            let shape_err = || Error::DenyShape {
                rule: rule.clone(),
                got: value.to_string(),
            };
            for msg in value.as_set().map_err(|_| shape_err())?.iter() {
                let message = msg.as_string().map_err(|_| shape_err())?.to_string();
                denials.insert(Denial {
                    rule: rule.clone(),
                    message,
                });
            }
        }
        Ok(denials.into_iter().collect())
    }
}

/// Adds every `.rego` file under `dir` to `out`.
fn collect_rego(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), Error> {
    let read_err = |source| Error::Read {
        path: dir.to_path_buf(),
        source,
    };
    for entry in std::fs::read_dir(dir).map_err(read_err)? {
        let path = entry.map_err(read_err)?.path();
        if path.is_dir() {
            collect_rego(&path, out)?;
        } else if path.extension().is_some_and(|ext| ext == "rego") {
            out.push(path);
        }
    }
    Ok(())
}

/// Names of the rules declared at the start of a line (`name if`, `name contains`, `name :=`, …).
fn rule_heads(text: &str) -> BTreeSet<String> {
    text.lines()
        .filter_map(|line| {
            let name: String = line
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            let rest = &line[name.len()..];
            let is_head = !name.is_empty()
                && !matches!(name.as_str(), "package" | "import" | "default")
                && (rest.starts_with(' ') || rest.starts_with('(') || rest.starts_with('[') || rest.is_empty());
            is_head.then_some(name)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_heads_finds_rules_and_skips_keywords_and_bodies() {
        let heads = rule_heads(
            "package p\n\nimport rego.v1\n\ndeny contains msg if {\n\tx := 1\n}\n\ntest_a if true\nhelper(x) := x\n",
        );
        let want: BTreeSet<String> = ["deny", "test_a", "helper"].iter().map(|s| (*s).to_owned()).collect();
        assert_eq!(heads, want);
    }

    #[test]
    fn deny_and_tests_evaluate_on_a_tiny_policy() {
        let dir = std::env::temp_dir().join(format!("deploy-check-policy-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        std::fs::write(
            dir.join("p.rego"),
            "package t.p\n\nimport rego.v1\n\ndeny contains msg if {\n\tsome o in input.objects\n\to.kind == \"Bad\"\n\tmsg := sprintf(\"%s is bad\", [o.kind])\n}\n",
        )
        .expect("write");
        std::fs::write(
            dir.join("p_test.rego"),
            "package t.p_test\n\nimport rego.v1\n\nimport data.t.p\n\ntest_bad_is_denied if {\n\t\"Bad is bad\" in p.deny with input as {\"objects\": [{\"kind\": \"Bad\"}]}\n}\n\ntest_fails if {\n\tcount(p.deny) == 1 with input as {\"objects\": []}\n}\n",
        )
        .expect("write");
        let mut set = PolicySet::load(&dir).expect("load");
        assert_eq!(set.deny_rules(), ["data.t.p.deny"]);
        let outcomes = set.run_tests();
        let failed: Vec<_> = outcomes
            .iter()
            .filter(|o| o.failure.is_some())
            .map(|o| o.rule.as_str())
            .collect();
        assert_eq!(failed, ["data.t.p_test.test_fails"]);
        let manifests = ManifestSet {
            origin: dir.clone(),
            objects: vec![serde_json::json!({"kind": "Bad"}), serde_json::json!({"kind": "Good"})],
        };
        let denials = set.evaluate(&manifests).expect("evaluate");
        assert_eq!(denials.len(), 1);
        assert_eq!(denials[0].message, "Bad is bad");
        std::fs::remove_dir_all(&dir).ok();
    }
}
