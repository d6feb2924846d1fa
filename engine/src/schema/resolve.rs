//! Syntax tree -> resolved [`Schema`]: types resolved, attributes checked, keys and indexes
//! collected, relations paired and resolved to the columns that link them (foreign keys on one
//! side, back references on the other, Prisma's `_AToB` join tables for implicit many-to-many),
//! referential actions defaulted, and tenancy worked out. Errors carry line:column.

use super::parse::ast::{self, Arg, Attribute, Block, Expr, Span};
use super::*;
use crate::error::{Error, Result, codes};
use std::collections::HashMap;

pub(super) fn invalid_at(span: Span, message: impl Into<String>) -> Error {
    invalid(span, message)
}

fn invalid(span: Span, message: impl Into<String>) -> Error {
    at(codes::SCHEMA_INVALID, span, message)
}

/// Valid Prisma that Quarry refuses rather than translate wrongly.
fn unsupported(span: Span, message: impl Into<String>) -> Error {
    at(codes::SCHEMA_UNSUPPORTED, span, message)
}

fn at(code: &'static str, span: Span, message: impl Into<String>) -> Error {
    let message = message.into();
    Error::new(code, format!("line {}, column {}: {message}", span.line, span.column))
        .with_meta("line", span.line)
        .with_meta("column", span.column)
}

const ONE_SCHEMA: &str = "Quarry keeps every table in one PostgreSQL schema, chosen by `?schema=` in the URL or the client's \
     `namespace` option";

fn config_value(e: &Expr) -> ConfigValue {
    match e {
        Expr::String(s) => ConfigValue::String(s.clone()),
        Expr::Number(n) => ConfigValue::Number(n.clone()),
        Expr::Ident(i) if i == "true" => ConfigValue::Bool(true),
        Expr::Ident(i) if i == "false" => ConfigValue::Bool(false),
        Expr::Ident(i) => ConfigValue::Ident(i.clone()),
        Expr::Array(items) => ConfigValue::Array(items.iter().map(config_value).collect()),
        Expr::Call { name, args } => ConfigValue::Function { name: name.clone(), args: args.iter().map(|a| config_value(&a.value)).collect() },
    }
}

/// The argument named `name`, or the positional argument at `position`.
fn arg<'a>(attr: &'a Attribute, name: &str, position: Option<usize>) -> Option<&'a Arg> {
    attr.args.iter().find(|a| a.name.as_deref() == Some(name)).or_else(|| {
        position.and_then(|p| attr.args.iter().filter(|a| a.name.is_none()).nth(p))
    })
}

fn string_arg(attr: &Attribute, name: &str, position: Option<usize>) -> Result<Option<String>> {
    match arg(attr, name, position) {
        None => Ok(None),
        Some(Arg { value: Expr::String(s), .. }) => Ok(Some(s.clone())),
        Some(a) => Err(invalid(a.span, format!("@{}: expected a string for {name}", attr.name))),
    }
}

fn check_args(attr: &Attribute, allowed: &[&str], positional: usize) -> Result<()> {
    let mut pos = 0;
    for a in &attr.args {
        match &a.name {
            Some(n) if !allowed.contains(&n.as_str()) => {
                return Err(invalid(a.span, format!("@{}: unknown argument \"{n}\"; expected one of: {}", attr.name, allowed.join(", "))));
            }
            Some(_) => {}
            None => {
                pos += 1;
                if pos > positional {
                    return Err(invalid(a.span, format!("@{}: too many arguments", attr.name)));
                }
            }
        }
    }
    Ok(())
}

/// Field names in a `[a, b(sort: Desc)]` list.
fn field_list(attr: &Attribute, value: &Expr, span: Span) -> Result<Vec<(String, Vec<Arg>)>> {
    let items = match value {
        Expr::Array(items) => items.clone(),
        other => vec![other.clone()],
    };
    items
        .into_iter()
        .map(|e| match e {
            Expr::Ident(n) => Ok((n, vec![])),
            Expr::Call { name, args } => Ok((name, args)),
            _ => Err(invalid(span, format!("@{}: expected a list of field names", attr.name))),
        })
        .collect()
}

struct ModelCx<'a> {
    ast: &'a ast::ModelAst,
    id: ModelId,
}

pub fn resolve(ast: &ast::SchemaAst, options: &SchemaOptions) -> Result<Schema> {
    let mut datasource = None;
    let mut generators = Vec::new();
    let mut enum_asts = Vec::new();
    let mut model_asts = Vec::new();
    for block in &ast.blocks {
        match block {
            Block::Datasource(b) => {
                if datasource.is_some() {
                    return Err(invalid(b.span, "only one datasource block is allowed"));
                }
                datasource = Some(resolve_datasource(b)?);
            }
            Block::Generator(b) => generators.push(Generator {
                name: b.name.clone(),
                properties: b.properties.iter().map(|(k, v, _)| ConfigProperty { key: k.clone(), value: config_value(v) }).collect(),
            }),
            Block::Enum(e) => enum_asts.push(e),
            Block::Model(m) if m.is_view => {
                return Err(unsupported(
                    m.span,
                    format!("view {}: views are not supported (it would be read as a table); query the view with $queryRaw", m.name),
                ));
            }
            Block::Model(m) => model_asts.push(m),
            Block::CompositeType(t) => {
                return Err(unsupported(t.span, format!("type {}: composite types exist on MongoDB only, which Quarry does not support", t.name)));
            }
        }
    }

    // Names first, so types can refer forward.
    let mut names: HashMap<&str, Span> = HashMap::new();
    for (name, span) in enum_asts.iter().map(|e| (e.name.as_str(), e.span)).chain(model_asts.iter().map(|m| (m.name.as_str(), m.span))) {
        if BUILTIN_TYPES.contains(&name) {
            return Err(invalid(span, format!("\"{name}\" is a reserved type name")));
        }
        if names.insert(name, span).is_some() {
            return Err(invalid(span, format!("\"{name}\" is defined more than once")));
        }
    }

    let enums = enum_asts.iter().map(|e| resolve_enum(e)).collect::<Result<Vec<_>>>()?;
    let enum_ids: HashMap<&str, EnumId> = enums.iter().enumerate().map(|(i, e)| (e.name.as_str(), EnumId(i as u32))).collect();
    let model_ids: HashMap<&str, ModelId> = model_asts.iter().enumerate().map(|(i, m)| (m.name.as_str(), ModelId(i as u32))).collect();

    let provider = datasource.as_ref().map_or(Provider::Postgresql, |d: &Datasource| d.provider);
    let mut models = Vec::with_capacity(model_asts.len());
    for (i, m) in model_asts.iter().enumerate() {
        models.push(resolve_model(&ModelCx { ast: m, id: ModelId(i as u32) }, &enum_ids, &model_ids, &enums, provider)?);
    }
    resolve_relations(&model_asts, &mut models)?;
    for (m, a) in models.iter().zip(&model_asts) {
        if m.primary_key.is_none() && m.uniques.is_empty() && !m.ignored {
            return Err(invalid(a.span, format!("model {} needs an @id, @@id, @unique or @@unique (or @@ignore)", m.name)));
        }
    }

    let mut schema = Schema {
        datasource,
        generators,
        models,
        enums,
        tenancy: Tenancy::default(),
    };
    super::tenancy::resolve_tenancy(&mut schema, &model_asts, options)?;
    Ok(schema)
}

const BUILTIN_TYPES: [&str; 10] = ["String", "Int", "BigInt", "Float", "Decimal", "Boolean", "DateTime", "Json", "Bytes", "Unsupported"];

fn resolve_datasource(b: &ast::ConfigBlock) -> Result<Datasource> {
    let mut provider = None;
    let mut relation_mode = RelationMode::ForeignKeys;
    for (key, value, span) in &b.properties {
        match (key.as_str(), value) {
            ("provider", Expr::String(p)) => {
                provider = Some(match p.as_str() {
                    "postgresql" | "postgres" => Provider::Postgresql,
                    "mysql" => Provider::Mysql,
                    "cockroachdb" => {
                        return Err(unsupported(
                            *span,
                            "provider \"cockroachdb\" is not supported: CockroachDB's SQL, types and DDL differ from PostgreSQL's, and \
                             Quarry runs on PostgreSQL and MySQL",
                        ));
                    }
                    other @ ("sqlite" | "sqlserver" | "mongodb") => {
                        return Err(unsupported(*span, format!("provider \"{other}\" is not supported: Quarry runs on PostgreSQL and MySQL")));
                    }
                    other => return Err(invalid(*span, format!("provider \"{other}\" is not a Prisma provider; expected \"postgresql\" or \"mysql\""))),
                })
            }
            ("schemas", _) => return Err(unsupported(*span, format!("multiple schemas (`schemas`) are not supported: {ONE_SCHEMA}"))),
            ("provider", _) => return Err(invalid(*span, "provider must be a string")),
            ("relationMode" | "referentialIntegrity", Expr::String(m)) => {
                relation_mode = match m.as_str() {
                    "foreignKeys" => RelationMode::ForeignKeys,
                    "prisma" => RelationMode::Prisma,
                    other => return Err(invalid(*span, format!("relationMode \"{other}\" is not valid; expected \"foreignKeys\" or \"prisma\""))),
                }
            }
            _ => {}
        }
    }
    let provider = provider.ok_or_else(|| invalid(b.span, format!("datasource {} needs a provider", b.name)))?;
    Ok(Datasource {
        name: b.name.clone(),
        provider,
        relation_mode,
        properties: b.properties.iter().map(|(k, v, _)| ConfigProperty { key: k.clone(), value: config_value(v) }).collect(),
    })
}

fn resolve_enum(e: &ast::EnumAst) -> Result<Enum> {
    let mut db_name = e.name.clone();
    for a in &e.attributes {
        match a.name.as_str() {
            "map" => db_name = string_arg(a, "name", Some(0))?.ok_or_else(|| invalid(a.span, "@@map needs a name"))?,
            "schema" => return Err(unsupported(a.span, format!("enum {}: @@schema is not supported: {ONE_SCHEMA}", e.name))),
            other => return Err(invalid(a.span, format!("unknown attribute @@{other} on enum {}", e.name))),
        }
    }
    let mut values = Vec::with_capacity(e.values.len());
    for v in &e.values {
        if values.iter().any(|x: &EnumValue| x.name == v.name) {
            return Err(invalid(v.span, format!("enum value {} is defined twice", v.name)));
        }
        let mut vdb = v.name.clone();
        for a in &v.attributes {
            match a.name.as_str() {
                "map" => vdb = string_arg(a, "name", Some(0))?.ok_or_else(|| invalid(a.span, "@map needs a name"))?,
                other => return Err(invalid(a.span, format!("unknown attribute @{other} on an enum value"))),
            }
        }
        values.push(EnumValue { name: v.name.clone(), db_name: vdb });
    }
    if values.is_empty() {
        return Err(invalid(e.span, format!("enum {} needs at least one value", e.name)));
    }
    Ok(Enum { name: e.name.clone(), db_name, values, documentation: e.documentation.clone() })
}

fn resolve_model(
    cx: &ModelCx,
    enum_ids: &HashMap<&str, EnumId>,
    model_ids: &HashMap<&str, ModelId>,
    enums: &[Enum],
    provider: Provider,
) -> Result<Model> {
    let m = cx.ast;
    let mut model = Model {
        name: m.name.clone(),
        db_name: m.name.clone(),
        fields: Vec::with_capacity(m.fields.len()),
        primary_key: None,
        uniques: vec![],
        indexes: vec![],
        ignored: false,
        documentation: m.documentation.clone(),
    };
    for f in &m.fields {
        if model.fields.iter().any(|x| x.name == f.name) {
            return Err(invalid(f.span, format!("field {} is defined twice in model {}", f.name, m.name)));
        }
        let arity = if f.list {
            Arity::List
        } else if f.optional {
            Arity::Optional
        } else {
            Arity::Required
        };
        let kind = if let Some(related) = model_ids.get(f.ty.as_str()) {
            // Attributes are read when relations are paired; only @ignore is allowed besides.
            for a in &f.attributes {
                if !matches!(a.name.as_str(), "relation" | "ignore") {
                    return Err(invalid(a.span, format!("@{} is not allowed on relation field {}", a.name, f.name)));
                }
            }
            FieldKind::Relation(RelationField {
                relation_name: String::new(),
                related: *related,
                back: None,
                link: RelationLink::ForeignKey { fields: vec![], references: vec![] },
                on_delete: ReferentialAction::NoAction,
                on_update: ReferentialAction::NoAction,
                fk_name: None,
            })
        } else {
            let ty = match f.ty.as_str() {
                "String" => ScalarType::String,
                "Int" => ScalarType::Int,
                "BigInt" => ScalarType::BigInt,
                "Float" => ScalarType::Float,
                "Decimal" => ScalarType::Decimal,
                "Boolean" => ScalarType::Boolean,
                "DateTime" => ScalarType::DateTime,
                "Json" => ScalarType::Json,
                "Bytes" => ScalarType::Bytes,
                "Unsupported" => match f.ty_args.first() {
                    Some(Expr::String(s)) => ScalarType::Unsupported(s.clone()),
                    _ => return Err(invalid(f.ty_span, "Unsupported needs the database type as a string")),
                },
                other => match enum_ids.get(other) {
                    Some(id) => ScalarType::Enum(*id),
                    None => {
                        let mut known: Vec<&str> = BUILTIN_TYPES.to_vec();
                        known.extend(enum_ids.keys().copied());
                        known.extend(model_ids.keys().copied());
                        let hint = crate::query::path::suggest(other, &known).map(|s| format!(" — did you mean \"{s}\"?")).unwrap_or_default();
                        return Err(invalid(f.ty_span, format!("unknown type \"{other}\" for field {}{hint}", f.name)));
                    }
                },
            };
            if f.list && provider == Provider::Sqlite && !matches!(ty, ScalarType::Unsupported(_)) {
                return Err(invalid(f.span, "scalar lists are only supported on PostgreSQL and MySQL (as JSON arrays)"));
            }
            FieldKind::Scalar(ScalarField {
                db_name: f.name.clone(),
                ty,
                native_type: None,
                default: None,
                updated_at: false,
                is_id: false,
                is_unique: false,
            })
        };
        model.fields.push(Field { name: f.name.clone(), arity, kind, ignored: false, documentation: f.documentation.clone() });
    }
    // Field attributes.
    for (i, f) in m.fields.iter().enumerate() {
        let fid = FieldId(i as u32);
        for a in &f.attributes {
            let field = &mut model.fields[i];
            match a.name.as_str() {
                "ignore" => field.ignored = true,
                "relation" => {}
                name => {
                    let Some(s) = (match &mut field.kind {
                        FieldKind::Scalar(s) => Some(s),
                        FieldKind::Relation(_) => None,
                    }) else {
                        continue;
                    };
                    match name {
                        "id" => {
                            check_args(a, &["map", "length", "sort", "clustered"], 0)?;
                            if model.primary_key.is_some() {
                                return Err(invalid(a.span, format!("model {} has more than one @id", m.name)));
                            }
                            s.is_id = true;
                            if f.optional || f.list {
                                return Err(invalid(a.span, "an @id field must be required"));
                            }
                            model.primary_key = Some(PrimaryKey { fields: vec![fid], name: None, db_name: string_arg(a, "map", None)? });
                        }
                        "unique" => {
                            check_args(a, &["map", "length", "sort", "clustered"], 0)?;
                            s.is_unique = true;
                            model.uniques.push(UniqueConstraint { fields: vec![fid], name: None, db_name: string_arg(a, "map", None)? });
                        }
                        "default" => {
                            check_args(a, &["value", "map"], 1)?;
                            let v = arg(a, "value", Some(0)).ok_or_else(|| invalid(a.span, "@default needs a value"))?;
                            s.default = Some(default_value(&v.value, &s.ty, enums, v.span)?);
                        }
                        "updatedAt" => {
                            if s.ty != ScalarType::DateTime {
                                return Err(invalid(a.span, "@updatedAt applies to DateTime fields"));
                            }
                            s.updated_at = true;
                        }
                        "map" => s.db_name = string_arg(a, "name", Some(0))?.ok_or_else(|| invalid(a.span, "@map needs a name"))?,
                        n if n.starts_with("db.") => {
                            s.native_type = Some(NativeType {
                                name: n[3..].to_owned(),
                                args: a
                                    .args
                                    .iter()
                                    .map(|x| match &x.value {
                                        Expr::Number(n) | Expr::Ident(n) | Expr::String(n) => n.clone(),
                                        other => format!("{other:?}"),
                                    })
                                    .collect(),
                            })
                        }
                        "shardKey" => {}
                        other => return Err(invalid(a.span, format!("unknown attribute @{other} on field {}", f.name))),
                    }
                }
            }
        }
    }
    // Block attributes.
    let mut pk = model.primary_key.take();
    let mut uniques = std::mem::take(&mut model.uniques);
    let field_id = |name: &str, span: Span, attr: &str| -> Result<FieldId> {
        let fid = model.find_field(name).ok_or_else(|| invalid(span, format!("@@{attr}: model {} has no field \"{name}\"", m.name)))?;
        if model.field(fid).as_scalar().is_none() {
            return Err(invalid(span, format!("@@{attr}: {name} is a relation field; list scalar fields")));
        }
        Ok(fid)
    };
    let mut indexes = Vec::new();
    let mut db_name = model.db_name.clone();
    let mut ignored = false;
    for a in &m.attributes {
        match a.name.as_str() {
            "id" | "unique" | "index" | "fulltext" => {
                check_args(a, &["fields", "name", "map", "type", "clustered", "length", "sort", "ops"], 1)?;
                let list = arg(a, "fields", Some(0)).ok_or_else(|| invalid(a.span, format!("@@{} needs a list of fields", a.name)))?;
                let entries = field_list(a, &list.value, list.span)?;
                if entries.is_empty() {
                    return Err(invalid(a.span, format!("@@{} needs at least one field", a.name)));
                }
                let name = string_arg(a, "name", None)?;
                let map = string_arg(a, "map", None)?;
                match a.name.as_str() {
                    "id" => {
                        if pk.is_some() {
                            return Err(invalid(a.span, format!("model {} has both @id and @@id", m.name)));
                        }
                        let fields = entries.iter().map(|(n, _)| field_id(n, list.span, "id")).collect::<Result<Vec<_>>>()?;
                        pk = Some(PrimaryKey { fields, name, db_name: map });
                    }
                    "unique" => {
                        let fields = entries.iter().map(|(n, _)| field_id(n, list.span, "unique")).collect::<Result<Vec<_>>>()?;
                        uniques.push(UniqueConstraint { fields, name, db_name: map });
                    }
                    _ => {
                        let mut fields = Vec::with_capacity(entries.len());
                        for (n, args) in &entries {
                            let fid = field_id(n, list.span, &a.name)?;
                            let mut sort = None;
                            let mut length = None;
                            let mut ops = None;
                            for x in args {
                                match (x.name.as_deref(), &x.value) {
                                    (Some("sort"), Expr::Ident(d)) => sort = Some(if d == "Desc" { SortOrder::Desc } else { SortOrder::Asc }),
                                    (Some("length"), Expr::Number(l)) => length = l.parse().ok(),
                                    (Some("ops"), v) => ops = Some(match v {
                                        Expr::Ident(s) | Expr::String(s) => s.clone(),
                                        other => format!("{other:?}"),
                                    }),
                                    _ => {}
                                }
                            }
                            fields.push(IndexField { field: fid, sort, length, ops });
                        }
                        let kind = match arg(a, "type", None) {
                            Some(Arg { value: Expr::Ident(t), .. }) => Some(t.clone()),
                            _ if a.name == "fulltext" => Some("Fulltext".into()),
                            _ => None,
                        };
                        indexes.push(Index { fields, db_name: map.or(name), kind });
                    }
                }
            }
            "map" => db_name = string_arg(a, "name", Some(0))?.ok_or_else(|| invalid(a.span, "@@map needs a name"))?,
            "ignore" => ignored = true,
            "schema" => return Err(unsupported(a.span, format!("model {}: @@schema is not supported: {ONE_SCHEMA}", m.name))),
            "shardKey" => {}
            other => return Err(invalid(a.span, format!("unknown attribute @@{other} on model {}", m.name))),
        }
    }
    model.primary_key = pk;
    model.uniques = uniques;
    model.indexes = indexes;
    model.db_name = db_name;
    model.ignored = ignored;
    let _ = cx.id;
    Ok(model)
}

fn default_value(e: &Expr, ty: &ScalarType, enums: &[Enum], span: Span) -> Result<DefaultValue> {
    let version = |args: &[Arg], allowed: &[u8], default: u8| -> Result<u8> {
        match args.first().map(|a| &a.value) {
            None => Ok(default),
            Some(Expr::Number(n)) => match n.parse::<u8>() {
                Ok(v) if allowed.contains(&v) => Ok(v),
                _ => Err(invalid(span, format!("unsupported version {n}"))),
            },
            Some(_) => Err(invalid(span, "expected a version number")),
        }
    };
    Ok(match e {
        Expr::Call { name, args } => match name.as_str() {
            "autoincrement" => DefaultValue::Autoincrement,
            "now" => DefaultValue::Now,
            "uuid" => DefaultValue::Uuid(version(args, &[4, 7], 4)?),
            "cuid" => DefaultValue::Cuid(version(args, &[1, 2], 1)?),
            "nanoid" => DefaultValue::Nanoid(match args.first().map(|a| &a.value) {
                Some(Expr::Number(n)) => Some(n.parse().map_err(|_| invalid(span, "nanoid takes a length"))?),
                _ => None,
            }),
            "ulid" => DefaultValue::Ulid,
            "dbgenerated" => DefaultValue::DbGenerated(match args.first().map(|a| &a.value) {
                Some(Expr::String(s)) => Some(s.clone()),
                None => None,
                Some(_) => return Err(invalid(span, "dbgenerated takes an SQL expression as a string")),
            }),
            "sequence" => DefaultValue::Sequence,
            "auto" => DefaultValue::Auto,
            other => return Err(invalid(span, format!("unknown default function {other}()"))),
        },
        other => DefaultValue::Literal(literal(other, ty, enums, span)?),
    })
}

fn literal(e: &Expr, ty: &ScalarType, enums: &[Enum], span: Span) -> Result<Literal> {
    Ok(match e {
        Expr::String(s) => Literal::String(s.clone()),
        Expr::Number(n) => Literal::Number(n.clone()),
        Expr::Ident(i) if i == "true" || i == "false" => Literal::Boolean(i == "true"),
        Expr::Ident(i) => {
            if let ScalarType::Enum(id) = ty {
                let e = &enums[id.0 as usize];
                if !e.values.iter().any(|v| &v.name == i) {
                    return Err(invalid(span, format!("\"{i}\" is not a value of enum {}", e.name)));
                }
            }
            Literal::EnumValue(i.clone())
        }
        Expr::Array(items) => Literal::List(items.iter().map(|x| literal(x, ty, enums, span)).collect::<Result<_>>()?),
        Expr::Call { name, .. } => return Err(invalid(span, format!("unexpected call {name}() in a default"))),
    })
}

/// The `@relation` attribute of a relation field, read.
#[derive(Default)]
pub(super) struct RelationAttr {
    pub(super) name: Option<String>,
    pub(super) fields: Option<Vec<String>>,
    pub(super) references: Option<Vec<String>>,
    pub(super) on_delete: Option<ReferentialAction>,
    pub(super) on_update: Option<ReferentialAction>,
    pub(super) map: Option<String>,
    pub(super) span: Span,
}

pub(super) fn relation_attr(f: &ast::FieldAst) -> Result<RelationAttr> {
    let mut out = RelationAttr { span: f.span, ..Default::default() };
    let Some(a) = f.attributes.iter().find(|a| a.name == "relation") else { return Ok(out) };
    check_args(a, &["name", "fields", "references", "onDelete", "onUpdate", "map"], 1)?;
    out.span = a.span;
    out.name = string_arg(a, "name", Some(0))?;
    let names = |key: &str| -> Result<Option<Vec<String>>> {
        match arg(a, key, None) {
            None => Ok(None),
            Some(x) => Ok(Some(field_list(a, &x.value, x.span)?.into_iter().map(|(n, _)| n).collect())),
        }
    };
    out.fields = names("fields")?;
    out.references = names("references")?;
    let action = |key: &str| -> Result<Option<ReferentialAction>> {
        match arg(a, key, None) {
            None => Ok(None),
            Some(Arg { value: Expr::Ident(v), span, .. }) => Ok(Some(match v.as_str() {
                "Cascade" => ReferentialAction::Cascade,
                "Restrict" => ReferentialAction::Restrict,
                "NoAction" => ReferentialAction::NoAction,
                "SetNull" => ReferentialAction::SetNull,
                "SetDefault" => ReferentialAction::SetDefault,
                other => return Err(invalid(*span, format!("unknown referential action {other}; expected Cascade, Restrict, NoAction, SetNull or SetDefault"))),
            })),
            Some(x) => Err(invalid(x.span, format!("{key} expects a referential action"))),
        }
    };
    out.on_delete = action("onDelete")?;
    out.on_update = action("onUpdate")?;
    out.map = string_arg(a, "map", None)?;
    Ok(out)
}

/// Pairs relation fields and resolves how each side links.
fn resolve_relations(asts: &[&ast::ModelAst], models: &mut [Model]) -> Result<()> {
    let mut sides: Vec<Side> = Vec::new();
    for (mi, (m, a)) in models.iter().zip(asts).enumerate() {
        for (fi, f) in m.fields.iter().enumerate() {
            let FieldKind::Relation(r) = &f.kind else { continue };
            let attr = relation_attr(&a.fields[fi])?;
            let related_name = &models[r.related.0 as usize].name;
            let name = attr.name.clone().unwrap_or_else(|| {
                let (x, y) = if m.name <= *related_name { (&m.name, related_name) } else { (related_name, &m.name) };
                format!("{x}To{y}")
            });
            sides.push(Side { model: ModelId(mi as u32), field: FieldId(fi as u32), related: r.related, attr, name });
        }
    }
    let mut done = vec![false; sides.len()];
    for i in 0..sides.len() {
        if done[i] {
            continue;
        }
        let s = &sides[i];
        let span = s.attr.span;
        let field_span = asts[s.model.0 as usize].fields[s.field.0 as usize].span;
        let candidates: Vec<usize> = (0..sides.len())
            .filter(|&j| j != i && !done[j] && sides[j].name == s.name && sides[j].model == s.related && sides[j].related == s.model)
            .collect();
        let model_name = models[s.model.0 as usize].name.clone();
        let field_name = models[s.model.0 as usize].field(s.field).name.clone();
        let related_name = models[s.related.0 as usize].name.clone();
        let j = match candidates.as_slice() {
            [j] => *j,
            [] => {
                return Err(invalid(
                    field_span,
                    format!("relation field {model_name}.{field_name} has no opposite relation field on model {related_name} (named \"{}\")", s.name),
                ));
            }
            _ => {
                return Err(invalid(
                    field_span,
                    format!("the relation \"{}\" between {model_name} and {related_name} is ambiguous: give each relation a name with @relation(\"...\")", s.name),
                ));
            }
        };
        // Another unpaired field with the same relation on the same model makes it ambiguous too.
        if (0..sides.len()).any(|k| k != i && k != j && !done[k] && sides[k].name == s.name && sides[k].model == s.model && sides[k].related == s.related) {
            return Err(invalid(
                field_span,
                format!("the relation \"{}\" between {model_name} and {related_name} is ambiguous: give each relation a name with @relation(\"...\")", s.name),
            ));
        }
        done[i] = true;
        done[j] = true;
        let a = &sides[i];
        let b = &sides[j];
        let a_list = models[a.model.0 as usize].field(a.field).is_list();
        let b_list = models[b.model.0 as usize].field(b.field).is_list();
        let (owner, other) = match (a.attr.fields.is_some(), b.attr.fields.is_some()) {
            (true, true) => return Err(invalid(span, format!("only one side of relation \"{}\" may define fields and references", a.name))),
            (true, false) => (a, b),
            (false, true) => (b, a),
            (false, false) if a_list && b_list => {
                link_many_to_many(models, asts, a, b, &a.name)?;
                continue;
            }
            (false, false) => {
                return Err(invalid(
                    field_span,
                    format!("relation \"{}\" between {model_name} and {related_name} needs fields and references on one side", a.name),
                ));
            }
        };
        let owner_model = &models[owner.model.0 as usize];
        let target_model = &models[owner.related.0 as usize];
        let ospan = owner.attr.span;
        let field_names = owner.attr.fields.clone().unwrap_or_default();
        let reference_names = owner.attr.references.clone().ok_or_else(|| invalid(ospan, "@relation with fields also needs references"))?;
        if field_names.len() != reference_names.len() || field_names.is_empty() {
            return Err(invalid(ospan, "fields and references must list the same number of fields"));
        }
        if models[owner.model.0 as usize].field(owner.field).is_list() {
            return Err(invalid(ospan, "the side with fields and references cannot be a list"));
        }
        let fields = field_names
            .iter()
            .map(|n| {
                owner_model
                    .find_field(n)
                    .filter(|f| owner_model.field(*f).as_scalar().is_some())
                    .ok_or_else(|| invalid(ospan, format!("fields: model {} has no scalar field \"{n}\"", owner_model.name)))
            })
            .collect::<Result<Vec<_>>>()?;
        let references = reference_names
            .iter()
            .map(|n| {
                target_model
                    .find_field(n)
                    .filter(|f| target_model.field(*f).as_scalar().is_some())
                    .ok_or_else(|| invalid(ospan, format!("references: model {} has no scalar field \"{n}\"", target_model.name)))
            })
            .collect::<Result<Vec<_>>>()?;
        let optional = fields.iter().any(|f| owner_model.field(*f).arity != Arity::Required);
        let on_delete = owner.attr.on_delete.unwrap_or(if optional { ReferentialAction::SetNull } else { ReferentialAction::Restrict });
        let on_update = owner.attr.on_update.unwrap_or(ReferentialAction::Cascade);
        let fk_name = owner.attr.map.clone();
        let name = owner.name.clone();
        let (om, of, tm, tf) = (owner.model, owner.field, other.model, other.field);
        set_relation(models, om, of, RelationField {
            relation_name: name.clone(),
            related: tm,
            back: Some(tf),
            link: RelationLink::ForeignKey { fields: fields.clone(), references: references.clone() },
            on_delete,
            on_update,
            fk_name: fk_name.clone(),
        });
        set_relation(models, tm, tf, RelationField {
            relation_name: name,
            related: om,
            back: Some(of),
            link: RelationLink::BackReference { fields, references },
            on_delete,
            on_update,
            fk_name,
        });
    }
    Ok(())
}

fn set_relation(models: &mut [Model], m: ModelId, f: FieldId, r: RelationField) {
    models[m.0 as usize].fields[f.0 as usize].kind = FieldKind::Relation(r);
}

fn link_many_to_many(models: &mut [Model], asts: &[&ast::ModelAst], a: &impl SideLike, b: &impl SideLike, name: &str) -> Result<()> {
    let (am, af, bm, bf) = (a.model(), a.field(), b.model(), b.field());
    let single_id = |m: ModelId| -> Result<FieldId> {
        let model = &models[m.0 as usize];
        match model.primary_key.as_ref().map(|pk| pk.fields.as_slice()) {
            Some([id]) => Ok(*id),
            _ => Err(invalid(asts[m.0 as usize].span, format!("model {} needs a single-field @id to be part of an implicit many-to-many relation", model.name))),
        }
    };
    let a_id = single_id(am)?;
    let b_id = single_id(bm)?;
    // Column A refers to the model whose name sorts first; for a self-relation, to the side
    // whose field name sorts first.
    let a_first = if am == bm {
        models[am.0 as usize].field(af).name <= models[bm.0 as usize].field(bf).name
    } else {
        models[am.0 as usize].name <= models[bm.0 as usize].name
    };
    let (a_col, b_col) = if a_first { (JoinColumn::A, JoinColumn::B) } else { (JoinColumn::B, JoinColumn::A) };
    let table = format!("_{name}");
    let rel = |related, back, column, reference, other_reference| RelationField {
        relation_name: name.to_owned(),
        related,
        back: Some(back),
        link: RelationLink::JoinTable { table: table.clone(), column, reference, other_reference },
        on_delete: ReferentialAction::Cascade,
        on_update: ReferentialAction::Cascade,
        fk_name: None,
    };
    let ra = rel(bm, bf, a_col, a_id, b_id);
    let rb = rel(am, af, b_col, b_id, a_id);
    set_relation(models, am, af, ra);
    set_relation(models, bm, bf, rb);
    Ok(())
}

/// One relation field waiting to be paired with its opposite.
struct Side {
    model: ModelId,
    field: FieldId,
    related: ModelId,
    attr: RelationAttr,
    name: String,
}

trait SideLike {
    fn model(&self) -> ModelId;
    fn field(&self) -> FieldId;
}

impl SideLike for Side {
    fn model(&self) -> ModelId {
        self.model
    }

    fn field(&self) -> FieldId {
        self.field
    }
}

