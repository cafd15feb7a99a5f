//! `--token-file`: the one way a token reaches the disk, and only when asked. The file is created new, readable
//! by its owner only, before the credential exists, so a bad path fails before anything is created.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use crate::HubctlError;
use crate::scope::looks_like_token;

/// A new, still empty token file. Dropped without [`TokenFile::write_token`], it is removed again.
#[derive(Debug)]
pub struct TokenFile {
    path: PathBuf,
    file: Option<File>,
}

impl TokenFile {
    /// Creates `path` as a new empty file with mode 0600 (on Unix), refusing to replace an existing file.
    pub fn reserve(path: &Path) -> Result<Self, HubctlError> {
        let mut options = OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        match options.open(path) {
            Ok(file) => Ok(Self {
                path: path.to_owned(),
                file: Some(file),
            }),
            Err(error) if error.kind() == io::ErrorKind::AlreadyExists => {
                Err(HubctlError::TokenFileExists(path.to_owned()))
            }
            Err(source) => Err(HubctlError::TokenFileCreate {
                path: path.to_owned(),
                source,
            }),
        }
    }

    /// Writes `token` and a newline, flushed to disk, and keeps the file.
    pub fn write_token(mut self, token: &str) -> Result<PathBuf, HubctlError> {
        let written = match self.file.take() {
            Some(mut file) => writeln!(file, "{token}").and_then(|()| file.sync_all()),
            None => Err(io::Error::other("the token file was already written")),
        };
        match written {
            Ok(()) => Ok(std::mem::take(&mut self.path)),
            Err(source) => {
                let _ = fs::remove_file(&self.path);
                Err(HubctlError::TokenFileWrite {
                    path: std::mem::take(&mut self.path),
                    source,
                })
            }
        }
    }
}

impl Drop for TokenFile {
    fn drop(&mut self) {
        if self.file.take().is_some() {
            let _ = fs::remove_file(&self.path);
        }
    }
}

/// Parses a path argument, refusing a token pasted in its place (the error does not repeat it).
pub fn parse_path(raw: &str) -> Result<PathBuf, HubctlError> {
    if looks_like_token(raw.trim()) {
        return Err(HubctlError::ArgumentLooksLikeToken("path"));
    }
    if raw.is_empty() {
        return Err(HubctlError::EmptyPath);
    }
    Ok(PathBuf::from(raw))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_lands_in_a_new_owner_only_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("device.token");
        let reserved = TokenFile::reserve(&path).expect("new file");
        assert!(path.is_file());
        let kept = reserved.write_token("tdev_x").expect("written");
        assert_eq!(kept, path);
        assert_eq!(fs::read_to_string(&path).expect("read"), "tdev_x\n");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&path).expect("meta").permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn existing_files_are_never_overwritten() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("taken");
        fs::write(&path, "keep me").expect("write");
        let error = TokenFile::reserve(&path).expect_err("exists");
        assert!(matches!(error, HubctlError::TokenFileExists(_)));
        assert_eq!(fs::read_to_string(&path).expect("read"), "keep me");
        let missing_dir = dir.path().join("no/such/dir/t");
        assert!(matches!(
            TokenFile::reserve(&missing_dir),
            Err(HubctlError::TokenFileCreate { .. })
        ));
        let unused = dir.path().join("unused");
        drop(TokenFile::reserve(&unused).expect("new file"));
        assert!(!unused.exists(), "an unused reservation is removed");
    }

    #[test]
    fn a_token_is_not_a_path() {
        let token =
            telemetry_protocol::generate_token(telemetry_protocol::TokenKind::Admin, |b| b.fill(8));
        let error = parse_path(&token).expect_err("token").to_string();
        assert!(error.contains("bearer token") && !error.contains(&token[5..]));
        assert_eq!(parse_path("a/b").expect("path"), PathBuf::from("a/b"));
    }
}
