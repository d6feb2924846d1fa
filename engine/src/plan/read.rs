//! Reads: the top-level SELECT (typed columns), nested relations as JSON subqueries, `_count`,
//! ordering (scalar, to-one relation fields, to-many counts), cursors, `distinct`, negative `take`
//! and `count`.

use super::Planner;
use super::shape::{CHUNK, OutField, OutKind, RowShape};
use crate::query::{CountArgs, CountItem, OrderBy, OrderTarget, ReadArgs, Selection, SelectionItem};
use crate::schema::{FieldId, ModelId, ScalarType};
use crate::sql::{self, ast::BinaryOperator, ast::Expr, ast::OrderByExpr, ast::Query, ast::SelectItem};
use crate::value::Value;

/// One ordering key: the expression builder is re-run per alias (row and cursor row).
struct Key {
    desc: bool,
    nulls_first: Option<bool>,
}

impl Planner<'_> {
    /// The top-level read. Returns the query, the shape of its rows, and whether the rows must be
    /// reversed (negative `take`).
    pub(super) fn top_read(&mut self, args: &ReadArgs) -> (Query, RowShape, bool) {
        let alias = self.alias('t');
        let (projection, shape) = self.typed_projection(args.model, &alias, &args.selection);
        let reverse = args.take.is_some_and(|t| t < 0);
        let query = self.windowed(args, &alias, projection, reverse, true);
        (query, shape, reverse)
    }

    /// A SELECT over `args.model` at `alias` with the filter, order, cursor, distinct, skip and
    /// take of `args`. `extra_where` is ANDed (the link to a parent row for nested reads).
    fn windowed_with(
        &mut self,
        args: &ReadArgs,
        alias: &str,
        projection: Vec<SelectItem>,
        reverse: bool,
        extra_where: Option<Expr>,
        implicit_order: bool,
    ) -> Query {
        let model = args.model;
        let order = self.effective_order(args, implicit_order);
        let mut conds: Vec<Expr> = extra_where.into_iter().collect();
        if let Some(f) = &args.filter {
            conds.push(self.filter_expr(model, alias, f));
        }
        if let Some(cursor) = &args.cursor {
            conds.push(self.cursor_condition(model, alias, &order, cursor, reverse));
        }
        let selection = if conds.is_empty() { None } else { Some(sql::and(conds)) };
        let order_exprs: Vec<OrderByExpr> = self.order_by_exprs(model, alias, &order, reverse);
        let (limit, offset) = self.limit_offset(args.take.map(i64::abs), args.skip);
        if self.mysql() && !args.distinct.is_empty() {
            // No DISTINCT ON: the first row of each group in the requested order is row number 1
            // of its partition.
            let partition: Vec<Expr> = args.distinct.iter().map(|f| sql::col(alias, self.column(model, *f))).collect();
            let window_order = self.order_by_exprs(model, alias, &order, reverse);
            let inner = sql::SelectSpec {
                projection: vec![sql::qualified_star(alias), sql::item_as(sql::row_number(partition, window_order), "__rn")],
                from: vec![sql::from(self.table(model, alias))],
                selection,
                ..Default::default()
            }
            .into_query();
            return sql::SelectSpec {
                projection,
                from: vec![sql::from(sql::derived(inner, alias, false))],
                selection: Some(sql::eq(sql::col(alias, "__rn"), sql::int_lit(1))),
                order_by: order_exprs,
                limit,
                offset,
                ..Default::default()
            }
            .into_query();
        }
        let from = if args.distinct.is_empty() {
            self.table(model, alias)
        } else {
            // DISTINCT ON keeps the first row of each group in the requested order.
            let distinct_on: Vec<Expr> = args.distinct.iter().map(|f| sql::col(alias, self.column(model, *f))).collect();
            let mut inner_order: Vec<OrderByExpr> = distinct_on.iter().map(|e| sql::order_expr(e.clone(), false, None)).collect();
            inner_order.extend(self.order_by_exprs(model, alias, &order, reverse));
            let inner = sql::SelectSpec {
                distinct_on,
                projection: vec![sql::qualified_star(alias)],
                from: vec![sql::from(self.table(model, alias))],
                selection,
                order_by: inner_order,
                ..Default::default()
            }
            .into_query();
            return sql::SelectSpec {
                projection,
                from: vec![sql::from(sql::derived(inner, alias, false))],
                order_by: order_exprs,
                limit,
                offset,
                ..Default::default()
            }
            .into_query();
        };
        sql::SelectSpec { projection, from: vec![sql::from(from)], selection, order_by: order_exprs, limit, offset, ..Default::default() }
            .into_query()
    }

    /// A windowed read of `args` with an arbitrary projection (aggregates read through it).
    pub(super) fn windowed_read(&mut self, args: &ReadArgs, alias: &str, projection: Vec<SelectItem>, reverse: bool) -> Query {
        self.windowed(args, alias, projection, reverse, true)
    }

    fn windowed(&mut self, args: &ReadArgs, alias: &str, projection: Vec<SelectItem>, reverse: bool, top: bool) -> Query {
        let paginated = args.take.is_some() || args.skip.is_some() || args.cursor.is_some() || !args.distinct.is_empty();
        self.windowed_with(args, alias, projection, reverse, None, !top || paginated)
    }

    /// The user's order plus the model's identifier fields (so pages and nested lists are stable),
    /// unless ordering is not needed at all.
    fn effective_order(&self, args: &ReadArgs, implicit: bool) -> Vec<OrderBy> {
        let mut order = args.order_by.clone();
        if !implicit {
            return order;
        }
        let m = self.schema.model(args.model);
        for id in m.identifier() {
            let present = order.iter().any(|o| o.path.is_empty() && o.target == OrderTarget::Field(*id));
            if !present {
                order.push(OrderBy { path: vec![], target: OrderTarget::Field(*id), desc: false, nulls_first: None });
            }
        }
        order
    }

    fn order_by_exprs(&mut self, model: ModelId, alias: &str, order: &[OrderBy], reverse: bool) -> Vec<OrderByExpr> {
        let mut out = Vec::with_capacity(order.len());
        for o in order {
            let e = self.order_key(model, alias, o);
            let k = key_of(o, reverse);
            if self.mysql() {
                // MySQL has no NULLS FIRST / LAST and puts NULLs first ascending: NULLs sort as
                // PostgreSQL sorts them (last ascending, first descending) or as asked.
                if self.may_be_null(model, o) {
                    let nulls_first = k.nulls_first.unwrap_or(k.desc);
                    out.push(sql::order_expr(sql::nested(sql::is_null(e.clone())), nulls_first, None));
                }
                out.push(sql::order_expr(e, k.desc, None));
            } else {
                out.push(sql::order_expr(e, k.desc, k.nulls_first));
            }
        }
        out
    }

    /// Whether an order key can be NULL (an optional field, or a field through a relation).
    fn may_be_null(&self, model: ModelId, o: &OrderBy) -> bool {
        match (&o.path[..], &o.target) {
            ([], OrderTarget::Field(f)) => !matches!(self.schema.model(model).field(*f).arity, crate::schema::Arity::Required),
            ([], OrderTarget::RelationCount(_)) => false,
            _ => true,
        }
    }

    /// `LIMIT` / `OFFSET` parameters; MySQL needs a `LIMIT` before an `OFFSET`.
    pub(super) fn limit_offset(&mut self, take: Option<i64>, skip: Option<i64>) -> (Option<Expr>, Option<Expr>) {
        let limit = take.map(|t| self.params.bind(Value::Int(t)));
        let offset = skip.filter(|s| *s > 0).map(|s| self.params.bind(Value::Int(s)));
        let limit = match (limit, &offset) {
            (None, Some(_)) if self.mysql() => Some(Expr::Value(sql::ast::Value::Number("18446744073709551615".into(), false).into())),
            (l, _) => l,
        };
        (limit, offset)
    }

    /// The expression an order entry sorts by, for a row of `model` at `alias`.
    fn order_key(&mut self, model: ModelId, alias: &str, o: &OrderBy) -> Expr {
        self.order_key_at(model, alias, &o.path, &o.target)
    }

    fn order_key_at(&mut self, model: ModelId, alias: &str, path: &[FieldId], target: &OrderTarget) -> Expr {
        if let Some((first, rest)) = path.split_first() {
            // Through a to-one relation: a scalar subquery on the related row.
            let Some(rf) = self.schema.model(model).field(*first).as_relation() else { return sql::null() };
            let related = rf.related;
            let child = self.alias('t');
            let link = self.link(model, alias, rf, &child);
            let inner = self.order_key_at(related, &child, rest, target);
            let q = sql::SelectSpec {
                projection: vec![sql::item(inner)],
                from: vec![sql::from(self.table(related, &child))],
                selection: Some(link),
                limit: Some(sql::int_lit(1)),
                ..Default::default()
            }
            .into_query();
            return sql::subquery(q);
        }
        match target {
            OrderTarget::Field(f) => sql::col(alias, self.column(model, *f)),
            OrderTarget::RelationCount(f) => self.relation_count(model, alias, *f, None),
        }
    }

    /// Rows at or after the cursor row in the order: for keys k1..kn with cursor values c1..cn,
    /// `k1 > c1 OR (k1 = c1 AND k2 > c2) OR ... OR (k1 = c1 AND ... AND kn >= cn)` (`<` for
    /// descending keys, and the other way round when a negative `take` reads backwards). The
    /// cursor values are subqueries on the row the cursor names, so a cursor that names no row (or
    /// a row out of scope) yields no rows.
    fn cursor_condition(&mut self, model: ModelId, alias: &str, order: &[OrderBy], cursor: &crate::query::Filter, reverse: bool) -> Expr {
        let mut pairs = Vec::with_capacity(order.len());
        for o in order {
            let row_key = self.order_key(model, alias, o);
            let c = self.alias('c');
            let cursor_key = self.order_key(model, &c, o);
            let where_ = self.filter_expr(model, &c, cursor);
            let q = sql::SelectSpec {
                projection: vec![sql::item(cursor_key)],
                from: vec![sql::from(self.table(model, &c))],
                selection: Some(where_),
                limit: Some(sql::int_lit(1)),
                ..Default::default()
            }
            .into_query();
            pairs.push((row_key, sql::subquery(q), o.desc != reverse));
        }
        let n = pairs.len();
        let mut branches = Vec::with_capacity(n);
        for i in 0..n {
            let mut conds: Vec<Expr> = pairs[..i].iter().map(|(k, c, _)| sql::eq(k.clone(), c.clone())).collect();
            let (k, c, desc) = &pairs[i];
            let last = i + 1 == n;
            let op = match (desc, last) {
                (false, false) => BinaryOperator::Gt,
                (false, true) => BinaryOperator::GtEq,
                (true, false) => BinaryOperator::Lt,
                (true, true) => BinaryOperator::LtEq,
            };
            conds.push(sql::binop(k.clone(), op, c.clone()));
            branches.push(sql::and(conds));
        }
        sql::or(branches)
    }

    /// Typed top-level columns, one per output field.
    pub(super) fn typed_projection(&mut self, model: ModelId, alias: &str, selection: &Selection) -> (Vec<SelectItem>, RowShape) {
        let mut projection = Vec::with_capacity(selection.items.len());
        let mut fields = Vec::with_capacity(selection.items.len());
        for item in &selection.items {
            let (expr, field) = match item {
                SelectionItem::Scalar(f) => {
                    let (e, out) = self.scalar_out(model, alias, *f);
                    let list = matches!(out.kind, OutKind::Scalar { list: true, .. });
                    (if list && !self.mysql() { sql::func("to_json", vec![e]) } else { self.typed_scalar(model, alias, *f) }, out)
                }
                SelectionItem::Relation(f, args) => self.relation_json(model, alias, *f, args),
                SelectionItem::Count(items) => self.count_json(model, alias, items),
            };
            projection.push(sql::item(expr));
            fields.push(field);
        }
        (projection, RowShape { fields })
    }

    fn typed_scalar(&self, model: ModelId, alias: &str, f: FieldId) -> Expr {
        sql::col(alias, self.column(model, f))
    }

    /// A scalar as it goes into JSON: decimals as text so no digit is lost.
    fn scalar_out(&mut self, model: ModelId, alias: &str, f: FieldId) -> (Expr, OutField) {
        let field = self.schema.model(model).field(f);
        let s = field.as_scalar();
        let ty = s.map_or(ScalarType::String, |s| s.ty.clone());
        let list = field.is_list();
        let col = sql::col(alias, self.column(model, f));
        let expr = match (&ty, list) {
            _ if list && self.mysql() => col,
            (ScalarType::Decimal, false) if self.mysql() => sql::cast_std(col, "CHAR"),
            (ScalarType::Bytes, false) if self.mysql() => {
                sql::func("CONCAT", vec![sql::string_lit("\\x"), sql::func("LOWER", vec![sql::func("HEX", vec![col])])])
            }
            (ScalarType::Decimal, false) => sql::cast(col, "text"),
            (ScalarType::Decimal, true) => sql::cast(col, "text[]"),
            _ => col,
        };
        (expr, OutField { name: field.name.clone(), kind: OutKind::Scalar { ty, list } })
    }

    /// A row as a JSON array of its selected fields.
    fn json_row(&mut self, model: ModelId, alias: &str, selection: &Selection) -> (Expr, RowShape) {
        let mut elems = Vec::with_capacity(selection.items.len());
        let mut fields = Vec::with_capacity(selection.items.len());
        for item in &selection.items {
            let (e, f) = match item {
                SelectionItem::Scalar(f) => self.scalar_out(model, alias, *f),
                SelectionItem::Relation(f, args) => self.relation_json(model, alias, *f, args),
                SelectionItem::Count(items) => self.count_json(model, alias, items),
            };
            elems.push(e);
            fields.push(f);
        }
        let array = if self.mysql() { "JSON_ARRAY" } else { "json_build_array" };
        let expr = if elems.len() <= CHUNK {
            sql::func(array, elems)
        } else {
            let chunks = elems.chunks(CHUNK).map(|c| sql::func(array, c.to_vec())).collect();
            sql::func(array, chunks)
        };
        (expr, RowShape { fields })
    }

    /// A nested relation as a JSON value: an array of rows (to-many) or a row or null (to-one).
    fn relation_json(&mut self, model: ModelId, alias: &str, field: FieldId, args: &ReadArgs) -> (Expr, OutField) {
        let f = self.schema.model(model).field(field);
        let name = f.name.clone();
        let many = f.is_list();
        let Some(rf) = f.as_relation() else {
            return (sql::null(), OutField { name, kind: OutKind::Count(vec![]) });
        };
        let child = self.alias('t');
        let link = self.link(model, alias, rf, &child);
        let (row, shape) = self.json_row(args.model, &child, &args.selection);
        if !many {
            let q = sql::SelectSpec {
                projection: vec![sql::item(row)],
                from: vec![sql::from(self.table(args.model, &child))],
                selection: Some(link),
                limit: Some(sql::int_lit(1)),
                ..Default::default()
            }
            .into_query();
            return (sql::subquery(q), OutField { name, kind: OutKind::ToOne(Box::new(shape)) });
        }
        let reverse = args.take.is_some_and(|t| t < 0);
        let windowed = args.take.is_some() || args.skip.is_some() || args.cursor.is_some() || !args.distinct.is_empty();
        if self.mysql() {
            // `distinct` compares each row with the relation's other rows: the link for them.
            let twin = if args.distinct.is_empty() {
                None
            } else {
                let d = self.alias('d');
                let l = self.link(model, alias, rf, &d);
                Some((d, l))
            };
            let q = self.mysql_many(args, &child, link, twin, row, reverse);
            return (sql::subquery(q), OutField { name, kind: OutKind::ToMany(Box::new(shape)) });
        }
        let empty = sql::string_lit("[]");
        let q = if !windowed {
            let order = self.effective_order(args, true);
            let mut conds = vec![link];
            if let Some(filter) = &args.filter {
                conds.push(self.filter_expr(args.model, &child, filter));
            }
            let order_exprs = self.order_by_exprs(args.model, &child, &order, false);
            let agg = sql::agg_ordered("json_agg", row, order_exprs);
            sql::SelectSpec {
                projection: vec![sql::item(sql::func("COALESCE", vec![agg, empty]))],
                from: vec![sql::from(self.table(args.model, &child))],
                selection: Some(sql::and(conds)),
                ..Default::default()
            }
            .into_query()
        } else {
            // Window inside, then aggregate in the requested order using exposed order keys.
            let order = self.effective_order(args, true);
            let mut projection = vec![sql::item_as(row, "j")];
            for (i, o) in order.iter().enumerate() {
                let key = self.order_key(args.model, &child, o);
                projection.push(sql::item_as(key, &format!("o{i}")));
            }
            let inner = self.windowed_with(args, &child, projection, reverse, Some(link), true);
            let r = self.alias('r');
            let agg_order = order
                .iter()
                .enumerate()
                .map(|(i, o)| sql::order_expr(sql::col(&r, &format!("o{i}")), o.desc, o.nulls_first))
                .collect();
            let agg = sql::agg_ordered("json_agg", sql::col(&r, "j"), agg_order);
            sql::SelectSpec {
                projection: vec![sql::item(sql::func("COALESCE", vec![agg, empty]))],
                from: vec![sql::from(sql::derived(inner, &r, false))],
                ..Default::default()
            }
            .into_query()
        };
        (sql::subquery(q), OutField { name, kind: OutKind::ToMany(Box::new(shape)) })
    }

    /// `NOT EXISTS (an earlier row of the group)` for a nested `distinct` on MySQL (see
    /// [`Self::mysql_many`]).
    fn mysql_first_of_group(&mut self, args: &ReadArgs, child: &str, d: &str, d_link: Expr, order: &[OrderBy], reverse: bool) -> Expr {
        let model = args.model;
        let mut conds = vec![d_link];
        if let Some(filter) = &args.filter {
            conds.push(self.filter_expr(model, d, filter));
        }
        if let Some(cursor) = &args.cursor {
            conds.push(self.cursor_condition(model, d, order, cursor, reverse));
        }
        for f in &args.distinct {
            let c = self.column(model, *f);
            conds.push(sql::binop(sql::col(d, c), BinaryOperator::Spaceship, sql::col(child, c)));
        }
        // `d` before `child`: lexicographic over the sort keys as MySQL sorts them (NULL
        // placement keys included), `<=>` for the equal prefix.
        let mine = self.order_by_exprs(model, child, order, reverse);
        let theirs = self.order_by_exprs(model, d, order, reverse);
        let mut branches = Vec::with_capacity(mine.len());
        for i in 0..mine.len() {
            let mut parts: Vec<Expr> =
                (0..i).map(|j| sql::binop(theirs[j].expr.clone(), BinaryOperator::Spaceship, mine[j].expr.clone())).collect();
            let desc = matches!(mine[i].options.sort, Some(sql::ast::OrderBySort::Desc));
            let op = if desc { BinaryOperator::Gt } else { BinaryOperator::Lt };
            parts.push(sql::binop(theirs[i].expr.clone(), op, mine[i].expr.clone()));
            branches.push(sql::and(parts));
        }
        conds.push(sql::nested(sql::or(branches)));
        let q = sql::SelectSpec {
            projection: vec![sql::item(sql::int_lit(1))],
            from: vec![sql::from(self.table(model, d))],
            selection: Some(sql::and(conds)),
            ..Default::default()
        }
        .into_query();
        sql::exists(q, true)
    }

    /// A to-many relation on MySQL, where `JSON_ARRAYAGG` has no `ORDER BY` (MySQL 8.0) and a
    /// derived table cannot see the outer row (MariaDB): the rows' JSON texts are joined by
    /// `GROUP_CONCAT(... ORDER BY ...)` in the requested order with a separator JSON text never
    /// contains (U+001E is escaped inside JSON strings), the `skip` / `take` window is cut out of
    /// that list with `SUBSTRING_INDEX` and the row count, and the text is read back as JSON.
    /// The session's `group_concat_max_len` must hold the list (drivers set it; a cut list is not
    /// valid JSON and fails to decode instead of losing rows).
    ///
    /// `distinct` keeps a row when no row of the same relation that passes the same filter and
    /// cursor, with the same distinct values (`<=>`, so NULLs group together), comes before it in
    /// the order (`twin`: an alias for those rows and their link to the parent). The order ends
    /// with the identifier, so "before" is strict and exactly one row of each group is kept, the
    /// one PostgreSQL's `DISTINCT ON` keeps; `skip` / `take` then apply to the kept rows.
    fn mysql_many(&mut self, args: &ReadArgs, child: &str, link: Expr, twin: Option<(String, Expr)>, row: Expr, reverse: bool) -> Query {
        const SEP: &str = "\u{1e}";
        let order = self.effective_order(args, true);
        let mut conds = vec![link];
        if let Some(filter) = &args.filter {
            conds.push(self.filter_expr(args.model, child, filter));
        }
        if let Some(cursor) = &args.cursor {
            conds.push(self.cursor_condition(args.model, child, &order, cursor, reverse));
        }
        if let Some((d, d_link)) = twin {
            conds.push(self.mysql_first_of_group(args, child, &d, d_link, &order, reverse));
        }
        let order_exprs = self.order_by_exprs(args.model, child, &order, false);
        let list = sql::func("COALESCE", vec![sql::group_concat(row, order_exprs, SEP), sql::string_lit("")]);
        let windowed = args.take.is_some() || args.skip.is_some_and(|s| s > 0);
        let list = if windowed {
            let n = sql::count_star();
            let skip = args.skip.filter(|s| *s > 0).map(|s| self.params.bind(Value::Int(s)));
            let minus = |a: Expr, b: Option<Expr>| match b {
                Some(b) => sql::nested(sql::binop(a, BinaryOperator::Minus, b)),
                None => a,
            };
            let greatest0 = |e: Expr| sql::func("GREATEST", vec![e, sql::int_lit(0)]);
            // The rows kept are the first `end` rows of the list without the first `end - keep`.
            let (end, keep) = match args.take {
                Some(t) if t >= 0 => {
                    let take = self.params.bind(Value::Int(t));
                    let upto = match skip.clone() {
                        Some(k) => sql::nested(sql::binop(k, BinaryOperator::Plus, take)),
                        None => take,
                    };
                    let end = sql::func("LEAST", vec![n, upto]);
                    (end.clone(), minus(end, skip))
                }
                Some(t) => {
                    // A negative take keeps the last |take| rows before the skipped tail.
                    let take = self.params.bind(Value::Int(-t));
                    let end = greatest0(minus(n, skip));
                    (end.clone(), sql::func("LEAST", vec![take, end]))
                }
                None => (n.clone(), minus(n, skip)),
            };
            let head = sql::func("SUBSTRING_INDEX", vec![list, sql::string_lit(SEP), end]);
            let tail = Expr::UnaryOp { op: sql::ast::UnaryOperator::Minus, expr: Box::new(sql::nested(greatest0(keep))) };
            sql::func("SUBSTRING_INDEX", vec![head, sql::string_lit(SEP), tail])
        } else {
            list
        };
        let text = sql::func(
            "CONCAT",
            vec![sql::string_lit("["), sql::func("REPLACE", vec![list, sql::string_lit(SEP), sql::string_lit(",")]), sql::string_lit("]")],
        );
        sql::SelectSpec {
            projection: vec![sql::item(sql::func("JSON_EXTRACT", vec![text, sql::string_lit("$")]))],
            from: vec![sql::from(self.table(args.model, child))],
            selection: Some(sql::and(conds)),
            ..Default::default()
        }
        .into_query()
    }

    /// `(SELECT COUNT(*) FROM related WHERE link AND filter)`.
    fn relation_count(&mut self, model: ModelId, alias: &str, field: FieldId, filter: Option<&crate::query::Filter>) -> Expr {
        let Some(rf) = self.schema.model(model).field(field).as_relation() else { return sql::int_lit(0) };
        let related = rf.related;
        let child = self.alias('t');
        let mut conds = vec![self.link(model, alias, rf, &child)];
        if let Some(f) = filter {
            conds.push(self.filter_expr(related, &child, f));
        }
        let q = sql::SelectSpec {
            projection: vec![sql::item(sql::count_star())],
            from: vec![sql::from(self.table(related, &child))],
            selection: Some(sql::and(conds)),
            ..Default::default()
        }
        .into_query();
        sql::subquery(q)
    }

    fn count_json(&mut self, model: ModelId, alias: &str, items: &[CountItem]) -> (Expr, OutField) {
        let mut names = Vec::with_capacity(items.len());
        let mut counts = Vec::with_capacity(items.len());
        for item in items {
            names.push(self.schema.model(model).field(item.relation).name.clone());
            counts.push(self.relation_count(model, alias, item.relation, item.filter.as_ref()));
        }
        let array = if self.mysql() { "JSON_ARRAY" } else { "json_build_array" };
        (sql::func(array, counts), OutField { name: "_count".into(), kind: OutKind::Count(names) })
    }

    /// `count`: `COUNT(*)` (and `COUNT(field)` per selected field) over the filtered rows, through
    /// a windowed subquery when `take` / `skip` / `cursor` / `distinct` are given.
    pub(super) fn count(&mut self, args: &CountArgs) -> Query {
        let read = &args.read;
        let model = read.model;
        let counts = |alias: &str, p: &Planner| -> Vec<SelectItem> {
            if args.select.is_empty() {
                return vec![sql::item(sql::count_star())];
            }
            args.select
                .iter()
                .map(|(_, f)| match f {
                    None => sql::item(sql::count_star()),
                    Some(f) => sql::item(sql::func("COUNT", vec![sql::col(alias, p.column(model, *f))])),
                })
                .collect()
        };
        let windowed = read.take.is_some() || read.skip.is_some() || read.cursor.is_some() || !read.distinct.is_empty();
        let alias = self.alias('t');
        if !windowed {
            let selection = read.filter.as_ref().map(|f| self.filter_expr(model, &alias, f));
            let projection = counts(&alias, self);
            return sql::SelectSpec { projection, from: vec![sql::from(self.table(model, &alias))], selection, ..Default::default() }
                .into_query();
        }
        let all = vec![sql::qualified_star(&alias)];
        let reverse = read.take.is_some_and(|t| t < 0);
        let inner = self.windowed(read, &alias, all, reverse, true);
        let r = self.alias('r');
        let projection = counts(&r, self);
        sql::SelectSpec { projection, from: vec![sql::from(sql::derived(inner, &r, false))], ..Default::default() }.into_query()
    }
}

fn key_of(o: &OrderBy, reverse: bool) -> Key {
    if reverse {
        Key { desc: !o.desc, nulls_first: o.nulls_first.map(|n| !n) }
    } else {
        Key { desc: o.desc, nulls_first: o.nulls_first }
    }
}
