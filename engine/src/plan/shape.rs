//! Result shapes: how the columns of a row (and the JSON arrays of nested rows) map back to
//! the fields of the result objects. Built by the planner next to the SQL, read by the executor.

use crate::schema::ScalarType;

/// One result object: the fields in output order. At the top level field `i` is column `i`; in
/// nested JSON it is element `i` of the row array (arrays of more than [`CHUNK`] elements are
/// split into chunks because PostgreSQL functions take at most 100 arguments).
#[derive(Clone, Debug, PartialEq)]
pub struct RowShape {
    pub fields: Vec<OutField>,
}

pub const CHUNK: usize = 100;

#[derive(Clone, Debug, PartialEq)]
pub struct OutField {
    pub name: String,
    pub kind: OutKind,
}

#[derive(Clone, Debug, PartialEq)]
pub enum OutKind {
    /// A scalar column; lists arrive as JSON arrays.
    Scalar { ty: ScalarType, list: bool },
    /// A to-one relation: a JSON row array or null.
    ToOne(Box<RowShape>),
    /// A to-many relation: a JSON array of row arrays, already ordered; `reverse` when a negative
    /// `take` read it backwards.
    ToMany(Box<RowShape>),
    /// `_count`: a JSON array of counts, one per relation name.
    Count(Vec<String>),
}
