//! `aggregate` and `groupBy`: one SELECT with `COUNT` / `SUM` / `AVG` / `MIN` / `MAX`, over the
//! windowed rows (aggregate) or grouped by fields with `HAVING` and ordering by aggregates.

use super::{Check, Output, OutputKind, Plan, Planner, Step};
use crate::error::Result;
use crate::query::{AggOp, AggSel, AggregateArgs, GroupByArgs, Having};
use crate::schema::{Arity, FieldId, ModelId, ScalarField, ScalarType};
use crate::sql::{self, ast::Expr, ast::SelectItem};

/// One column of an aggregate result: under `key` (`_sum`, ...) as `name`, or, with no key, a
/// grouped field. `name` is empty for a bare `_count: true`.
#[derive(Clone, Debug, PartialEq)]
pub struct AggColumn {
    pub key: Option<&'static str>,
    pub name: String,
    pub ty: ScalarType,
}

impl Planner<'_> {
    fn agg_expr(&self, model: ModelId, alias: &str, sel: &AggSel) -> Expr {
        let col = |f: FieldId| sql::col(alias, self.column(model, f));
        match (sel.op, sel.field) {
            (AggOp::Count, None) => sql::count_star(),
            (AggOp::Count, Some(f)) => sql::func("COUNT", vec![col(f)]),
            (AggOp::Sum, Some(f)) => sql::func("SUM", vec![col(f)]),
            (AggOp::Avg, Some(f)) => {
                let avg = sql::func("AVG", vec![col(f)]);
                if self.field_ty(model, f) == ScalarType::Decimal || self.mysql() { avg } else { sql::cast(avg, "float8") }
            }
            // PostgreSQL has no MIN / MAX of booleans: false < true, so they are AND / OR.
            (AggOp::Min, Some(f)) if self.field_ty(model, f) == ScalarType::Boolean && !self.mysql() => sql::func("bool_and", vec![col(f)]),
            (AggOp::Max, Some(f)) if self.field_ty(model, f) == ScalarType::Boolean && !self.mysql() => sql::func("bool_or", vec![col(f)]),
            (AggOp::Min, Some(f)) => sql::func("MIN", vec![col(f)]),
            (AggOp::Max, Some(f)) => sql::func("MAX", vec![col(f)]),
            (_, None) => sql::null(),
        }
    }

    fn field_ty(&self, model: ModelId, f: FieldId) -> ScalarType {
        self.schema.model(model).field(f).as_scalar().map_or(ScalarType::String, |s| s.ty.clone())
    }

    fn agg_column(&self, model: ModelId, sel: &AggSel) -> AggColumn {
        let name = sel.field.map_or_else(|| if sel.bare { String::new() } else { "_all".into() }, |f| self.schema.model(model).field(f).name.clone());
        let field_ty = sel.field.map(|f| self.field_ty(model, f));
        let ty = match (sel.op, field_ty) {
            (AggOp::Count, _) => ScalarType::Int,
            (AggOp::Avg, Some(ScalarType::Decimal)) => ScalarType::Decimal,
            (AggOp::Avg, _) => ScalarType::Float,
            (AggOp::Sum, Some(ScalarType::Int)) => ScalarType::Int,
            (_, Some(t)) => t,
            (_, None) => ScalarType::Int,
        };
        AggColumn { key: Some(sel.op.key()), name, ty }
    }

    pub(super) fn aggregate(&mut self, args: &AggregateArgs) -> Result<Plan> {
        let read = &args.read;
        let model = read.model;
        let windowed = read.take.is_some() || read.skip.is_some() || read.cursor.is_some() || !read.distinct.is_empty();
        let alias = self.alias('t');
        let columns: Vec<AggColumn> = args.aggs.iter().map(|a| self.agg_column(model, a)).collect();
        let query = if windowed {
            let all = vec![sql::qualified_star(&alias)];
            let reverse = read.take.is_some_and(|t| t < 0);
            let inner = self.windowed_read(read, &alias, all, reverse);
            let r = self.alias('r');
            let projection: Vec<SelectItem> = args.aggs.iter().map(|a| sql::item(self.agg_expr(model, &r, a))).collect();
            let projection = if projection.is_empty() { vec![sql::item(sql::int_lit(1))] } else { projection };
            sql::SelectSpec { projection, from: vec![sql::from(sql::derived(inner, &r, false))], ..Default::default() }.into_query()
        } else {
            let selection = read.filter.as_ref().map(|f| self.filter_expr(model, &alias, f));
            let projection: Vec<SelectItem> = args.aggs.iter().map(|a| sql::item(self.agg_expr(model, &alias, a))).collect();
            let projection = if projection.is_empty() { vec![sql::item(sql::int_lit(1))] } else { projection };
            sql::SelectSpec { projection, from: vec![sql::from(self.table(model, &alias))], selection, ..Default::default() }.into_query()
        };
        let stmt = self.finish(query);
        Ok(Plan {
            steps: vec![Step::Query { stmt, bind: Some(0), types: vec![], check: Check::None }],
            output: Output { var: 0, kind: OutputKind::Aggregate { columns } },
        })
    }

    pub(super) fn group_by(&mut self, args: &GroupByArgs) -> Result<Plan> {
        let model = args.model;
        let alias = self.alias('t');
        let m = self.schema.model(model);
        let mut projection = Vec::new();
        let mut columns = Vec::new();
        for f in &args.by {
            projection.push(sql::item(sql::col(&alias, self.column(model, *f))));
            columns.push(AggColumn { key: None, name: m.field(*f).name.clone(), ty: self.field_ty(model, *f) });
        }
        for a in &args.aggs {
            projection.push(sql::item(self.agg_expr(model, &alias, a)));
            columns.push(self.agg_column(model, a));
        }
        let selection = args.filter.as_ref().map(|f| self.filter_expr(model, &alias, f));
        let having = args.having.as_ref().map(|h| self.having_expr(model, &alias, h));
        let group_by = args.by.iter().map(|f| sql::col(&alias, self.column(model, *f))).collect();
        let mysql = self.mysql();
        let order_by = args
            .order_by
            .iter()
            .flat_map(|o| {
                let e = match o.agg {
                    None => sql::col(&alias, self.column(model, o.field.unwrap_or(FieldId(0)))),
                    Some(op) => self.agg_expr(model, &alias, &AggSel { op, field: o.field, bare: false }),
                };
                if mysql {
                    // NULLs where PostgreSQL puts them (MySQL has no NULLS FIRST / LAST).
                    let nulls_first = o.nulls_first.unwrap_or(o.desc);
                    vec![sql::order_expr(sql::nested(sql::is_null(e.clone())), nulls_first, None), sql::order_expr(e, o.desc, None)]
                } else {
                    vec![sql::order_expr(e, o.desc, o.nulls_first)]
                }
            })
            .collect();
        let (limit, offset) = self.limit_offset(args.take.map(i64::abs), args.skip);
        let query = sql::SelectSpec {
            projection,
            from: vec![sql::from(self.table(model, &alias))],
            selection,
            group_by,
            having,
            order_by,
            limit,
            offset,
            ..Default::default()
        }
        .into_query();
        let stmt = self.finish(query);
        Ok(Plan {
            steps: vec![Step::Query { stmt, bind: Some(0), types: vec![], check: Check::None }],
            output: Output { var: 0, kind: OutputKind::Groups { columns } },
        })
    }

    fn having_expr(&mut self, model: ModelId, alias: &str, h: &Having) -> Expr {
        match h {
            Having::And(items) => {
                let parts = items.iter().map(|i| self.having_expr(model, alias, i)).collect();
                sql::and(parts)
            }
            Having::Or(items) => {
                let parts = items.iter().map(|i| self.having_expr(model, alias, i)).collect();
                sql::or(parts)
            }
            Having::Not(inner) => sql::not(self.having_expr(model, alias, inner)),
            Having::CountAll(cond) => {
                let s = synthetic(ScalarType::Int);
                self.scalar_cond(sql::count_star(), &s, Arity::Optional, cond)
            }
            Having::Cond { agg, field, cond } => {
                let (expr, ty) = match agg {
                    None => (sql::col(alias, self.column(model, *field)), self.field_ty(model, *field)),
                    Some(sel) => (self.agg_expr(model, alias, sel), self.agg_column(model, sel).ty),
                };
                let s = synthetic(ty);
                self.scalar_cond(expr, &s, Arity::Optional, cond)
            }
        }
    }
}

fn synthetic(ty: ScalarType) -> ScalarField {
    ScalarField { db_name: String::new(), ty, native_type: None, default: None, updated_at: false, is_id: false, is_unique: false }
}
