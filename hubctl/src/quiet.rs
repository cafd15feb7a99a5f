//! [`Quiet`], the value parser of every argument that could hold a pasted token: its errors never repeat the
//! value, as clap's own do.

use std::ffi::OsStr;

use clap::Arg;
use clap::builder::TypedValueParser;
use clap::error::ErrorKind;

use crate::HubctlError;

/// A value parser whose errors never repeat the value (clap's own do), since a pasted token may be in it.
#[derive(Clone, Copy)]
pub(crate) struct Quiet<T>(pub(crate) fn(&str) -> Result<T, HubctlError>);

impl<T: Clone + Send + Sync + 'static> TypedValueParser for Quiet<T> {
    type Value = T;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&Arg>,
        value: &OsStr,
    ) -> Result<T, clap::Error> {
        let name = arg.map_or_else(|| "a value".to_owned(), |a| format!("'{a}'"));
        let fail = |why: &dyn std::fmt::Display| {
            cmd.clone()
                .error(ErrorKind::ValueValidation, format!("invalid {name}: {why}"))
        };
        let text = value.to_str().ok_or_else(|| fail(&"not valid UTF-8"))?;
        (self.0)(text).map_err(|error| fail(&error))
    }
}
