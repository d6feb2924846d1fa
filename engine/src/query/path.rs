//! JSON paths for error messages (`args.where.OR[1].email`), built on the stack while a request is
//! walked and rendered only when an error is raised.

use crate::error::{Error, codes};
use std::fmt;

#[derive(Clone, Copy)]
enum Seg<'a> {
    Root(&'a str),
    Key(&'a str),
    Index(usize),
}

#[derive(Clone, Copy)]
pub struct Path<'a> {
    parent: Option<&'a Path<'a>>,
    seg: Seg<'a>,
}

impl<'a> Path<'a> {
    pub fn root(name: &'a str) -> Path<'a> {
        Path { parent: None, seg: Seg::Root(name) }
    }

    pub fn key(&'a self, key: &'a str) -> Path<'a> {
        Path { parent: Some(self), seg: Seg::Key(key) }
    }

    pub fn index(&'a self, i: usize) -> Path<'a> {
        Path { parent: Some(self), seg: Seg::Index(i) }
    }

    pub fn error(&self, code: &'static str, message: impl fmt::Display) -> Error {
        Error::at(code, &self.to_string(), message)
    }

    pub fn unknown(&self, what: &str, name: &str, on: &str, candidates: &[&str]) -> Error {
        let mut msg = format!("unknown {what} \"{}\"{on}", crate::error::excerpt(name));
        if let Some(s) = suggest(name, candidates) {
            msg.push_str(&format!(" — did you mean \"{s}\"?"));
        } else if !candidates.is_empty() && candidates.len() <= 12 {
            msg.push_str(&format!("; expected one of: {}", candidates.join(", ")));
        }
        self.error(codes::UNKNOWN_ARGUMENT, msg)
    }
}

impl fmt::Display for Path<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(p) = self.parent {
            p.fmt(f)?;
        }
        match self.seg {
            Seg::Root(name) => f.write_str(name),
            Seg::Key(k) => write!(f, ".{}", crate::error::excerpt(k)),
            Seg::Index(i) => write!(f, "[{i}]"),
        }
    }
}

/// The longest name a suggestion is looked for.
pub const SUGGEST_MAX_LEN: usize = 64;

/// The candidate closest to `name`, if it is close enough to be a likely typo.
///
/// Only names of at most [`SUGGEST_MAX_LEN`] characters are compared (edit distance costs the
/// product of the two lengths), and only with candidates of a similar length.
pub fn suggest<'c>(name: &str, candidates: &[&'c str]) -> Option<&'c str> {
    if name.len() > SUGGEST_MAX_LEN * 4 || name.chars().count() > SUGGEST_MAX_LEN {
        return None;
    }
    let lower = name.to_lowercase();
    let len = lower.chars().count();
    candidates
        .iter()
        .filter(|c| c.chars().count().abs_diff(len) <= (c.len().max(len) / 3).max(2))
        .map(|c| (strsim::osa_distance(&lower, &c.to_lowercase()), *c))
        .filter(|(d, c)| *d <= (c.len().max(name.len()) / 3).max(2))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_render_with_keys_and_indexes() {
        let root = Path::root("args");
        let w = root.key("where");
        let or = w.key("OR");
        let i = or.index(1);
        let e = i.key("email");
        assert_eq!(e.to_string(), "args.where.OR[1].email");
    }

    #[test]
    fn suggestions_catch_typos_only() {
        assert_eq!(suggest("emial", &["id", "email", "name"]), Some("email"));
        assert_eq!(suggest("zzzzzz", &["id", "email", "name"]), None);
        assert_eq!(suggest("Email", &["email"]), Some("email"));
    }
}
