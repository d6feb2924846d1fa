//! The resolved schema as JSON, for code generators (`quarry generate` writes TypeScript types
//! from it) and other tools: what the client API sees — models with their fields, keys, relations
//! and tenancy, and enums — under the names the client uses (never database names). `@ignore`d
//! fields and `@@ignore`d models are left out, as they are from the client, and so are relation
//! fields that lead to an ignored model.
//!
//! The shape (every key always present unless marked optional):
//!
//! ```text
//! { provider: "postgresql" | "mysql" | "sqlite",
//!   generators: [{ name, config: { key: "string value", ... } }],
//!   tenancy: { field: "tenantId", tenantModel: "Tenant" | null },
//!   enums: [{ name, values: ["A", ...], documentation? }],
//!   models: [{ name, documentation?,
//!              tenancy: "unscoped" | "scoped" | "shared" | "tenant",
//!              primaryKey: { name, fields } | null,      // name: the key in a unique where (a_b)
//!              uniques: [{ name, fields }],
//!              fields: [{ name, kind: "scalar" | "enum" | "relation" | "unsupported",
//!                         type,                          // Int, String, ..., an enum or a model
//!                         list, required, id, unique, updatedAt,
//!                         default: null | { kind, value? }, // kind: autoincrement, now, uuid, ...
//!                         relation?: { name, link: "foreignKey" | "backReference" | "joinTable",
//!                                      fields, references, back },
//!                         documentation? }] }] }
//! ```
//!
//! For a `foreignKey` link, `fields` are this model's foreign key fields; for a `backReference`,
//! they are the related model's (its foreign key to this one); a `joinTable` has none.

use super::{
    Arity, DefaultValue, Field, FieldKind, Literal, Model, ModelTenancy, Provider, RelationLink, ScalarType, Schema,
};
use serde_json::{Map, Value as Json, json};

/// The schema as the client API sees it (see the module's documentation for the shape).
pub fn describe(schema: &Schema) -> Json {
    let visible = |m: &Model| !m.ignored;
    let models: Vec<Json> = schema
        .model_ids()
        .filter(|id| visible(schema.model(*id)))
        .map(|id| {
            let m = schema.model(id);
            let tenancy = match schema.tenancy.models.get(id.0 as usize) {
                Some(ModelTenancy::Scoped { shared: false, .. }) => "scoped",
                Some(ModelTenancy::Scoped { shared: true, .. }) => "shared",
                Some(ModelTenancy::Tenant { .. }) => "tenant",
                Some(ModelTenancy::Unscoped) | None => "unscoped",
            };
            let names = |ids: &[super::FieldId]| ids.iter().map(|f| m.field(*f).name.clone()).collect::<Vec<_>>();
            let key = |ids: &[super::FieldId], name: Option<&str>| {
                json!({ "name": m.key_name(ids, name), "fields": names(ids) })
            };
            let fields: Vec<Json> = m
                .fields
                .iter()
                .filter(|f| !f.ignored)
                .filter(|f| f.as_relation().is_none_or(|r| visible(schema.model(r.related))))
                .map(|f| field(schema, m, f))
                .collect();
            let mut out = Map::new();
            out.insert("name".into(), json!(m.name));
            if let Some(doc) = &m.documentation {
                out.insert("documentation".into(), json!(doc));
            }
            out.insert("tenancy".into(), json!(tenancy));
            out.insert("primaryKey".into(), m.primary_key.as_ref().map_or(Json::Null, |pk| key(&pk.fields, pk.name.as_deref())));
            out.insert("uniques".into(), Json::Array(m.uniques.iter().map(|u| key(&u.fields, u.name.as_deref())).collect()));
            out.insert("fields".into(), Json::Array(fields));
            Json::Object(out)
        })
        .collect();
    let enums: Vec<Json> = schema
        .enums
        .iter()
        .map(|e| {
            let mut out = Map::new();
            out.insert("name".into(), json!(e.name));
            out.insert("values".into(), json!(e.values.iter().map(|v| v.name.as_str()).collect::<Vec<_>>()));
            if let Some(doc) = &e.documentation {
                out.insert("documentation".into(), json!(doc));
            }
            Json::Object(out)
        })
        .collect();
    let provider = match schema.provider() {
        Provider::Postgresql => "postgresql",
        Provider::Mysql => "mysql",
        Provider::Sqlite => "sqlite",
    };
    // Generator blocks with their settings (`generator quarry { output = "..." }`); values that are
    // not strings (env(...), lists) are left out.
    let generators: Vec<Json> = schema
        .generators
        .iter()
        .map(|g| {
            let config: Map<String, Json> =
                g.properties.iter().filter_map(|p| p.value.as_str().map(|v| (p.key.clone(), json!(v)))).collect();
            json!({ "name": g.name, "config": config })
        })
        .collect();
    json!({
        "provider": provider,
        "generators": generators,
        "tenancy": {
            "field": schema.tenancy.field_name,
            "tenantModel": schema.tenancy.tenant_model.map(|id| schema.model(id).name.clone()),
        },
        "enums": enums,
        "models": models,
    })
}

fn field(schema: &Schema, m: &Model, f: &Field) -> Json {
    let mut out = Map::new();
    out.insert("name".into(), json!(f.name));
    let (kind, ty) = match &f.kind {
        FieldKind::Scalar(s) => match &s.ty {
            ScalarType::Enum(id) => ("enum", schema.enum_(*id).name.clone()),
            ScalarType::Unsupported(text) => ("unsupported", text.clone()),
            other => ("scalar", scalar_name(other).to_owned()),
        },
        FieldKind::Relation(r) => ("relation", schema.model(r.related).name.clone()),
    };
    out.insert("kind".into(), json!(kind));
    out.insert("type".into(), json!(ty));
    out.insert("list".into(), json!(f.arity == Arity::List));
    out.insert("required".into(), json!(f.arity == Arity::Required));
    let scalar = f.as_scalar();
    out.insert("id".into(), json!(scalar.is_some_and(|s| s.is_id)));
    out.insert("unique".into(), json!(scalar.is_some_and(|s| s.is_unique)));
    out.insert("updatedAt".into(), json!(scalar.is_some_and(|s| s.updated_at)));
    out.insert("default".into(), scalar.and_then(|s| s.default.as_ref()).map_or(Json::Null, default));
    if let Some(r) = f.as_relation() {
        let related = schema.model(r.related);
        let names = |owner: &Model, ids: &[super::FieldId]| ids.iter().map(|id| owner.field(*id).name.clone()).collect::<Vec<_>>();
        let (link, fields, references) = match &r.link {
            RelationLink::ForeignKey { fields, references } => ("foreignKey", names(m, fields), names(related, references)),
            RelationLink::BackReference { fields, references } => ("backReference", names(related, fields), names(m, references)),
            RelationLink::JoinTable { .. } => ("joinTable", vec![], vec![]),
        };
        out.insert(
            "relation".into(),
            json!({
                "name": r.relation_name,
                "link": link,
                "fields": fields,
                "references": references,
                "back": r.back.map(|b| related.field(b).name.clone()),
            }),
        );
    }
    if let Some(doc) = &f.documentation {
        out.insert("documentation".into(), json!(doc));
    }
    Json::Object(out)
}

pub(crate) fn scalar_name(ty: &ScalarType) -> &'static str {
    match ty {
        ScalarType::String => "String",
        ScalarType::Int => "Int",
        ScalarType::BigInt => "BigInt",
        ScalarType::Float => "Float",
        ScalarType::Decimal => "Decimal",
        ScalarType::Boolean => "Boolean",
        ScalarType::DateTime => "DateTime",
        ScalarType::Json => "Json",
        ScalarType::Bytes => "Bytes",
        ScalarType::Enum(_) | ScalarType::Unsupported(_) => "Unsupported",
    }
}

fn default(d: &DefaultValue) -> Json {
    let kind = |k: &str| json!({ "kind": k });
    match d {
        DefaultValue::Autoincrement => kind("autoincrement"),
        DefaultValue::Now => kind("now"),
        DefaultValue::Uuid(_) => kind("uuid"),
        DefaultValue::Cuid(_) => kind("cuid"),
        DefaultValue::Nanoid(_) => kind("nanoid"),
        DefaultValue::Ulid => kind("ulid"),
        DefaultValue::DbGenerated(_) => kind("dbgenerated"),
        DefaultValue::Sequence => kind("sequence"),
        DefaultValue::Auto => kind("auto"),
        DefaultValue::Literal(l) => json!({ "kind": "literal", "value": literal(l) }),
    }
}

fn literal(l: &Literal) -> Json {
    match l {
        Literal::String(s) | Literal::Number(s) | Literal::EnumValue(s) => json!(s),
        Literal::Boolean(b) => json!(b),
        Literal::List(items) => Json::Array(items.iter().map(literal).collect()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn describes_models_fields_keys_relations_and_tenancy() {
        let schema = Schema::parse(
            r#"
            generator quarry {
              provider = "quarry generate"
              output   = "../gen"
              extra    = ["a"]
            }
            enum Role { ADMIN MEMBER }
            model Tenant { id String @id  users User[] }
            /// A person.
            model User {
              id       Int      @id @default(autoincrement())
              tenantId String
              tenant   Tenant   @relation(fields: [tenantId], references: [id])
              email    String
              role     Role     @default(MEMBER)
              secret   String   @ignore
              posts    Post[]
              tags     Tag[]
              @@unique([tenantId, email])
            }
            model Post {
              id       Int    @id
              authorId Int
              author   User   @relation(fields: [authorId], references: [id])
              @@unique([authorId, id], name: "byAuthor")
            }
            model Tag { id Int @id  users User[] }
            model Hidden { id Int @id  @@ignore }
            "#,
        )
        .expect("schema parses");
        let d = describe(&schema);
        assert_eq!(d["generators"], json!([{ "name": "quarry", "config": { "provider": "quarry generate", "output": "../gen" } }]));
        assert_eq!(d["tenancy"], json!({ "field": "tenantId", "tenantModel": "Tenant" }));
        assert_eq!(d["enums"][0], json!({ "name": "Role", "values": ["ADMIN", "MEMBER"] }));
        let names: Vec<&str> = d["models"].as_array().unwrap().iter().map(|m| m["name"].as_str().unwrap()).collect();
        assert_eq!(names, ["Tenant", "User", "Post", "Tag"]);
        let user = &d["models"][1];
        assert_eq!(user["tenancy"], "scoped");
        assert_eq!(user["documentation"], "A person.");
        assert_eq!(user["primaryKey"], json!({ "name": "id", "fields": ["id"] }));
        assert_eq!(user["uniques"], json!([{ "name": "tenantId_email", "fields": ["tenantId", "email"] }]));
        let field_names: Vec<&str> = user["fields"].as_array().unwrap().iter().map(|f| f["name"].as_str().unwrap()).collect();
        assert_eq!(field_names, ["id", "tenantId", "tenant", "email", "role", "posts", "tags"]);
        assert_eq!(user["fields"][0]["default"], json!({ "kind": "autoincrement" }));
        assert_eq!(user["fields"][4]["kind"], "enum");
        assert_eq!(user["fields"][4]["default"], json!({ "kind": "literal", "value": "MEMBER" }));
        assert_eq!(
            user["fields"][2]["relation"],
            json!({ "name": "TenantToUser", "link": "foreignKey", "fields": ["tenantId"], "references": ["id"], "back": "users" })
        );
        assert_eq!(
            user["fields"][5]["relation"],
            json!({ "name": "PostToUser", "link": "backReference", "fields": ["authorId"], "references": ["id"], "back": "author" })
        );
        assert_eq!(user["fields"][6]["relation"]["link"], "joinTable");
        assert_eq!(d["models"][0]["tenancy"], "tenant");
        assert_eq!(d["models"][2]["uniques"][0]["name"], "byAuthor");
        assert_eq!(d["models"][3]["tenancy"], "unscoped");
    }
}
