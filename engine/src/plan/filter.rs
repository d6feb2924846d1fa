//! Filters -> SQL boolean expressions on a table alias. Every value is bound; `LIKE` patterns are
//! escaped so `%` and `_` in user input match themselves (Prisma does not escape them).

use super::Planner;
use crate::query::{Cmp, Filter, JsonCond, LikeKind, ListCond, NullKind, RelationCond, ScalarCond};
use crate::schema::{Arity, ModelId, NativeType, ScalarField, ScalarType};
use crate::sql::{self, ast::BinaryOperator, ast::Expr};
use crate::value::Value;

impl Planner<'_> {
    pub(crate) fn filter_expr(&mut self, model: ModelId, alias: &str, filter: &Filter) -> Expr {
        match filter {
            Filter::Const(b) => sql::bool_lit(*b),
            Filter::And(items) => {
                let parts: Vec<Expr> = items
                    .iter()
                    .filter(|f| **f != Filter::Const(true))
                    .map(|f| self.filter_expr(model, alias, f))
                    .collect();
                sql::and(parts)
            }
            Filter::Or(items) => {
                let parts = items.iter().map(|f| self.filter_expr(model, alias, f)).collect();
                sql::or(parts)
            }
            Filter::Not(inner) => sql::not(self.filter_expr(model, alias, inner)),
            Filter::Scalar { field, cond } => {
                let m = self.schema.model(model);
                let f = m.field(*field);
                let Some(s) = f.as_scalar() else { return sql::bool_lit(false) };
                let column = sql::col(alias, &s.db_name);
                self.scalar_cond(column, s, f.arity, cond)
            }
            Filter::Relation { field, cond, filter } => self.relation_filter(model, alias, *field, *cond, filter),
        }
    }

    pub(super) fn scalar_cond(&mut self, column: Expr, s: &ScalarField, arity: Arity, cond: &ScalarCond) -> Expr {
        match cond {
            ScalarCond::IsNull => sql::is_null(column),
            ScalarCond::Cmp { op, value, insensitive } => {
                let p = self.bind_for(s, value.clone());
                if *insensitive && s.ty == ScalarType::String {
                    sql::binop(sql::func("LOWER", vec![column]), cmp_op(*op), sql::func("LOWER", vec![p]))
                } else {
                    sql::binop(column, cmp_op(*op), p)
                }
            }
            ScalarCond::In { values, insensitive } => {
                if *insensitive && s.ty == ScalarType::String {
                    let lowered = sql::func("LOWER", vec![column]);
                    let parts = values
                        .iter()
                        .map(|v| {
                            let p = self.params.bind(v.clone());
                            sql::eq(lowered.clone(), sql::func("LOWER", vec![p]))
                        })
                        .collect();
                    return sql::or(parts);
                }
                if self.mysql() {
                    let list = values
                        .iter()
                        .map(|v| {
                            let v = self.time_part(s, v.clone());
                            self.params.bind(v)
                        })
                        .collect();
                    return sql::in_list(column, list);
                }
                let p = self.bind_list(s, values.clone());
                sql::any(column, BinaryOperator::Eq, p)
            }
            ScalarCond::Like { kind, value, insensitive } => {
                let pattern = like_pattern(*kind, value);
                let p = self.params.bind(Value::String(pattern));
                if self.mysql() {
                    return if *insensitive {
                        sql::like(sql::func("LOWER", vec![column]), sql::func("LOWER", vec![p]), false, false)
                    } else {
                        sql::like(column, p, false, false)
                    };
                }
                let target = if matches!(s.native_type.as_ref().map(|n| n.name.as_str()), Some("Uuid")) {
                    sql::cast(column, "text")
                } else {
                    column
                };
                sql::like(target, p, *insensitive, false)
            }
            ScalarCond::Not(conds) => {
                let parts = conds.iter().map(|c| self.scalar_cond(column.clone(), s, arity, c)).collect();
                sql::not(sql::and(parts))
            }
            ScalarCond::List(l) if self.mysql() => self.mysql_list_cond(column, l),
            ScalarCond::Json { path, cond } if self.mysql() => self.mysql_json_cond(column, path, cond),
            ScalarCond::List(l) => self.list_cond(column, s, l),
            ScalarCond::Json { path, cond } => {
                let target = self.json_target(column, s.native_type.as_ref(), path);
                self.json_cond(target, path.is_empty(), cond)
            }
        }
    }

    /// Binds a value for a column, adding the cast PostgreSQL needs to infer types that the
    /// comparison alone does not fix (decimals given as text, JSON).
    fn bind_for(&mut self, s: &ScalarField, v: Value) -> Expr {
        let is_json = s.ty == ScalarType::Json;
        if is_json && self.mysql() {
            self.refuse("a JSON filter");
        }
        let v = self.time_part(s, v);
        let p = self.params.bind(v);
        if is_json { sql::cast(p, "jsonb") } else { p }
    }

    /// On MySQL a `TIME` column compared with a DATETIME value is compared as a DATETIME of
    /// today's date; the value's time of day alone compares as PostgreSQL's `time` does.
    fn time_part(&self, s: &ScalarField, v: Value) -> Value {
        let is_time = matches!(s.native_type.as_ref().map(|n| n.name.as_str()), Some("Time" | "Timetz"));
        match v {
            Value::DateTime(d) if is_time && self.mysql() => Value::String(d.format("%H:%M:%S%.6f").to_string()),
            other => other,
        }
    }

    fn bind_list(&mut self, _s: &ScalarField, values: Vec<Value>) -> Expr {
        self.params.bind(Value::List(values))
    }

    fn list_cond(&mut self, column: Expr, s: &ScalarField, cond: &ListCond) -> Expr {
        match cond {
            ListCond::Has(v) => {
                let p = self.params.bind(v.clone());
                sql::any(p, BinaryOperator::Eq, column)
            }
            ListCond::HasEvery(vs) => {
                let p = self.bind_list(s, vs.clone());
                sql::binop(column, BinaryOperator::AtArrow, p)
            }
            ListCond::HasSome(vs) => {
                let p = self.bind_list(s, vs.clone());
                sql::binop(column, BinaryOperator::PGOverlap, p)
            }
            ListCond::IsEmpty(empty) => {
                let len = sql::func("COALESCE", vec![sql::func("cardinality", vec![column]), sql::int_lit(0)]);
                if *empty {
                    sql::eq(len, sql::int_lit(0))
                } else {
                    sql::binop(len, BinaryOperator::Gt, sql::int_lit(0))
                }
            }
            ListCond::Equals(vs) => {
                let p = self.bind_list(s, vs.clone());
                sql::eq(column, p)
            }
        }
    }

    /// A scalar list filter on MySQL, where lists are JSON arrays: `has` is `JSON_CONTAINS` of a
    /// one-element array, `equals` compares length and each element in order.
    fn mysql_list_cond(&mut self, column: Expr, cond: &ListCond) -> Expr {
        let contains = |p: &mut Self, v: &Value| {
            let b = p.params.bind(v.clone());
            sql::func("JSON_CONTAINS", vec![column.clone(), sql::func("JSON_ARRAY", vec![b])])
        };
        match cond {
            ListCond::Has(v) => contains(self, v),
            ListCond::HasEvery(vs) if vs.is_empty() => sql::is_not_null(column),
            ListCond::HasEvery(vs) => {
                let parts = vs.iter().map(|v| contains(self, v)).collect();
                sql::and(parts)
            }
            ListCond::HasSome(vs) => {
                let parts = vs.iter().map(|v| contains(self, v)).collect();
                sql::or(parts)
            }
            ListCond::IsEmpty(empty) => {
                let len = sql::func("COALESCE", vec![sql::func("JSON_LENGTH", vec![column]), sql::int_lit(0)]);
                if *empty { sql::eq(len, sql::int_lit(0)) } else { sql::binop(len, BinaryOperator::Gt, sql::int_lit(0)) }
            }
            ListCond::Equals(vs) => {
                let mut parts = vec![sql::eq(sql::func("JSON_LENGTH", vec![column.clone()]), sql::int_lit(vs.len() as i64))];
                for (i, v) in vs.iter().enumerate() {
                    let element = sql::func("JSON_EXTRACT", vec![column.clone(), sql::string_lit(&format!("$[{i}]"))]);
                    let b = self.params.bind(v.clone());
                    parts.push(sql::eq(sql::func("JSON_UNQUOTE", vec![element]), b));
                }
                sql::and(parts)
            }
        }
    }

    /// The JSON value a filter looks at: the column as `jsonb`, or the value at a path in it.
    fn json_target(&mut self, column: Expr, native: Option<&NativeType>, path: &[String]) -> Expr {
        let as_jsonb = match native.map(|n| n.name.as_str()) {
            Some("Json") => sql::cast(column, "jsonb"),
            _ => column,
        };
        if path.is_empty() {
            return as_jsonb;
        }
        let p = self.params.bind(Value::List(path.iter().cloned().map(Value::String).collect()));
        sql::nested(sql::binop(as_jsonb, BinaryOperator::HashArrow, sql::cast(p, "text[]")))
    }

    fn json_cond(&mut self, target: Expr, whole_column: bool, cond: &JsonCond) -> Expr {
        let typeof_is = |e: Expr, t: &str| sql::eq(sql::func("jsonb_typeof", vec![e]), sql::string_lit(t));
        match cond {
            JsonCond::Equals(v) => {
                let p = sql::cast(self.params.bind(v.clone()), "jsonb");
                sql::eq(target, p)
            }
            JsonCond::IsNull(kind) => {
                let json_null = sql::eq(target.clone(), sql::cast(sql::string_lit("null"), "jsonb"));
                let db_null = sql::is_null(target);
                match (kind, whole_column) {
                    (NullKind::Json, _) => json_null,
                    (NullKind::Db, true) => db_null,
                    (NullKind::Db, false) | (NullKind::Any, _) => sql::or(vec![db_null, json_null]),
                }
            }
            JsonCond::Cmp { op, value } => {
                let p = sql::cast(self.params.bind(value.clone()), "jsonb");
                let same_type = sql::eq(sql::func("jsonb_typeof", vec![target.clone()]), sql::func("jsonb_typeof", vec![p.clone()]));
                sql::and(vec![same_type, sql::binop(target, cmp_op(*op), p)])
            }
            JsonCond::StringLike { kind, value, insensitive } => {
                let p = self.params.bind(Value::String(like_pattern(*kind, value)));
                let text = sql::nested(sql::binop(target.clone(), BinaryOperator::HashLongArrow, sql::cast(sql::string_lit("{}"), "text[]")));
                sql::and(vec![typeof_is(target, "string"), sql::like(text, p, *insensitive, false)])
            }
            JsonCond::ArrayContains(v) => {
                let p = sql::cast(self.params.bind(v.clone()), "jsonb");
                sql::and(vec![typeof_is(target.clone(), "array"), sql::binop(target, BinaryOperator::AtArrow, p)])
            }
            JsonCond::ArrayStartsWith(v) | JsonCond::ArrayEndsWith(v) => {
                let index = if matches!(cond, JsonCond::ArrayStartsWith(_)) { 0 } else { -1 };
                let p = sql::cast(self.params.bind(v.clone()), "jsonb");
                let element = sql::nested(sql::binop(target.clone(), BinaryOperator::Arrow, sql::int_lit(index)));
                sql::and(vec![typeof_is(target, "array"), sql::eq(element, p)])
            }
            JsonCond::Not(inner) => sql::not(self.json_cond(target, whole_column, inner)),
        }
    }

    fn relation_filter(&mut self, model: ModelId, alias: &str, field: crate::schema::FieldId, cond: RelationCond, filter: &Filter) -> Expr {
        let m = self.schema.model(model);
        let Some(rf) = m.field(field).as_relation() else { return sql::bool_lit(false) };
        let related = rf.related;
        let child = self.alias('t');
        let link = self.link(model, alias, rf, &child);
        let mut conds = vec![link];
        let inner = match (cond, filter) {
            (_, Filter::Const(true)) => None,
            _ => Some(self.filter_expr(related, &child, filter)),
        };
        let negated = match cond {
            RelationCond::Some | RelationCond::Is => {
                conds.extend(inner);
                false
            }
            RelationCond::None | RelationCond::IsNot => {
                conds.extend(inner);
                true
            }
            RelationCond::Every => {
                match inner {
                    Some(e) => conds.push(sql::is_not_true(e)),
                    None => return sql::bool_lit(true),
                }
                true
            }
        };
        let q = self.exists_query(related, &child, sql::and(conds));
        sql::exists(q, negated)
    }
}

pub(super) fn cmp_op(op: Cmp) -> BinaryOperator {
    match op {
        Cmp::Eq => BinaryOperator::Eq,
        Cmp::Lt => BinaryOperator::Lt,
        Cmp::Lte => BinaryOperator::LtEq,
        Cmp::Gt => BinaryOperator::Gt,
        Cmp::Gte => BinaryOperator::GtEq,
    }
}

/// A `LIKE` pattern that matches `value` literally (`\` is the escape character).
pub(crate) fn like_pattern(kind: LikeKind, value: &str) -> String {
    let mut escaped = String::with_capacity(value.len() + 2);
    if kind != LikeKind::StartsWith {
        escaped.push('%');
    }
    for c in value.chars() {
        if matches!(c, '%' | '_' | '\\') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    if kind != LikeKind::EndsWith {
        escaped.push('%');
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_patterns_escape_wildcards() {
        assert_eq!(like_pattern(LikeKind::Contains, "50%_off\\"), "%50\\%\\_off\\\\%");
        assert_eq!(like_pattern(LikeKind::StartsWith, "a"), "a%");
        assert_eq!(like_pattern(LikeKind::EndsWith, "a"), "%a");
    }
}
