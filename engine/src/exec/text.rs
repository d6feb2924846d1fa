//! A plan's result written as JSON text straight from the rows, for hosts that hand the result on
//! as text (the native addon): no `serde_json` tree of the result is built, and the JSON the
//! database built for relations is read once, in a single pass that writes each nested value as
//! it goes, instead of being parsed into a tree, taken apart and serialized again. The text is the
//! tree [`super::decode`] gives, serialized: scalars go through the same conversions, and anything
//! this pass does not write itself (nested rows of more than [`CHUNK`] fields, repeated names,
//! JSON it cannot read) is handed to the tree decoder, which reports the same errors as before.

use super::decode::{decode_column, decode_nested, decode_row, decode_scalar};
use super::driver::DbValue;
use crate::error::{Error, Result};
use crate::plan::aggregate::AggColumn;
use crate::plan::shape::{CHUNK, OutField, OutKind, RowShape};
use crate::schema::Schema;
use crate::value::Value;
use serde::de::{self, DeserializeSeed, IgnoredAny, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::Value as Json;
use std::fmt;
use std::io::Write;

fn json(out: &mut Vec<u8>, v: &Json) {
    // Writing to a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, v);
}

fn string(out: &mut Vec<u8>, s: &str) {
    let _ = serde_json::to_writer(&mut *out, s);
}

fn key(out: &mut Vec<u8>, name: &str) {
    string(out, name);
    out.push(b':');
}

/// A scalar as [`Value::to_json`] serializes it.
fn value(out: &mut Vec<u8>, v: &Value) {
    match v {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Boolean(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Value::Int(i) => {
            let _ = write!(out, "{i}");
        }
        Value::String(s) | Value::Enum(s) => string(out, s),
        other => json(out, &other.to_json()),
    }
}

fn distinct<'a>(names: impl Iterator<Item = &'a str> + Clone) -> bool {
    names.clone().enumerate().all(|(i, n)| names.clone().skip(i + 1).all(|m| m != n))
}

fn distinct_fields(shape: &RowShape) -> bool {
    distinct(shape.fields.iter().map(|f| f.name.as_str()))
}

/// A top-level row, one column per field.
pub fn write_row(schema: &Schema, shape: &RowShape, row: &[DbValue], out: &mut Vec<u8>) -> Result<()> {
    if !distinct_fields(shape) {
        json(out, &decode_row(schema, shape, row)?);
        return Ok(());
    }
    out.push(b'{');
    for (i, (field, v)) in shape.fields.iter().zip(row).enumerate() {
        if i > 0 {
            out.push(b',');
        }
        key(out, &field.name);
        column(schema, field, v, out)?;
    }
    out.push(b'}');
    Ok(())
}

fn column(schema: &Schema, field: &OutField, v: &DbValue, out: &mut Vec<u8>) -> Result<()> {
    match (&field.kind, v) {
        (OutKind::Scalar { list: true, .. }, DbValue::Null) => out.extend_from_slice(b"[]"),
        (_, DbValue::Null) => out.extend_from_slice(b"null"),
        (OutKind::Scalar { ty, list: false }, v) => value(out, &decode_scalar(schema, ty, v)?),
        (kind, DbValue::Text(text)) => {
            let start = out.len();
            let mut de = serde_json::Deserializer::from_str(text);
            let written = Nested { schema, kind, out: &mut *out }.deserialize(&mut de).and_then(|()| de.end());
            if written.is_err() {
                // Whatever the single pass does not take, the tree decoder decodes (or rejects).
                out.truncate(start);
                json(out, &decode_column(schema, field, v)?);
            }
        }
        _ => json(out, &decode_column(schema, field, v)?),
    }
    Ok(())
}

/// A nested value of the JSON the database built, written as the tree decoder would give it.
struct Nested<'a> {
    schema: &'a Schema,
    kind: &'a OutKind,
    out: &'a mut Vec<u8>,
}

impl<'de> DeserializeSeed<'de> for Nested<'_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> std::result::Result<(), D::Error> {
        match self.kind {
            // Scalars are small: parsed and converted exactly as the tree decoder does.
            OutKind::Scalar { .. } => {
                let v = Json::deserialize(d)?;
                let decoded = decode_nested(self.schema, self.kind, v).map_err(|_| de::Error::custom("scalar"))?;
                json(self.out, &decoded);
                Ok(())
            }
            _ => d.deserialize_any(self),
        }
    }
}

impl<'de> Visitor<'de> for Nested<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a nested row, list of rows or list of counts")
    }

    fn visit_unit<E: de::Error>(self) -> std::result::Result<(), E> {
        self.out.extend_from_slice(b"null");
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> std::result::Result<(), A::Error> {
        let Nested { schema, kind, out } = self;
        match kind {
            OutKind::ToOne(shape) => row(schema, shape, seq, out),
            OutKind::ToMany(shape) => {
                out.push(b'[');
                let mut first = true;
                while seq.next_element_seed(Row { schema, shape, out: &mut *out, first: &mut first })?.is_some() {}
                out.push(b']');
                Ok(())
            }
            OutKind::Count(names) => {
                if !distinct(names.iter().map(String::as_str)) {
                    return Err(de::Error::custom("repeated names"));
                }
                out.push(b'{');
                for (i, name) in names.iter().enumerate() {
                    let Some(count) = seq.next_element::<Json>()? else { break };
                    if i > 0 {
                        out.push(b',');
                    }
                    key(out, name);
                    json(out, &count);
                }
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                out.push(b'}');
                Ok(())
            }
            OutKind::Scalar { .. } => Err(de::Error::custom("scalar")),
        }
    }
}

/// One row of a to-many relation's list, after a comma unless it is the first.
struct Row<'a, 'b> {
    schema: &'a Schema,
    shape: &'a RowShape,
    out: &'a mut Vec<u8>,
    first: &'b mut bool,
}

impl<'de> DeserializeSeed<'de> for Row<'_, '_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> std::result::Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for Row<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a nested row")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> std::result::Result<(), A::Error> {
        if !*self.first {
            self.out.push(b',');
        }
        *self.first = false;
        row(self.schema, self.shape, seq, self.out)
    }
}

/// A nested row: a JSON array of its fields, as an object.
fn row<'de, A: SeqAccess<'de>>(schema: &Schema, shape: &RowShape, mut seq: A, out: &mut Vec<u8>) -> std::result::Result<(), A::Error> {
    if shape.fields.len() > CHUNK || !distinct_fields(shape) {
        return Err(de::Error::custom("left to the tree decoder"));
    }
    out.push(b'{');
    for (i, field) in shape.fields.iter().enumerate() {
        if seq.next_element_seed(Field { schema, field, out: &mut *out, comma: i > 0 })?.is_none() {
            break;
        }
    }
    while seq.next_element::<IgnoredAny>()?.is_some() {}
    out.push(b'}');
    Ok(())
}

/// One field of a nested row, written only when the row has a value for it.
struct Field<'a> {
    schema: &'a Schema,
    field: &'a OutField,
    out: &'a mut Vec<u8>,
    comma: bool,
}

impl<'de> DeserializeSeed<'de> for Field<'_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> std::result::Result<(), D::Error> {
        if self.comma {
            self.out.push(b',');
        }
        key(self.out, &self.field.name);
        Nested { schema: self.schema, kind: &self.field.kind, out: self.out }.deserialize(d)
    }
}

/// Where an aggregate row's columns go: a grouped field or bare `_count` at the top, or a key
/// (`_sum`, ...) with the columns under it. `None` when names repeat (the tree decoder's
/// replace-in-place rules then apply).
enum Slot<'a> {
    Top(&'a str, usize),
    Keyed(&'a str, Vec<usize>),
}

fn layout(columns: &[AggColumn]) -> Option<Vec<Slot<'_>>> {
    let mut slots: Vec<Slot> = Vec::new();
    let taken = |slots: &[Slot], name: &str| slots.iter().any(|s| matches!(s, Slot::Top(n, _) | Slot::Keyed(n, _) if *n == name));
    for (i, c) in columns.iter().enumerate() {
        match (c.key, c.name.is_empty()) {
            (None, _) => {
                if taken(&slots, &c.name) {
                    return None;
                }
                slots.push(Slot::Top(&c.name, i));
            }
            (Some(k), true) => {
                if taken(&slots, k) {
                    return None;
                }
                slots.push(Slot::Top(k, i));
            }
            (Some(k), false) => match slots.iter_mut().find(|s| matches!(s, Slot::Top(n, _) | Slot::Keyed(n, _) if *n == k)) {
                Some(Slot::Keyed(_, cols)) => {
                    if cols.iter().any(|&j| columns[j].name == c.name) {
                        return None;
                    }
                    cols.push(i);
                }
                Some(Slot::Top(..)) => return None,
                None => slots.push(Slot::Keyed(k, vec![i])),
            },
        }
    }
    Some(slots)
}

fn aggregate_row(schema: &Schema, columns: &[AggColumn], slots: Option<&[Slot]>, row: &[DbValue], out: &mut Vec<u8>) -> Result<()> {
    let Some(slots) = slots.filter(|_| row.len() >= columns.len()) else {
        json(out, &super::aggregate_row(schema, columns, row)?);
        return Ok(());
    };
    let cell = |i: usize, out: &mut Vec<u8>| -> Result<()> {
        value(out, &decode_scalar(schema, &columns[i].ty, &row[i])?);
        Ok(())
    };
    out.push(b'{');
    for (n, slot) in slots.iter().enumerate() {
        if n > 0 {
            out.push(b',');
        }
        match slot {
            Slot::Top(name, i) => {
                key(out, name);
                cell(*i, out)?;
            }
            Slot::Keyed(k, cols) => {
                key(out, k);
                out.push(b'{');
                for (m, &i) in cols.iter().enumerate() {
                    if m > 0 {
                        out.push(b',');
                    }
                    key(out, &columns[i].name);
                    cell(i, out)?;
                }
                out.push(b'}');
            }
        }
    }
    out.push(b'}');
    Ok(())
}

/// The result of a plan's output variable as JSON text: the text of [`super::output`]'s value.
pub(super) fn output(schema: &Schema, kind: &crate::plan::OutputKind, var: super::Var) -> Result<String> {
    use crate::plan::OutputKind;
    let mut out = Vec::new();
    match kind {
        OutputKind::Many { shape, reverse } => {
            out.push(b'[');
            let mut write = |(n, r): (usize, &Vec<DbValue>)| -> Result<()> {
                if n > 0 {
                    out.push(b',');
                }
                write_row(schema, shape, r, &mut out)
            };
            if *reverse {
                var.rows.iter().rev().enumerate().try_for_each(&mut write)?;
            } else {
                var.rows.iter().enumerate().try_for_each(&mut write)?;
            }
            out.push(b']');
        }
        OutputKind::One { shape, or_throw: _ } if !var.rows.is_empty() => write_row(schema, shape, &var.rows[0], &mut out)?,
        OutputKind::Groups { columns } => {
            let slots = layout(columns);
            out.push(b'[');
            for (n, r) in var.rows.iter().enumerate() {
                if n > 0 {
                    out.push(b',');
                }
                aggregate_row(schema, columns, slots.as_deref(), r, &mut out)?;
            }
            out.push(b']');
        }
        OutputKind::Aggregate { columns } if !var.rows.is_empty() => {
            aggregate_row(schema, columns, layout(columns).as_deref(), &var.rows[0], &mut out)?
        }
        // Small results, and the errors of an empty one: the tree, serialized.
        _ => return super::output(schema, kind, var).map(|v| v.to_string()),
    }
    String::from_utf8(out).map_err(|_| Error::internal("a result was not valid UTF-8"))
}
