//! What the generator and the oracle know about the schema and the seeded data: each model's
//! tenancy, fields, relations and unique keys; every seeded row with its owner (tenant A, tenant
//! B, shared, or global); the values that occur per field (so filters and writes hit real data of
//! both tenants); and the SQL, in the database's dialect, that fingerprints B's and the shared
//! rows and counts links that cross tenants.

use quarry_engine::Engine;
use quarry_engine::exec::Dialect;
use quarry_engine::schema::{Arity, ModelId, ModelTenancy, RelationLink, ScalarType, Schema};
use serde_json::{Map, Value as Json, json};
use std::collections::BTreeMap;

/// The tenant every generated request runs as.
pub const A: &str = "tnt_a";
/// The other tenant: nothing of it may come back, change or be linked.
pub const B: &str = "tnt_b";
/// Text that only B's rows hold (or that names B): it must never appear in a result or an error.
pub const B_MARKERS: &[&str] = &["secret", "tnt_b", "globex", "glx-", "prj_b", "pr_b"];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Owner {
    A,
    B,
    Shared,
    Global,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// The tenant model: under A only A's row exists.
    Tenant,
    /// Has the tenant field; `shared` when it is optional.
    Scoped { shared: bool },
    Unscoped,
}

#[derive(Clone, Debug)]
pub struct Scalar {
    pub name: String,
    pub column: String,
    pub ty: ScalarType,
    pub optional: bool,
    pub list: bool,
    pub is_tenant: bool,
    pub has_default: bool,
    /// The model this field points to when it is (part of) a foreign key.
    pub fk_to: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkKind {
    /// This model holds the foreign key; `required` when it is not optional.
    Owner { required: bool },
    /// The related model holds the foreign key.
    Back { required: bool },
    Join,
}

#[derive(Clone, Debug)]
pub struct Relation {
    pub name: String,
    pub related: String,
    pub list: bool,
    pub link: LinkKind,
    /// Foreign key fields on this model (for `Owner`).
    pub fk_fields: Vec<String>,
    /// Whether this is the relation to the tenant model through the tenant field.
    pub to_tenant: bool,
    /// The relation field on the related model that is the other side.
    pub back: Option<String>,
}

#[derive(Clone, Debug)]
pub struct Row {
    pub owner: Owner,
    pub values: Map<String, Json>,
}

pub struct World {
    pub schema: Schema,
    /// The PostgreSQL schema or the MySQL database the tables are in.
    pub ns: String,
    pub dialect: Dialect,
    /// Seeded rows per model, in primary key order.
    pub rows: BTreeMap<String, Vec<Row>>,
}

impl World {
    /// Reads every seeded row (unscoped) and works out its owner.
    pub async fn load<Q: quarry_engine::exec::Queryable>(engine: &Engine, q: &Q, dialect: Dialect, ns: &str) -> Result<World, String> {
        let schema = engine.schema().clone();
        let mut world = World { schema, ns: ns.to_owned(), dialect, rows: BTreeMap::new() };
        let models: Vec<String> = world.schema.models.iter().map(|m| m.name.clone()).collect();
        for model in models {
            let order: Vec<Json> = world.identifier(&model).into_iter().map(|f| json!({ f: "asc" })).collect();
            let request = json!({"model": model, "action": "findMany", "args": {"orderBy": order}});
            let rows = engine
                .request_in(q, dialect, &request, &quarry_engine::scope::TenantContext::Unscoped)
                .await
                .map_err(|e| format!("reading the seed of {model}: {e:?}"))?;
            let rows = rows
                .as_array()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .map(|r| {
                    let values = r.as_object().cloned().unwrap_or_default();
                    let owner = world.owner_of_values(&model, &values);
                    Row { owner, values }
                })
                .collect();
            world.rows.insert(model, rows);
        }
        Ok(world)
    }

    pub fn model_id(&self, model: &str) -> ModelId {
        self.schema.find_model(model).unwrap_or_else(|| panic!("no model {model}"))
    }

    pub fn kind(&self, model: &str) -> Kind {
        match self.schema.tenancy.of(self.model_id(model)) {
            ModelTenancy::Tenant { .. } => Kind::Tenant,
            ModelTenancy::Scoped { shared, .. } => Kind::Scoped { shared: *shared },
            ModelTenancy::Unscoped => Kind::Unscoped,
        }
    }

    pub fn scalars(&self, model: &str) -> Vec<Scalar> {
        let m = self.schema.model(self.model_id(model));
        let tenant_field = &self.schema.tenancy.field_name;
        let kind = self.kind(model);
        m.scalar_fields()
            .map(|(fid, f, s)| {
                let fk_to = m.relation_fields().find_map(|(_, _, r)| match &r.link {
                    RelationLink::ForeignKey { fields, .. } if fields.contains(&fid) => Some(self.schema.model(r.related).name.clone()),
                    _ => None,
                });
                Scalar {
                    name: f.name.clone(),
                    column: s.db_name.clone(),
                    ty: s.ty.clone(),
                    optional: f.arity == Arity::Optional,
                    list: f.arity == Arity::List,
                    is_tenant: &f.name == tenant_field && matches!(kind, Kind::Scoped { .. }),
                    has_default: s.default.is_some() || s.updated_at,
                    fk_to,
                }
            })
            .collect()
    }

    pub fn scalar(&self, model: &str, field: &str) -> Option<Scalar> {
        self.scalars(model).into_iter().find(|s| s.name == field)
    }

    pub fn relations(&self, model: &str) -> Vec<Relation> {
        let m = self.schema.model(self.model_id(model));
        let tenant_model = self.schema.tenancy.tenant_model;
        let tenant_field = self.schema.tenancy.field_name.clone();
        m.relation_fields()
            .map(|(_, f, r)| {
                let related = self.schema.model(r.related);
                let required = |model: &quarry_engine::schema::Model, fields: &[quarry_engine::schema::FieldId]| {
                    fields.iter().any(|x| model.field(*x).arity == Arity::Required)
                };
                let (link, fk_fields) = match &r.link {
                    RelationLink::ForeignKey { fields, .. } => (
                        LinkKind::Owner { required: required(m, fields) },
                        fields.iter().map(|x| m.field(*x).name.clone()).collect(),
                    ),
                    RelationLink::BackReference { fields, .. } => (LinkKind::Back { required: required(related, fields) }, vec![]),
                    RelationLink::JoinTable { .. } => (LinkKind::Join, vec![]),
                };
                let to_tenant = Some(r.related) == tenant_model && fk_fields == vec![tenant_field.clone()];
                let back = r.back.map(|b| related.field(b).name.clone());
                Relation { name: f.name.clone(), related: related.name.clone(), list: f.is_list(), link, fk_fields, to_tenant, back }
            })
            .collect()
    }

    pub fn relation(&self, model: &str, field: &str) -> Option<Relation> {
        self.relations(model).into_iter().find(|r| r.name == field)
    }

    /// The fields of the primary key.
    pub fn identifier(&self, model: &str) -> Vec<String> {
        let m = self.schema.model(self.model_id(model));
        m.identifier().iter().map(|f| m.field(*f).name.clone()).collect()
    }

    /// Unique keys (primary key first) as field lists with their `where` key names.
    pub fn unique_keys(&self, model: &str) -> Vec<(String, Vec<String>)> {
        let m = self.schema.model(self.model_id(model));
        let names = |fields: &[quarry_engine::schema::FieldId]| fields.iter().map(|f| m.field(*f).name.clone()).collect::<Vec<_>>();
        let mut out = Vec::new();
        if let Some(pk) = &m.primary_key {
            let fields = names(&pk.fields);
            out.push((pk.name.clone().unwrap_or_else(|| fields.join("_")), fields));
        }
        for u in &m.uniques {
            let fields = names(&u.fields);
            out.push((u.name.clone().unwrap_or_else(|| fields.join("_")), fields));
        }
        out
    }

    fn owner_of_values(&self, model: &str, values: &Map<String, Json>) -> Owner {
        let tenant_field = &self.schema.tenancy.field_name;
        match self.kind(model) {
            Kind::Unscoped => Owner::Global,
            Kind::Tenant => {
                let key = self.identifier(model).into_iter().next().unwrap_or_default();
                owner_of_tenant(values.get(&key))
            }
            Kind::Scoped { .. } => match values.get(tenant_field) {
                None | Some(Json::Null) => Owner::Shared,
                v => owner_of_tenant(v),
            },
        }
    }

    /// The filter that keeps only what A may read of `model` (none for unscoped models).
    pub fn visible(&self, model: &str) -> Option<Json> {
        let tenant_field = self.schema.tenancy.field_name.clone();
        match self.kind(model) {
            Kind::Unscoped => None,
            Kind::Tenant => Some(json!({ self.identifier(model)[0].clone(): A })),
            Kind::Scoped { shared: false } => Some(json!({ tenant_field: A })),
            Kind::Scoped { shared: true } => Some(json!({"OR": [{ tenant_field.clone(): A }, { tenant_field: null }]})),
        }
    }

    /// Whether rows of `model` may have related rows A cannot see (so relation counts seen from
    /// them depend on scope): shared and unscoped rows are linked from every tenant.
    pub fn crosses_tenants(&self, model: &str) -> bool {
        matches!(self.kind(model), Kind::Unscoped | Kind::Scoped { shared: true })
    }

    /// Distinct values a field has in the seed, in seed order.
    pub fn pool(&self, model: &str, field: &str) -> Vec<Json> {
        let mut out: Vec<Json> = Vec::new();
        for r in self.rows.get(model).into_iter().flatten() {
            if let Some(v) = r.values.get(field) {
                if !v.is_null() && !out.contains(v) {
                    out.push(v.clone());
                }
            }
        }
        out
    }

    pub fn rows_of(&self, model: &str) -> &[Row] {
        self.rows.get(model).map(Vec::as_slice).unwrap_or(&[])
    }

    /// The owner of the seeded row a unique `where` names, if it names one.
    pub fn owner_of_where(&self, model: &str, w: &Json) -> Option<Owner> {
        let obj = w.as_object()?;
        let mut wanted: Vec<(String, Json)> = Vec::new();
        for (k, v) in obj {
            match v {
                Json::Object(inner) if self.scalar(model, k).is_none() => {
                    for (f, x) in inner {
                        wanted.push((f.clone(), x.clone()));
                    }
                }
                _ => wanted.push((k.clone(), v.clone())),
            }
        }
        self.rows_of(model)
            .iter()
            .find(|r| wanted.iter().all(|(f, v)| r.values.get(f).is_some_and(|x| same_value(x, v))))
            .map(|r| r.owner)
    }

    // ------------------------------------------------------------------ fingerprints and links

    /// An identifier quoted for the dialect.
    fn quote(&self, name: &str) -> String {
        match self.dialect {
            Dialect::Postgres => format!("\"{}\"", name.replace('"', "\"\"")),
            Dialect::Mysql => format!("`{}`", name.replace('`', "``")),
        }
    }

    fn qualified(&self, table: &str) -> String {
        format!("{}.{}", self.quote(&self.ns), self.quote(table))
    }

    /// One row of the fingerprint: the number of rows of `from` (aliased `x`) that `cond` keeps
    /// and an md5 of their text, sorted. PostgreSQL writes a row as text itself; on MySQL each
    /// column is `QUOTE`d (NULL as the word `NULL`) and the columns joined.
    fn fingerprint_part(&self, label: &str, from: &str, columns: &[String], cond: &str) -> String {
        match self.dialect {
            Dialect::Postgres => format!(
                "SELECT {} AS t, count(*) AS n, md5(coalesce(string_agg(x::text, '|' ORDER BY x::text), '')) AS h FROM {from} x WHERE {cond}",
                lit(label)
            ),
            Dialect::Mysql => {
                let row: Vec<String> = columns.iter().map(|c| format!("QUOTE(x.{})", self.quote(c))).collect();
                format!(
                    "SELECT {} AS t, COUNT(*) AS n, MD5(COALESCE(GROUP_CONCAT(r.r ORDER BY r.r SEPARATOR '|'), '')) AS h \
                     FROM (SELECT CONCAT_WS(',', {}) AS r FROM {from} x WHERE {cond}) r",
                    lit(label),
                    row.join(", ")
                )
            }
        }
    }

    /// One query: a hash of B's rows and of the shared rows per table (join tables included: the
    /// links that touch one of B's rows). Must stay the same whatever A does.
    pub fn fingerprint_sql(&self) -> String {
        let tenant_field = self.schema.tenancy.field_name.clone();
        let mut parts = Vec::new();
        let mut join_tables: Vec<(String, String, String, String, String)> = Vec::new();
        for m in &self.schema.models {
            let name = m.name.clone();
            let table = self.qualified(&m.db_name);
            let columns: Vec<String> = self.scalars(&name).into_iter().map(|s| s.column).collect();
            let column = |field: &str| self.scalar(&name, field).map(|s| s.column).unwrap_or_default();
            match self.kind(&name) {
                Kind::Tenant => {
                    let key = column(&self.identifier(&name)[0]);
                    parts.push(self.fingerprint_part(&format!("{name} of B"), &table, &columns, &format!("x.{} = {}", self.quote(&key), lit(B))));
                }
                Kind::Scoped { shared } => {
                    let t = self.quote(&column(&tenant_field));
                    parts.push(self.fingerprint_part(&format!("{name} of B"), &table, &columns, &format!("x.{t} = {}", lit(B))));
                    if shared {
                        parts.push(self.fingerprint_part(&format!("{name} shared"), &table, &columns, &format!("x.{t} IS NULL")));
                    }
                }
                Kind::Unscoped => {}
            }
            for (_, _, r) in m.relation_fields() {
                if let RelationLink::JoinTable { table: jt, column: c, reference, .. } = &r.link {
                    let id_col = m.field(*reference).as_scalar().map(|s| s.db_name.clone()).unwrap_or_default();
                    join_tables.push((jt.clone(), c.name().to_owned(), name.clone(), m.db_name.clone(), id_col));
                }
            }
        }
        // A join row is B's when either side is one of B's rows.
        let mut seen: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (jt, col, model, model_table, id_col) in &join_tables {
            if let Some(cond) = self.owned_by_b_subquery(model, model_table, id_col) {
                seen.entry(jt.clone()).or_default().push(format!("x.{} IN ({cond})", self.quote(col)));
            }
        }
        let join_columns = ["A".to_owned(), "B".to_owned()];
        for (jt, conds) in seen {
            parts.push(self.fingerprint_part(&format!("{jt} links of B"), &self.qualified(&jt), &join_columns, &conds.join(" OR ")));
        }
        parts.join("\nUNION ALL\n")
    }

    fn owned_by_b_subquery(&self, model: &str, table: &str, id_col: &str) -> Option<String> {
        let tenant_col = match self.kind(model) {
            Kind::Unscoped => return None,
            Kind::Tenant => self.scalar(model, &self.identifier(model)[0])?.column,
            Kind::Scoped { .. } => self.scalar(model, &self.schema.tenancy.field_name)?.column,
        };
        Some(format!("SELECT {} FROM {} WHERE {} = {}", self.quote(id_col), self.qualified(table), self.quote(&tenant_col), lit(B)))
    }

    /// One query: the number of links (foreign keys and join rows) from a row of one tenant to a
    /// row of another. Shared rows may be linked from any tenant; a tenant row only from its own.
    pub fn cross_links_sql(&self) -> String {
        let q = |name: &str| self.quote(name);
        let mut parts = Vec::new();
        for m in &self.schema.models {
            let Some(x_tenant) = self.tenant_column(&m.name) else { continue };
            for (_, _, r) in m.relation_fields() {
                let related = self.schema.model(r.related);
                let Some(y_tenant) = self.tenant_column(&related.name) else { continue };
                match &r.link {
                    RelationLink::ForeignKey { fields, references } => {
                        let on: Vec<String> = fields
                            .iter()
                            .zip(references)
                            .map(|(f, rf)| {
                                let fc = m.field(*f).as_scalar().map(|s| s.db_name.clone()).unwrap_or_default();
                                let rc = related.field(*rf).as_scalar().map(|s| s.db_name.clone()).unwrap_or_default();
                                format!("y.{} = x.{}", q(&rc), q(&fc))
                            })
                            .collect();
                        let (xt, yt) = (q(&x_tenant), q(&y_tenant));
                        let differ = match self.dialect {
                            Dialect::Postgres => format!("x.{xt} IS DISTINCT FROM y.{yt}"),
                            Dialect::Mysql => format!("NOT (x.{xt} <=> y.{yt})"),
                        };
                        parts.push(format!(
                            "SELECT count(*) AS n FROM {} x JOIN {} y ON {} WHERE y.{yt} IS NOT NULL AND {differ}",
                            self.qualified(&m.db_name),
                            self.qualified(&related.db_name),
                            on.join(" AND "),
                        ));
                    }
                    RelationLink::JoinTable { table, column, reference, other_reference } => {
                        // Each join table is seen from both sides; counting from the side whose
                        // column is `A` is enough.
                        if column.name() != "A" {
                            continue;
                        }
                        let xc = m.field(*reference).as_scalar().map(|s| s.db_name.clone()).unwrap_or_default();
                        let yc = related.field(*other_reference).as_scalar().map(|s| s.db_name.clone()).unwrap_or_default();
                        parts.push(format!(
                            "SELECT count(*) AS n FROM {} j JOIN {} x ON x.{} = j.{} JOIN {} y ON y.{} = j.{} \
                             WHERE x.{xt} IS NOT NULL AND y.{yt} IS NOT NULL AND x.{xt} <> y.{yt}",
                            self.qualified(table),
                            self.qualified(&m.db_name),
                            q(&xc),
                            q("A"),
                            self.qualified(&related.db_name),
                            q(&yc),
                            q("B"),
                            xt = q(&x_tenant),
                            yt = q(&y_tenant)
                        ));
                    }
                    RelationLink::BackReference { .. } => {}
                }
            }
        }
        let total = match self.dialect {
            Dialect::Postgres => "(coalesce(sum(n), 0))::int8",
            Dialect::Mysql => "CAST(COALESCE(SUM(n), 0) AS SIGNED)",
        };
        format!("SELECT {total} FROM (\n{}\n) links", parts.join("\nUNION ALL\n"))
    }

    /// The column that holds a row's tenant (the key of the tenant model itself).
    fn tenant_column(&self, model: &str) -> Option<String> {
        match self.kind(model) {
            Kind::Unscoped => None,
            Kind::Tenant => self.scalar(model, &self.identifier(model)[0]).map(|s| s.column),
            Kind::Scoped { .. } => self.scalar(model, &self.schema.tenancy.field_name).map(|s| s.column),
        }
    }
}

fn owner_of_tenant(v: Option<&Json>) -> Owner {
    match v.and_then(Json::as_str) {
        Some(A) => Owner::A,
        Some(B) => Owner::B,
        _ => Owner::Global,
    }
}

/// JSON values that denote the same field value (tagged values compare by their text).
pub fn same_value(a: &Json, b: &Json) -> bool {
    let plain = |v: &Json| match v {
        Json::Object(o) if o.contains_key("$type") => o.get("value").cloned().unwrap_or(Json::Null),
        other => other.clone(),
    };
    let (a, b) = (plain(a), plain(b));
    match (&a, &b) {
        (Json::Number(x), Json::Number(y)) => x.as_f64() == y.as_f64(),
        _ => a == b,
    }
}

/// A SQL string literal for fixed text of this test (never for generated values).
pub fn lit(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}
