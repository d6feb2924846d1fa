//! The request generator: valid Prisma-shaped query documents over the schema, driven by the
//! schema itself (fields, relations, unique keys) and by the seeded values of both tenants, so
//! filters and unique lookups name A's rows, B's rows, shared rows and rows that do not exist.
//!
//! Reads: findMany / findFirst / findUnique (and the OrThrow forms) with nested select / include /
//! omit, relation filters (some / every / none / is / isNot), `_count`, orderBy on scalars, to-one
//! relation fields and to-many counts, cursor / take / skip / distinct; count, aggregate, groupBy.
//! Writes: create (nested create / connect / connectOrCreate), createMany(AndReturn), update (every
//! nested write), updateMany(AndReturn), upsert, delete, deleteMany; foreign keys are sometimes
//! written directly and the tenant field sometimes named (A, B or null).

use super::rng::Rng;
use super::world::{A, B, B_MARKERS, Kind, LinkKind, Owner, Relation, Scalar, World};
use quarry_engine::schema::ScalarType;
use serde_json::{Map, Value as Json, json};

const MAX_DEPTH: usize = 3;

pub struct Gen<'w> {
    w: &'w World,
    rng: Rng,
    fresh: u64,
}

/// The actions generated, with their weights.
const ACTIONS: &[(&str, u32)] = &[
    ("findMany", 16),
    ("findFirst", 4),
    ("findFirstOrThrow", 2),
    ("findUnique", 5),
    ("findUniqueOrThrow", 2),
    ("count", 7),
    ("aggregate", 6),
    ("groupBy", 6),
    ("create", 10),
    ("createMany", 3),
    ("createManyAndReturn", 2),
    ("update", 13),
    ("updateMany", 4),
    ("updateManyAndReturn", 2),
    ("upsert", 7),
    ("delete", 6),
    ("deleteMany", 4),
];

/// Models and how often requests start at them.
const MODELS: &[(&str, u32)] = &[
    ("User", 18),
    ("Post", 18),
    ("Comment", 10),
    ("Tag", 9),
    ("Category", 7),
    ("Project", 8),
    ("Membership", 6),
    ("Profile", 6),
    ("Tenant", 5),
    ("Country", 4),
    ("Skill", 4),
];

impl<'w> Gen<'w> {
    pub fn new(w: &'w World, seed: u64) -> Gen<'w> {
        Gen { w, rng: Rng::new(seed), fresh: 0 }
    }

    /// A session: a few requests run one after the other in one transaction.
    pub fn session(&mut self) -> Vec<Json> {
        let n = 1 + self.rng.below(4);
        (0..n).map(|_| self.request()).collect()
    }

    pub fn request(&mut self) -> Json {
        let models: Vec<u32> = MODELS.iter().map(|(_, w)| *w).collect();
        let model = MODELS[self.rng.weighted(&models)].0.to_owned();
        let weights: Vec<u32> = ACTIONS.iter().map(|(_, w)| *w).collect();
        let action = ACTIONS[self.rng.weighted(&weights)].0;
        let args = match action {
            "findMany" | "findFirst" | "findFirstOrThrow" => self.find_many_args(&model),
            "findUnique" | "findUniqueOrThrow" => {
                let mut a = self.selection(&model, 1);
                a.insert("where".into(), self.unique_where(&model, true));
                Json::Object(a)
            }
            "count" => self.count_args(&model),
            "aggregate" => self.aggregate_args(&model),
            "groupBy" => self.group_by_args(&model),
            "create" => {
                let mut a = self.write_selection(&model);
                a.insert("data".into(), self.create_data(&model, 1, None));
                Json::Object(a)
            }
            "createMany" | "createManyAndReturn" => {
                let mut a = if action == "createManyAndReturn" { self.write_selection(&model) } else { Map::new() };
                let n = 1 + self.rng.below(3);
                let rows: Vec<Json> = (0..n).map(|_| self.scalar_create_data(&model)).collect();
                a.insert("data".into(), Json::Array(rows));
                if self.rng.chance(30) {
                    a.insert("skipDuplicates".into(), json!(true));
                }
                Json::Object(a)
            }
            "update" => {
                let mut a = self.write_selection(&model);
                a.insert("where".into(), self.target_where(&model));
                a.insert("data".into(), self.update_data(&model, 1, true));
                Json::Object(a)
            }
            "updateMany" | "updateManyAndReturn" => {
                let mut a = if action == "updateManyAndReturn" { self.write_selection(&model) } else { Map::new() };
                if self.rng.chance(80) {
                    a.insert("where".into(), self.where_(&model, 1));
                }
                a.insert("data".into(), self.update_data(&model, 1, false));
                if self.rng.chance(20) {
                    a.insert("limit".into(), json!(self.rng.range(0, 3)));
                }
                Json::Object(a)
            }
            "upsert" => self.upsert_args(&model),
            "delete" => {
                let mut a = self.write_selection(&model);
                a.insert("where".into(), self.target_where(&model));
                Json::Object(a)
            }
            _ => {
                let mut a = Map::new();
                if self.rng.chance(85) {
                    a.insert("where".into(), self.where_(&model, 1));
                }
                if self.rng.chance(15) {
                    a.insert("limit".into(), json!(self.rng.range(0, 3)));
                }
                Json::Object(a)
            }
        };
        json!({"model": model, "action": action, "args": args})
    }

    // ------------------------------------------------------------------ values

    fn enum_values(&self, ty: &ScalarType) -> Vec<Json> {
        match ty {
            ScalarType::Enum(id) => self.w.schema.enum_(*id).values.iter().map(|v| json!(v.name)).collect(),
            _ => vec![],
        }
    }

    /// A value that no row has, of the field's type.
    fn missing(&self, ty: &ScalarType) -> Json {
        match ty {
            ScalarType::Int | ScalarType::BigInt => json!(999_999),
            _ => json!("missing-404"),
        }
    }

    fn fresh_text(&mut self, base: &str) -> String {
        self.fresh += 1;
        format!("{base}-{}-{}", self.fresh, self.rng.below(1000))
    }

    /// A value of the field for a filter: any seeded value (B's included) or a made-up one.
    fn filter_value(&mut self, model: &str, s: &Scalar) -> Json {
        if let Some(related) = &s.fk_to {
            return self.id_value(related, s);
        }
        let pool = self.w.pool(model, &s.name);
        if !pool.is_empty() && self.rng.chance(85) {
            return self.rng.pick(&pool).clone();
        }
        self.made_up(s)
    }

    /// A value of the field for a write: seeded values (so unique keys collide with A's and B's)
    /// except text only B has, or a fresh one.
    fn write_value(&mut self, model: &str, s: &Scalar) -> Json {
        if let Some(related) = &s.fk_to {
            return self.id_value(related, s);
        }
        let pool: Vec<Json> = self.w.pool(model, &s.name).into_iter().filter(|v| !has_marker(v)).collect();
        if !pool.is_empty() && self.rng.chance(45) {
            return self.rng.pick(&pool).clone();
        }
        self.made_up(s)
    }

    fn made_up(&mut self, s: &Scalar) -> Json {
        match &s.ty {
            ScalarType::String => json!(self.fresh_text(&s.name.to_lowercase())),
            ScalarType::Int => json!(self.rng.range(0, 120)),
            ScalarType::BigInt => json!({"$type": "BigInt", "value": self.rng.range(0, 1000).to_string()}),
            ScalarType::Float => json!(self.rng.range(0, 10) as f64 / 2.0),
            ScalarType::Decimal => json!({"$type": "Decimal", "value": format!("{}.{:02}", self.rng.range(0, 5000), self.rng.below(100))}),
            ScalarType::Boolean => json!(self.rng.chance(50)),
            ScalarType::DateTime => {
                json!({"$type": "DateTime", "value": format!("2024-01-0{}T10:00:00.000Z", 1 + self.rng.below(6))})
            }
            ty @ ScalarType::Enum(_) => {
                let values = self.enum_values(ty);
                self.rng.pick(&values).clone()
            }
            _ => Json::Null,
        }
    }

    /// The value of a foreign key: an id of A's, B's or a shared row of the related model, or one
    /// that does not exist.
    fn id_value(&mut self, related: &str, s: &Scalar) -> Json {
        let key = self.w.identifier(related).into_iter().next().unwrap_or_default();
        let pool = self.w.pool(related, &key);
        if pool.is_empty() || self.rng.chance(8) {
            return self.missing(&s.ty);
        }
        self.rng.pick(&pool).clone()
    }

    fn tenant_value(&mut self, shared: bool) -> Json {
        match self.rng.weighted(&[5, 4, if shared { 2 } else { 0 }]) {
            0 => json!(A),
            1 => json!(B),
            _ => Json::Null,
        }
    }

    // ------------------------------------------------------------------ filters

    fn scalars_for_filter(&self, model: &str) -> Vec<Scalar> {
        self.w.scalars(model).into_iter().filter(|s| !s.list && !matches!(s.ty, ScalarType::Json | ScalarType::Unsupported(_))).collect()
    }

    /// A `where` object on `model`.
    pub fn where_(&mut self, model: &str, depth: usize) -> Json {
        let mut obj = Map::new();
        let n = self.rng.weighted(&[15, 45, 30, 10]);
        for _ in 0..n {
            let (key, value) = self.condition(model, depth);
            add_condition(&mut obj, key, value);
        }
        Json::Object(obj)
    }

    fn condition(&mut self, model: &str, depth: usize) -> (String, Json) {
        let scoped = matches!(self.w.kind(model), Kind::Scoped { .. });
        let relations = self.w.relations(model);
        let can_nest = depth < MAX_DEPTH;
        let choice = self.rng.weighted(&[
            50,
            if can_nest && !relations.is_empty() { 25 } else { 0 },
            if can_nest { 12 } else { 0 },
            if scoped { 10 } else { 0 },
        ]);
        match choice {
            0 => {
                let scalars = self.scalars_for_filter(model);
                let s = self.rng.pick(&scalars).clone();
                let v = self.scalar_condition(model, &s);
                (s.name, v)
            }
            1 => {
                let r = self.rng.pick(&relations).clone();
                let v = self.relation_condition(&r, depth);
                (r.name, v)
            }
            2 => {
                let op = *self.rng.pick(&["AND", "OR", "NOT"]);
                let n = 1 + self.rng.below(2);
                let items: Vec<Json> = (0..n).map(|_| self.where_(model, depth + 1)).collect();
                let v = if items.len() == 1 && self.rng.chance(50) { items[0].clone() } else { Json::Array(items) };
                (op.to_owned(), v)
            }
            _ => self.tenant_condition(model, depth),
        }
    }

    /// A condition naming the tenant field: it may narrow A's rows, never widen them.
    fn tenant_condition(&mut self, model: &str, depth: usize) -> (String, Json) {
        let field = self.w.schema.tenancy.field_name.clone();
        let shared = matches!(self.w.kind(model), Kind::Scoped { shared: true });
        match self.rng.below(5) {
            0 => (field, self.tenant_value(shared)),
            1 => (field, json!({"in": [A, B]})),
            2 => (field, json!({"not": A})),
            3 => (field, json!({"notIn": [A]})),
            _ => {
                let other = self.where_(model, depth + 1);
                ("OR".into(), json!([{ field: B }, other]))
            }
        }
    }

    fn scalar_condition(&mut self, model: &str, s: &Scalar) -> Json {
        if s.optional && self.rng.chance(12) {
            return if self.rng.chance(50) { Json::Null } else { json!({"not": null}) };
        }
        let v = self.filter_value(model, s);
        let v2 = self.filter_value(model, s);
        match &s.ty {
            ScalarType::String => match self.rng.below(11) {
                0 => v,
                1 => json!({"equals": v}),
                2 => json!({"equals": upper(&v), "mode": "insensitive"}),
                3 => json!({"contains": slice(&v, 1, 3)}),
                4 => json!({"startsWith": slice(&v, 0, 2)}),
                5 => json!({"endsWith": tail(&v, 3), "mode": "insensitive"}),
                6 => json!({"in": [v, v2]}),
                7 => json!({"notIn": [v]}),
                8 => json!({"not": v}),
                9 => json!({"not": {"contains": slice(&v, 0, 2)}}),
                _ => json!({"gt": v, "lte": v2}),
            },
            ScalarType::Int | ScalarType::Float | ScalarType::Decimal | ScalarType::BigInt => match self.rng.below(6) {
                0 => v,
                1 => json!({"gt": v}),
                2 => json!({"lte": v}),
                3 => json!({"in": [v, v2]}),
                4 => json!({"notIn": [v]}),
                _ => json!({"not": v}),
            },
            ScalarType::Boolean => if self.rng.chance(50) { v } else { json!({"not": v}) },
            ScalarType::Enum(_) => match self.rng.below(4) {
                0 => v,
                1 => json!({"in": [v, v2]}),
                2 => json!({"notIn": [v]}),
                _ => json!({"not": v}),
            },
            ScalarType::DateTime => match self.rng.below(3) {
                0 => json!({"gte": v}),
                1 => json!({"lt": v}),
                _ => v,
            },
            _ => v,
        }
    }

    fn relation_condition(&mut self, r: &Relation, depth: usize) -> Json {
        let inner = self.where_(&r.related, depth + 1);
        if r.list {
            let op = *self.rng.pick(&["some", "every", "none"]);
            let mut obj = Map::new();
            obj.insert(op.into(), inner);
            if self.rng.chance(15) {
                let op2 = *self.rng.pick(&["some", "every", "none"]);
                let inner2 = self.where_(&r.related, depth + 1);
                obj.insert(op2.into(), inner2);
            }
            return Json::Object(obj);
        }
        let optional = !matches!(r.link, LinkKind::Owner { required: true });
        match self.rng.below(if optional { 7 } else { 3 }) {
            0 => inner,
            1 => json!({"is": inner}),
            2 => json!({"isNot": inner}),
            3 => Json::Null,
            4 => json!({"is": null}),
            5 => json!({"isNot": null}),
            _ => json!({"is": inner, "isNot": self.where_(&r.related, depth + 1)}),
        }
    }

    /// The unique `where` of a top-level update or delete: more often one of A's rows than
    /// `unique_where` picks, so the nested writes behind it get to run.
    fn target_where(&mut self, model: &str) -> Json {
        let own: Vec<usize> =
            self.w.rows_of(model).iter().enumerate().filter(|(_, r)| r.owner == Owner::A).map(|(i, _)| i).collect();
        if own.is_empty() || self.rng.chance(45) {
            return self.unique_where(model, true);
        }
        let i = *self.rng.pick(&own);
        self.unique_where_of(model, Some(i), true)
    }

    /// A unique `where`: a key of a seeded row (A's, B's or shared) or of no row.
    pub fn unique_where(&mut self, model: &str, extra: bool) -> Json {
        let n = self.w.rows_of(model).len();
        let row = if n == 0 || self.rng.chance(8) { None } else { Some(self.rng.below(n)) };
        self.unique_where_of(model, row, extra)
    }

    fn unique_where_of(&mut self, model: &str, row: Option<usize>, extra: bool) -> Json {
        let keys = self.w.unique_keys(model);
        let (name, fields) = self.rng.pick(&keys).clone();
        let rows = self.w.rows_of(model);
        let row = row.map(|i| &rows[i]);
        let mut values = Map::new();
        for f in &fields {
            let s = self.w.scalar(model, f).unwrap_or_else(|| panic!("no field {model}.{f}"));
            let v = match row.and_then(|r| r.values.get(f)).filter(|v| !v.is_null()) {
                Some(v) => v.clone(),
                None if s.is_tenant => json!(if self.rng.chance(50) { A } else { B }),
                None => self.missing(&s.ty),
            };
            values.insert(f.clone(), v);
        }
        let mut w = if fields.len() == 1 { values } else {
            let mut m = Map::new();
            m.insert(name, Json::Object(values));
            m
        };
        if extra && self.rng.chance(15) {
            let scalars = self.scalars_for_filter(model);
            let s = self.rng.pick(&scalars).clone();
            if !w.contains_key(&s.name) {
                let c = self.scalar_condition(model, &s);
                w.insert(s.name, c);
            }
        }
        Json::Object(w)
    }

    /// A cursor: the single-field id of a seeded row or of no row.
    fn cursor(&mut self, model: &str) -> Option<Json> {
        let ids = self.w.identifier(model);
        if ids.len() != 1 {
            return None;
        }
        let s = self.w.scalar(model, &ids[0])?;
        let pool = self.w.pool(model, &ids[0]);
        let v = if pool.is_empty() || self.rng.chance(10) { self.missing(&s.ty) } else { self.rng.pick(&pool).clone() };
        Some(json!({ ids[0].clone(): v }))
    }

    // ------------------------------------------------------------------ selections and windows

    fn orderable(&self, model: &str) -> Vec<Scalar> {
        self.scalars_for_filter(model)
    }

    /// One `orderBy` object: a scalar, a to-one relation's field, or a to-many count.
    fn order_item(&mut self, model: &str, depth: usize) -> Json {
        let relations = self.w.relations(model);
        let to_one: Vec<Relation> = relations.iter().filter(|r| !r.list).cloned().collect();
        let to_many: Vec<Relation> = relations.iter().filter(|r| r.list).cloned().collect();
        let d = if self.rng.chance(50) { "asc" } else { "desc" };
        match self.rng.weighted(&[70, if depth < 2 && !to_one.is_empty() { 15 } else { 0 }, if !to_many.is_empty() { 15 } else { 0 }]) {
            0 => {
                let scalars = self.orderable(model);
                let s = self.rng.pick(&scalars).clone();
                if s.optional && self.rng.chance(40) {
                    let nulls = if self.rng.chance(50) { "first" } else { "last" };
                    json!({ s.name: {"sort": d, "nulls": nulls} })
                } else {
                    json!({ s.name: d })
                }
            }
            1 => {
                let r = self.rng.pick(&to_one).clone();
                let inner = self.order_item(&r.related, depth + 1);
                json!({ r.name: inner })
            }
            _ => {
                let r = self.rng.pick(&to_many).clone();
                json!({ r.name: {"_count": d} })
            }
        }
    }

    fn order_by(&mut self, model: &str) -> Json {
        let n = 1 + self.rng.below(2);
        let items: Vec<Json> = (0..n).map(|_| self.order_item(model, 0)).collect();
        if items.len() == 1 && self.rng.chance(50) { items[0].clone() } else { Json::Array(items) }
    }

    /// `where`, `orderBy`, `cursor`, `take`, `skip`, `distinct` of a list read.
    fn window(&mut self, model: &str, depth: usize, a: &mut Map<String, Json>) {
        if self.rng.chance(60) {
            a.insert("where".into(), self.where_(model, depth));
        }
        if self.rng.chance(45) {
            a.insert("orderBy".into(), self.order_by(model));
        }
        if self.rng.chance(12) {
            if let Some(c) = self.cursor(model) {
                a.insert("cursor".into(), c);
            }
        }
        if self.rng.chance(30) {
            let t = self.rng.range(1, 4);
            a.insert("take".into(), json!(if self.rng.chance(20) { -t } else { t }));
        }
        if self.rng.chance(15) {
            a.insert("skip".into(), json!(self.rng.range(0, 2)));
        }
        if self.rng.chance(8) {
            let scalars = self.orderable(model);
            let s = self.rng.pick(&scalars).clone();
            a.insert("distinct".into(), json!([s.name]));
        }
    }

    fn find_many_args(&mut self, model: &str) -> Json {
        let mut a = self.selection(model, 1);
        self.window(model, 1, &mut a);
        Json::Object(a)
    }

    /// `select`, `include` or `omit` (or nothing) for a row of `model`. A `select` always keeps
    /// the fields that tell whose row it is (the id and the tenant field).
    pub fn selection(&mut self, model: &str, depth: usize) -> Map<String, Json> {
        let mut a = Map::new();
        let relations = self.w.relations(model);
        let can_nest = depth < MAX_DEPTH && !relations.is_empty();
        match self.rng.weighted(&[25, 40, if can_nest { 30 } else { 0 }, 5]) {
            0 => {}
            1 => {
                let mut sel = Map::new();
                for s in self.w.scalars(model) {
                    if self.w.identifier(model).contains(&s.name) || s.is_tenant || self.rng.chance(35) {
                        sel.insert(s.name.clone(), json!(true));
                    }
                }
                if can_nest {
                    for r in self.rng.some_of(&relations, 2) {
                        let v = self.nested_relation(&r, depth);
                        sel.insert(r.name.clone(), v);
                    }
                    if self.rng.chance(20) {
                        if let Some(c) = self.count_selection(model, depth) {
                            sel.insert("_count".into(), c);
                        }
                    }
                }
                a.insert("select".into(), Json::Object(sel));
            }
            2 => {
                let mut inc = Map::new();
                let n = 1 + self.rng.below(2);
                for r in self.rng.some_of(&relations, n) {
                    let v = self.nested_relation(&r, depth);
                    inc.insert(r.name.clone(), v);
                }
                if self.rng.chance(20) {
                    if let Some(c) = self.count_selection(model, depth) {
                        inc.insert("_count".into(), c);
                    }
                }
                a.insert("include".into(), Json::Object(inc));
            }
            _ => {
                let mut omit = Map::new();
                for s in self.w.scalars(model) {
                    if !self.w.identifier(model).contains(&s.name) && !s.is_tenant && self.rng.chance(40) {
                        omit.insert(s.name.clone(), json!(true));
                    }
                }
                a.insert("omit".into(), Json::Object(omit));
            }
        }
        a
    }

    fn nested_relation(&mut self, r: &Relation, depth: usize) -> Json {
        if self.rng.chance(30) {
            return json!(true);
        }
        let mut a = self.selection(&r.related, depth + 1);
        if r.list {
            self.window(&r.related, depth + 1, &mut a);
        }
        if a.is_empty() { json!(true) } else { Json::Object(a) }
    }

    fn count_selection(&mut self, model: &str, depth: usize) -> Option<Json> {
        let lists: Vec<Relation> = self.w.relations(model).into_iter().filter(|r| r.list).collect();
        if lists.is_empty() {
            return None;
        }
        if self.rng.chance(35) {
            return Some(json!(true));
        }
        let mut sel = Map::new();
        let n = 1 + self.rng.below(2);
        for r in self.rng.some_of(&lists, n) {
            let v = if self.rng.chance(50) { json!(true) } else { json!({"where": self.where_(&r.related, depth + 1)}) };
            sel.insert(r.name.clone(), v);
        }
        if sel.is_empty() {
            sel.insert(lists[0].name.clone(), json!(true));
        }
        Some(json!({"select": sel}))
    }

    /// The selection of a write's result (often none).
    fn write_selection(&mut self, model: &str) -> Map<String, Json> {
        if self.rng.chance(50) { Map::new() } else { self.selection(model, 1) }
    }

    // ------------------------------------------------------------------ count, aggregate, groupBy

    fn count_args(&mut self, model: &str) -> Json {
        let mut a = Map::new();
        if self.rng.chance(80) {
            a.insert("where".into(), self.where_(model, 1));
        }
        if self.rng.chance(15) {
            a.insert("take".into(), json!(self.rng.range(1, 4)));
            a.insert("orderBy".into(), self.scalar_order(model));
        }
        if self.rng.chance(25) {
            let mut sel = Map::new();
            sel.insert("_all".into(), json!(true));
            for s in self.rng.some_of(&self.scalars_for_filter(model), 2) {
                sel.insert(s.name, json!(true));
            }
            a.insert("select".into(), Json::Object(sel));
        }
        Json::Object(a)
    }

    /// An order on scalar fields only (used where results are compared with a hand-scoped query).
    fn scalar_order(&mut self, model: &str) -> Json {
        let scalars = self.orderable(model);
        let s = self.rng.pick(&scalars).clone();
        let d = if self.rng.chance(50) { "asc" } else { "desc" };
        json!({ s.name: d })
    }

    fn numeric(&self, model: &str) -> Vec<Scalar> {
        self.scalars_for_filter(model)
            .into_iter()
            .filter(|s| matches!(s.ty, ScalarType::Int | ScalarType::Float | ScalarType::Decimal | ScalarType::BigInt))
            .collect()
    }

    fn aggregates(&mut self, model: &str, a: &mut Map<String, Json>) {
        let numeric = self.numeric(model);
        let all = self.scalars_for_filter(model);
        if self.rng.chance(60) {
            if self.rng.chance(50) {
                a.insert("_count".into(), json!(true));
            } else {
                let mut c = Map::new();
                c.insert("_all".into(), json!(true));
                for s in self.rng.some_of(&all, 2) {
                    c.insert(s.name, json!(true));
                }
                a.insert("_count".into(), Json::Object(c));
            }
        }
        for op in ["_sum", "_avg"] {
            if !numeric.is_empty() && self.rng.chance(45) {
                let mut m = Map::new();
                for s in self.rng.some_of(&numeric, 2) {
                    m.insert(s.name, json!(true));
                }
                if !m.is_empty() {
                    a.insert(op.into(), Json::Object(m));
                }
            }
        }
        for op in ["_min", "_max"] {
            if self.rng.chance(40) {
                let mut m = Map::new();
                for s in self.rng.some_of(&all, 2) {
                    m.insert(s.name, json!(true));
                }
                if !m.is_empty() {
                    a.insert(op.into(), Json::Object(m));
                }
            }
        }
    }

    fn aggregate_args(&mut self, model: &str) -> Json {
        let mut a = Map::new();
        if self.rng.chance(80) {
            a.insert("where".into(), self.where_(model, 1));
        }
        if self.rng.chance(20) {
            a.insert("orderBy".into(), self.scalar_order(model));
            a.insert("take".into(), json!(self.rng.range(1, 4)));
            if self.rng.chance(40) {
                a.insert("skip".into(), json!(self.rng.range(0, 2)));
            }
        }
        self.aggregates(model, &mut a);
        if !a.keys().any(|k| k.starts_with('_')) {
            a.insert("_count".into(), json!(true));
        }
        Json::Object(a)
    }

    fn group_by_args(&mut self, model: &str) -> Json {
        let mut a = Map::new();
        let candidates = self.scalars_for_filter(model);
        let mut by: Vec<String> = self.rng.some_of(&candidates, 2).into_iter().map(|s| s.name).collect();
        if by.is_empty() {
            by.push(candidates[0].name.clone());
        }
        a.insert("by".into(), json!(by));
        if self.rng.chance(70) {
            a.insert("where".into(), self.where_(model, 1));
        }
        self.aggregates(model, &mut a);
        if self.rng.chance(30) {
            let numeric = self.numeric(model);
            let h = if !numeric.is_empty() && self.rng.chance(50) {
                let s = self.rng.pick(&numeric).clone();
                let op = *self.rng.pick(&["_sum", "_avg", "_max", "_min"]);
                json!({ s.name: { op: {"gt": self.rng.range(0, 50)} } })
            } else {
                json!({"_count": {"_all": {"gte": self.rng.range(1, 2)}}})
            };
            a.insert("having".into(), h);
        }
        if self.rng.chance(35) {
            // Ordered by every grouped field, so a window picks the same groups in every plan.
            let order: Vec<Json> = by.iter().map(|f| json!({ f: if self.rng.chance(50) { "asc" } else { "desc" } })).collect();
            a.insert("orderBy".into(), Json::Array(order));
            if self.rng.chance(50) {
                a.insert("take".into(), json!(self.rng.range(1, 3)));
            }
            if self.rng.chance(30) {
                a.insert("skip".into(), json!(self.rng.range(0, 1)));
            }
        }
        Json::Object(a)
    }

    // ------------------------------------------------------------------ writes

    /// Scalar data for a new row of `model` (createMany): required fields and some optional
    /// ones; foreign keys written directly.
    fn scalar_create_data(&mut self, model: &str) -> Json {
        let mut data = Map::new();
        for s in self.w.scalars(model) {
            if s.list {
                continue;
            }
            if s.is_tenant {
                let shared = matches!(self.w.kind(model), Kind::Scoped { shared: true });
                if self.rng.chance(12) {
                    data.insert(s.name.clone(), self.tenant_value(shared));
                }
                continue;
            }
            let required = !s.optional && !s.has_default;
            if required || self.rng.chance(30) {
                if s.has_default && self.w.identifier(model).contains(&s.name) && self.rng.chance(70) {
                    continue;
                }
                let v = self.write_value(model, &s);
                data.insert(s.name.clone(), v);
            }
        }
        Json::Object(data)
    }

    /// `data` of a create on `model`, with nested writes. `linked` is the relation field back to
    /// the parent of a nested create (its foreign key is filled in by the engine).
    pub fn create_data(&mut self, model: &str, depth: usize, linked: Option<&str>) -> Json {
        let mut data = Map::new();
        let relations = self.w.relations(model);
        let mut covered: Vec<String> = Vec::new();
        // Relations whose foreign key this row holds.
        for r in relations.iter().filter(|r| matches!(r.link, LinkKind::Owner { .. })) {
            if Some(r.name.as_str()) == linked {
                covered.extend(r.fk_fields.iter().cloned());
                continue;
            }
            if r.to_tenant {
                if self.rng.chance(10) {
                    let id = if self.rng.chance(60) { A } else { B };
                    data.insert(r.name.clone(), json!({"connect": {"id": id}}));
                    covered.extend(r.fk_fields.iter().cloned());
                }
                continue;
            }
            let required = matches!(r.link, LinkKind::Owner { required: true });
            let choice = self.rng.weighted(&[if required { 0 } else { 50 }, 30, 55]);
            match choice {
                0 => covered.extend(r.fk_fields.iter().cloned()),
                1 => {} // written as foreign key scalars below
                _ => {
                    let op = self.owner_side_create_op(r, depth);
                    data.insert(r.name.clone(), op);
                    covered.extend(r.fk_fields.iter().cloned());
                }
            }
        }
        for s in self.w.scalars(model) {
            if s.list || covered.contains(&s.name) {
                continue;
            }
            if s.is_tenant {
                let shared = matches!(self.w.kind(model), Kind::Scoped { shared: true });
                if self.rng.chance(10) {
                    data.insert(s.name.clone(), self.tenant_value(shared));
                }
                continue;
            }
            let required = !s.optional && !s.has_default;
            if required || (s.fk_to.is_none() && self.rng.chance(35)) || (s.fk_to.is_some() && self.rng.chance(15)) {
                if s.has_default && self.w.identifier(model).contains(&s.name) && self.rng.chance(70) {
                    continue;
                }
                let v = self.write_value(model, &s);
                data.insert(s.name.clone(), v);
            }
        }
        // Rows that point here, and many-to-many links.
        if depth < MAX_DEPTH {
            for r in relations.iter().filter(|r| !matches!(r.link, LinkKind::Owner { .. })) {
                if Some(r.name.as_str()) == linked || !self.rng.chance(20) {
                    continue;
                }
                let op = self.back_create_op(r, depth);
                data.insert(r.name.clone(), op);
            }
        }
        Json::Object(data)
    }

    /// create / connect / connectOrCreate of the row a to-one relation points to.
    fn owner_side_create_op(&mut self, r: &Relation, depth: usize) -> Json {
        let back = r.back.clone();
        match self.rng.weighted(&[if depth < MAX_DEPTH { 30 } else { 0 }, 50, if depth < MAX_DEPTH { 20 } else { 0 }]) {
            0 => json!({"create": self.create_data(&r.related, depth + 1, back.as_deref())}),
            1 => json!({"connect": self.target_where(&r.related)}),
            _ => json!({"connectOrCreate": {
                "where": self.unique_where(&r.related, false),
                "create": self.create_data(&r.related, depth + 1, back.as_deref()),
            }}),
        }
    }

    /// Nested writes available in a create on a relation whose other side holds the key (or a
    /// many-to-many one).
    fn back_create_op(&mut self, r: &Relation, depth: usize) -> Json {
        let back = r.back.clone();
        let many = r.list;
        let create_many_ok = many && matches!(r.link, LinkKind::Back { .. });
        match self.rng.weighted(&[35, 35, 20, if create_many_ok { 10 } else { 0 }]) {
            0 => {
                let item = self.create_data(&r.related, depth + 1, back.as_deref());
                json!({"create": if many && self.rng.chance(30) { json!([item]) } else { item }})
            }
            1 => {
                let item = self.unique_where(&r.related, false);
                json!({"connect": if many && self.rng.chance(30) { json!([item, self.unique_where(&r.related, false)]) } else { item }})
            }
            2 => json!({"connectOrCreate": {
                "where": self.unique_where(&r.related, false),
                "create": self.create_data(&r.related, depth + 1, back.as_deref()),
            }}),
            _ => {
                let rows: Vec<Json> = (0..1 + self.rng.below(2)).map(|_| self.nested_scalar_data(&r.related, back.as_deref())).collect();
                json!({"createMany": {"data": rows, "skipDuplicates": self.rng.chance(30)}})
            }
        }
    }

    /// Scalar data of a nested createMany row: the foreign key back to the parent is filled in.
    fn nested_scalar_data(&mut self, model: &str, linked: Option<&str>) -> Json {
        let fk: Vec<String> = linked.and_then(|l| self.w.relation(model, l)).map(|r| r.fk_fields).unwrap_or_default();
        let mut data = self.scalar_create_data(model);
        if let Json::Object(m) = &mut data {
            m.retain(|k, _| !fk.contains(k));
        }
        data
    }

    /// `data` of an update on `model`; nested writes only when `nested`.
    pub fn update_data(&mut self, model: &str, depth: usize, nested: bool) -> Json {
        let mut data = Map::new();
        let ids = self.w.identifier(model);
        let scalars: Vec<Scalar> = self.w.scalars(model).into_iter().filter(|s| !s.list && !ids.contains(&s.name)).collect();
        let n = self.rng.below(3);
        for s in self.rng.some_of(&scalars, n) {
            let v = if s.is_tenant {
                let shared = matches!(self.w.kind(model), Kind::Scoped { shared: true });
                self.tenant_value(shared)
            } else if s.optional && self.rng.chance(15) {
                Json::Null
            } else {
                let v = self.write_value(model, &s);
                let numeric = matches!(s.ty, ScalarType::Int | ScalarType::Float | ScalarType::Decimal) && s.fk_to.is_none();
                match self.rng.below(if numeric { 4 } else { 2 }) {
                    0 => v,
                    1 => json!({"set": v}),
                    2 => json!({"increment": self.rng.range(1, 5)}),
                    _ => json!({"decrement": self.rng.range(1, 5)}),
                }
            };
            data.insert(s.name.clone(), v);
        }
        if nested && depth < MAX_DEPTH {
            let relations = self.w.relations(model);
            let n = self.rng.weighted(&[45, 40, 15]);
            for r in self.rng.some_of(&relations, n) {
                if r.fk_fields.iter().any(|f| data.contains_key(f)) {
                    continue;
                }
                let op = self.nested_update_op(&r, depth);
                data.insert(r.name.clone(), op);
            }
        }
        if data.is_empty() && !scalars.is_empty() {
            let s = self.rng.pick(&scalars).clone();
            if !s.is_tenant {
                let v = self.write_value(model, &s);
                data.insert(s.name, v);
            }
        }
        Json::Object(data)
    }

    fn nested_update_op(&mut self, r: &Relation, depth: usize) -> Json {
        let back = r.back.clone();
        let related = r.related.clone();
        let d = depth + 1;
        if !r.list {
            // To-one: which operations Prisma's input types offer depends on who holds the key.
            let (can_disconnect, can_delete) = match r.link {
                LinkKind::Owner { required } => (!required, !required),
                LinkKind::Back { required } => (!required, true),
                LinkKind::Join => (true, true),
            };
            let mut ops: Vec<&str> = vec!["create", "connect", "connectOrCreate", "update", "upsert"];
            if can_disconnect {
                ops.push("disconnect");
            }
            if can_delete {
                ops.push("delete");
            }
            if r.to_tenant {
                ops = vec!["connect", "update"];
            }
            let op = *self.rng.pick(&ops);
            let v = match op {
                "create" => self.create_data(&related, d, back.as_deref()),
                "connect" => self.unique_where(&related, false),
                "connectOrCreate" => json!({"where": self.unique_where(&related, false), "create": self.create_data(&related, d, back.as_deref())}),
                "update" => {
                    let data = self.update_data(&related, d, true);
                    if self.rng.chance(50) { json!({"data": data}) } else { data }
                }
                "upsert" => json!({"create": self.create_data(&related, d, back.as_deref()), "update": self.update_data(&related, d, true)}),
                "disconnect" | "delete" => {
                    if matches!(r.link, LinkKind::Owner { .. }) && self.rng.chance(30) { self.where_(&related, d) } else { json!(true) }
                }
                _ => json!(true),
            };
            return json!({ op: v });
        }
        let join = r.link == LinkKind::Join;
        let ops: &[&str] = if join {
            &["create", "connect", "connectOrCreate", "set", "disconnect", "delete", "update", "updateMany", "deleteMany", "upsert"]
        } else {
            &["create", "createMany", "connect", "connectOrCreate", "set", "disconnect", "delete", "update", "updateMany", "deleteMany", "upsert"]
        };
        let op = *self.rng.pick(ops);
        let v = match op {
            "create" => self.create_data(&related, d, back.as_deref()),
            "createMany" => {
                let rows: Vec<Json> = (0..1 + self.rng.below(2)).map(|_| self.nested_scalar_data(&related, back.as_deref())).collect();
                json!({"data": rows})
            }
            "connect" | "disconnect" | "delete" => {
                let u = self.unique_where(&related, false);
                if self.rng.chance(25) { json!([u, self.unique_where(&related, false)]) } else { u }
            }
            "set" => {
                let n = self.rng.below(3);
                Json::Array((0..n).map(|_| self.unique_where(&related, false)).collect())
            }
            "connectOrCreate" => json!({"where": self.unique_where(&related, false), "create": self.create_data(&related, d, back.as_deref())}),
            "update" => json!({"where": self.unique_where(&related, false), "data": self.update_data(&related, d, true)}),
            "updateMany" => json!({"where": self.where_(&related, d), "data": self.update_data(&related, d, false)}),
            "deleteMany" => if self.rng.chance(20) { json!({}) } else { self.where_(&related, d) },
            _ => json!({
                "where": self.unique_where(&related, false),
                "create": self.create_data(&related, d, back.as_deref()),
                "update": self.update_data(&related, d, true),
            }),
        };
        json!({ op: v })
    }

    fn upsert_args(&mut self, model: &str) -> Json {
        let mut a = self.write_selection(model);
        let w = self.unique_where(model, false);
        let mut create = self.create_data(model, 1, None);
        // Often the create repeats the unique key (the single-statement ON CONFLICT form).
        if self.rng.chance(60) {
            if let (Json::Object(c), Json::Object(wm)) = (&mut create, &w) {
                for (k, v) in wm {
                    match v {
                        Json::Object(inner) if self.w.scalar(model, k).is_none() => {
                            for (f, x) in inner {
                                c.insert(f.clone(), x.clone());
                            }
                        }
                        _ => {
                            c.insert(k.clone(), v.clone());
                        }
                    }
                }
                // A relation write and its foreign key cannot both be given.
                for r in self.w.relations(model) {
                    if r.fk_fields.iter().any(|f| c.contains_key(f)) {
                        c.remove(&r.name);
                    }
                }
            }
        }
        a.insert("where".into(), w);
        a.insert("create".into(), create);
        a.insert("update".into(), self.update_data(model, 1, true));
        Json::Object(a)
    }
}

/// Adds `key: value` to a where object; a key already there moves into `AND`.
fn add_condition(obj: &mut Map<String, Json>, key: String, value: Json) {
    if !obj.contains_key(&key) {
        obj.insert(key, value);
        return;
    }
    let mut extra = Map::new();
    extra.insert(key, value);
    match obj.get_mut("AND") {
        Some(Json::Array(items)) => items.push(Json::Object(extra)),
        Some(other) => {
            let prev = other.take();
            *other = json!([prev, Json::Object(extra)]);
        }
        None => {
            obj.insert("AND".into(), json!([Json::Object(extra)]));
        }
    }
}

pub fn has_marker(v: &Json) -> bool {
    match v {
        Json::String(s) => {
            let l = s.to_lowercase();
            B_MARKERS.iter().any(|m| l.contains(m))
        }
        Json::Array(items) => items.iter().any(has_marker),
        Json::Object(o) => o.values().any(has_marker),
        _ => false,
    }
}

fn upper(v: &Json) -> Json {
    match v {
        Json::String(s) => json!(s.to_uppercase()),
        other => other.clone(),
    }
}

fn slice(v: &Json, from: usize, len: usize) -> Json {
    match v {
        Json::String(s) => json!(s.chars().skip(from).take(len).collect::<String>()),
        other => other.clone(),
    }
}

fn tail(v: &Json, len: usize) -> Json {
    match v {
        Json::String(s) => {
            let chars: Vec<char> = s.chars().collect();
            json!(chars[chars.len().saturating_sub(len)..].iter().collect::<String>())
        }
        other => other.clone(),
    }
}
