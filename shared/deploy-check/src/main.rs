//! `deploy-check`: runs the Rego policy tests or evaluates the policies over manifests.
//!
//! ```text
//! cargo run -p deploy-check -- test                       # every test_* rule in policies/
//! cargo run -p deploy-check -- deny k8s/ my-render.yaml   # deny messages, exit 1 if any
//! ```
//! Each file, or each folder of `*.yaml` files, is one manifest set (`input.objects`).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use deploy_check::{PolicySet, load_manifest_dir, load_manifest_file, repo_root};

/// Evaluate the paystream OPA policies with the regorus Rego interpreter.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Cli {
    /// Folder holding the policies (every `.rego` below it).
    #[arg(long, env = "PAYSTREAM_POLICIES_DIR", default_value_os_t = repo_root().join("policies"))]
    policies: PathBuf,
    /// What to do.
    #[command(subcommand)]
    command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
enum Command {
    /// Run every `test_*` rule of every `*_test.rego` file.
    Test,
    /// Print the deny messages for each manifest file or folder; exit 1 when there are any.
    Deny {
        /// Manifest files (multi-document YAML) or folders of `*.yaml` files.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
    },
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(2)
        }
    }
}

/// Runs the command; `Ok(false)` means a test failed or a manifest was denied.
fn run(cli: Cli) -> anyhow::Result<bool> {
    let mut policies = PolicySet::load(&cli.policies).context("load policies")?;
    match cli.command {
        Command::Test => {
            let outcomes = policies.run_tests();
            let failed = outcomes.iter().filter(|o| o.failure.is_some()).count();
            for o in &outcomes {
                match &o.failure {
                    None => println!("PASS {}", o.rule),
                    Some(why) => println!("FAIL {} ({}): {why}", o.rule, o.file.display()),
                }
            }
            println!("{} passed, {failed} failed", outcomes.len() - failed);
            Ok(failed == 0)
        }
        Command::Deny { paths } => {
            let mut clean = true;
            for path in paths {
                let set = if path.is_dir() {
                    load_manifest_dir(&path)
                } else {
                    load_manifest_file(&path)
                }?;
                let denials = policies.evaluate(&set)?;
                println!(
                    "{}: {} objects, {} denials",
                    path.display(),
                    set.objects.len(),
                    denials.len()
                );
                for d in &denials {
                    println!("  {}", d.message);
                }
                clean &= denials.is_empty();
            }
            Ok(clean)
        }
    }
}
