//! The stack's SCRAM users: names, mechanisms, random passwords and their password files.

use std::{
    fmt,
    path::{Path, PathBuf},
};

use rand::{Rng as _, distr::Alphanumeric};

use crate::{DevstackError, KafkaClientSettings, fsutil};

/// Length of generated passwords (alphanumeric, so no quoting issues anywhere).
const PASSWORD_LEN: usize = 32;

/// SCRAM mechanisms nisshi can store credentials for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScramMechanism {
    /// SCRAM-SHA-256.
    Sha256,
    /// SCRAM-SHA-512.
    Sha512,
}

impl ScramMechanism {
    /// The value of nisshi's `--mechanism` flag.
    pub fn nisshi_flag(self) -> &'static str {
        match self {
            Self::Sha256 => "scram256",
            Self::Sha512 => "scram512",
        }
    }

    /// The librdkafka `sasl.mechanism` value.
    pub fn kafka_name(self) -> &'static str {
        match self {
            Self::Sha256 => "SCRAM-SHA-256",
            Self::Sha512 => "SCRAM-SHA-512",
        }
    }
}

/// A SCRAM user of the stack.
#[derive(Clone)]
pub struct StackUser {
    /// SASL user name.
    pub name: String,
    /// The one mechanism its credential exists for.
    pub mechanism: ScramMechanism,
    /// File (mode 0600) holding the password, without a trailing newline.
    pub password_file: PathBuf,
    password: String,
}

impl fmt::Debug for StackUser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StackUser")
            .field("name", &self.name)
            .field("mechanism", &self.mechanism)
            .field("password_file", &self.password_file)
            .finish_non_exhaustive()
    }
}

impl StackUser {
    /// A user with a fresh random password, written to `DIR/NAME.password` (0600).
    pub(crate) fn generate(dir: &Path, name: &str, mechanism: ScramMechanism) -> Result<Self, DevstackError> {
        let password: String = rand::rng()
            .sample_iter(Alphanumeric)
            .take(PASSWORD_LEN)
            .map(char::from)
            .collect();
        let password_file = dir.join(format!("{name}.password"));
        fsutil::write_secret(&password_file, password.as_bytes())?;
        Ok(Self {
            name: name.to_owned(),
            mechanism,
            password_file,
            password,
        })
    }

    /// The password (for building clients in tests).
    pub fn password(&self) -> &str {
        &self.password
    }

    /// Client settings for this user against `bootstrap`, trusting `ca_file`.
    pub fn client_settings(&self, bootstrap: &str, ca_file: &Path) -> KafkaClientSettings {
        KafkaClientSettings {
            bootstrap: bootstrap.to_owned(),
            mechanism: self.mechanism,
            username: self.name.clone(),
            password: self.password.clone(),
            ca_file: ca_file.to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_passwords_are_long_random_and_stored() -> Result<(), Box<dyn std::error::Error>> {
        let dir = std::env::temp_dir().join(format!("devstack-users-{}", std::process::id()));
        let dir = fsutil::recreate_dir(&dir)?;
        let a = StackUser::generate(&dir, "a", ScramMechanism::Sha512)?;
        let b = StackUser::generate(&dir, "b", ScramMechanism::Sha256)?;
        assert_eq!(a.password().len(), PASSWORD_LEN);
        assert_ne!(a.password(), b.password());
        assert_eq!(std::fs::read_to_string(&a.password_file)?, a.password());
        assert!(!format!("{a:?}").contains(a.password()));
        std::fs::remove_dir_all(&dir)?;
        Ok(())
    }
}
