//! The query stage: a request document (JSON) in, a validated, typed query tree out.
//!
//! A request is `{ "model": "User", "action": "findMany", "args": { ... } }` with Prisma Client's
//! argument shapes. Validation is complete here: later stages never see an unknown field, a value
//! of the wrong type or an operator that does not apply. Every error carries the JSON path of the
//! mistake and, for unknown names, the closest valid one.

mod aggregate;
mod filter;
pub mod path;
mod read;
pub(crate) mod values;
mod write;

pub use aggregate::{AggOp, AggSel, AggregateArgs, GroupByArgs, GroupOrder, Having};
pub use write::{CreateInput, NestedOp, ScalarUpdate, UpdateInput, WriteArgs, WriteOp};

use crate::error::{Error, Result, codes};
use crate::schema::{FieldId, ModelId, Schema};
use crate::value::Value;
use path::Path;
use serde_json::Value as Json;


/// Limits that protect the engine and the database from oversized requests.
#[derive(Clone, Debug)]
pub struct QueryOptions {
    /// Maximum nesting of selections and filters.
    pub max_depth: usize,
    /// Largest allowed `take` (absolute value).
    pub max_take: i64,
    /// Most conditions in one `AND` / `OR` / `NOT` list (of `where` or `having`).
    pub max_list: usize,
}

impl Default for QueryOptions {
    fn default() -> Self {
        QueryOptions { max_depth: 32, max_take: 1_000_000, max_list: 10_000 }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    FindUnique,
    FindUniqueOrThrow,
    FindFirst,
    FindFirstOrThrow,
    FindMany,
    Count,
    Aggregate,
    GroupBy,
    Create,
    CreateMany,
    CreateManyAndReturn,
    Update,
    UpdateMany,
    UpdateManyAndReturn,
    Upsert,
    Delete,
    DeleteMany,
}

impl Action {
    pub const ALL: [(&'static str, Action); 17] = [
        ("findUnique", Action::FindUnique),
        ("findUniqueOrThrow", Action::FindUniqueOrThrow),
        ("findFirst", Action::FindFirst),
        ("findFirstOrThrow", Action::FindFirstOrThrow),
        ("findMany", Action::FindMany),
        ("count", Action::Count),
        ("aggregate", Action::Aggregate),
        ("groupBy", Action::GroupBy),
        ("create", Action::Create),
        ("createMany", Action::CreateMany),
        ("createManyAndReturn", Action::CreateManyAndReturn),
        ("update", Action::Update),
        ("updateMany", Action::UpdateMany),
        ("updateManyAndReturn", Action::UpdateManyAndReturn),
        ("upsert", Action::Upsert),
        ("delete", Action::Delete),
        ("deleteMany", Action::DeleteMany),
    ];

    pub fn parse(s: &str) -> Option<Action> {
        Self::ALL.iter().find(|(n, _)| *n == s).map(|(_, a)| *a)
    }

    pub fn name(self) -> &'static str {
        Self::ALL.iter().find(|(_, a)| *a == self).map_or("", |(n, _)| n)
    }

    pub fn is_write(self) -> bool {
        !matches!(
            self,
            Action::FindUnique
                | Action::FindUniqueOrThrow
                | Action::FindFirst
                | Action::FindFirstOrThrow
                | Action::FindMany
                | Action::Count
                | Action::Aggregate
                | Action::GroupBy
        )
    }
}

/// A validated request.
#[derive(Clone, Debug, PartialEq)]
pub struct Request {
    pub model: ModelId,
    pub action: Action,
    pub args: Args,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Args {
    /// findUnique(OrThrow), findFirst(OrThrow), findMany.
    Read(ReadArgs),
    Count(CountArgs),
    Aggregate(AggregateArgs),
    GroupBy(GroupByArgs),
    Write(WriteArgs),
}

/// A read of one model: the filter, the window (order, cursor, skip, take, distinct) and the
/// selection. Nested relation reads are `ReadArgs` too.
#[derive(Clone, Debug, PartialEq)]
pub struct ReadArgs {
    pub model: ModelId,
    pub filter: Option<Filter>,
    pub order_by: Vec<OrderBy>,
    /// A unique filter locating the cursor row.
    pub cursor: Option<Filter>,
    pub take: Option<i64>,
    pub skip: Option<i64>,
    pub distinct: Vec<FieldId>,
    pub selection: Selection,
}

impl ReadArgs {
    pub fn new(model: ModelId, selection: Selection) -> Self {
        ReadArgs { model, filter: None, order_by: vec![], cursor: None, take: None, skip: None, distinct: vec![], selection }
    }
}

#[derive(Clone, Debug, PartialEq, Default)]
pub struct Selection {
    /// In output order.
    pub items: Vec<SelectionItem>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum SelectionItem {
    Scalar(FieldId),
    Relation(FieldId, Box<ReadArgs>),
    /// `_count` of to-many relations.
    Count(Vec<CountItem>),
}

#[derive(Clone, Debug, PartialEq)]
pub struct CountItem {
    pub relation: FieldId,
    pub filter: Option<Filter>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct CountArgs {
    pub read: ReadArgs,
    /// `select: { _all: true, name: true }`: count rows (`None`) or non-null values of a field.
    /// Empty when the result is a plain number.
    pub select: Vec<(String, Option<FieldId>)>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Filter {
    And(Vec<Filter>),
    Or(Vec<Filter>),
    Not(Box<Filter>),
    Const(bool),
    Scalar { field: FieldId, cond: ScalarCond },
    Relation { field: FieldId, cond: RelationCond, filter: Box<Filter> },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cmp {
    Eq,
    Lt,
    Lte,
    Gt,
    Gte,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LikeKind {
    Contains,
    StartsWith,
    EndsWith,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ScalarCond {
    /// `= value` (never null; see `IsNull`).
    Cmp { op: Cmp, value: Value, insensitive: bool },
    In { values: Vec<Value>, insensitive: bool },
    Like { kind: LikeKind, value: String, insensitive: bool },
    IsNull,
    /// NOT (all of these).
    Not(Vec<ScalarCond>),
    Json { path: Vec<String>, cond: JsonCond },
    List(ListCond),
}

#[derive(Clone, Debug, PartialEq)]
pub enum JsonCond {
    /// Equal to a JSON value (JSON `null` included). `Value::Json`.
    Equals(Value),
    /// The database NULL (`Prisma.DbNull`) or a JSON null (`Prisma.JsonNull`) or either.
    IsNull(NullKind),
    Cmp { op: Cmp, value: Value },
    StringLike { kind: LikeKind, value: String, insensitive: bool },
    ArrayContains(Value),
    ArrayStartsWith(Value),
    ArrayEndsWith(Value),
    Not(Box<JsonCond>),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NullKind {
    Db,
    Json,
    Any,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ListCond {
    Has(Value),
    HasEvery(Vec<Value>),
    HasSome(Vec<Value>),
    IsEmpty(bool),
    Equals(Vec<Value>),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RelationCond {
    Some,
    Every,
    None,
    Is,
    IsNot,
}

#[derive(Clone, Debug, PartialEq)]
pub struct OrderBy {
    /// To-one relations walked from the model (`author.tenant`).
    pub path: Vec<FieldId>,
    pub target: OrderTarget,
    pub desc: bool,
    /// `Some(true)` for NULLS FIRST.
    pub nulls_first: Option<bool>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum OrderTarget {
    Field(FieldId),
    /// The number of related rows of a to-many relation.
    RelationCount(FieldId),
}

/// Validates a request document against the schema.
pub fn parse_request(schema: &Schema, doc: &Json, options: &QueryOptions) -> Result<Request> {
    let root = Path::root("request");
    let obj = doc
        .as_object()
        .ok_or_else(|| root.error(codes::REQUEST_MALFORMED, "expected an object with model, action and args"))?;
    for key in obj.keys() {
        if !matches!(key.as_str(), "model" | "action" | "args") {
            return Err(root.key(key).unknown("key", key, "", &["model", "action", "args"]));
        }
    }
    let model_name = obj
        .get("model")
        .and_then(Json::as_str)
        .ok_or_else(|| root.key("model").error(codes::MISSING_ARGUMENT, "expected the model name as a string"))?;
    let model = schema.find_model(model_name).filter(|m| !schema.model(*m).ignored).ok_or_else(|| {
        let names: Vec<&str> = schema.models.iter().filter(|m| !m.ignored).map(|m| m.name.as_str()).collect();
        let mut e = root.key("model").unknown("model", model_name, "", &names);
        e = Error::new(codes::UNKNOWN_MODEL, e.message().to_owned()).with_meta("path", "request.model");
        e
    })?;
    let action_name = obj
        .get("action")
        .and_then(Json::as_str)
        .ok_or_else(|| root.key("action").error(codes::MISSING_ARGUMENT, "expected the action as a string"))?;
    let action = Action::parse(action_name).ok_or_else(|| {
        let names: Vec<&str> = Action::ALL.iter().map(|(n, _)| *n).collect();
        let e = root.key("action").unknown("action", action_name, "", &names);
        Error::new(codes::UNKNOWN_ACTION, e.message().to_owned()).with_meta("path", "request.action")
    })?;
    let empty = Json::Object(Default::default());
    let args = match obj.get("args") {
        None | Some(Json::Null) => &empty,
        Some(a) => a,
    };
    let cx = Cx { schema, options };
    let args = read::parse_args(&cx, model, action, args, &Path::root("args"))?;
    Ok(Request { model, action, args })
}

/// What every parse function needs.
pub(crate) struct Cx<'s> {
    pub schema: &'s Schema,
    pub options: &'s QueryOptions,
}

impl Cx<'_> {
    pub fn check_depth(&self, depth: usize, path: &Path) -> Result<()> {
        if depth > self.options.max_depth {
            return Err(path.error(
                codes::TOO_DEEP,
                format!("nesting deeper than the limit of {} levels", self.options.max_depth),
            ));
        }
        Ok(())
    }

    /// A list of conditions (`AND` / `OR` / `NOT`) no longer than the limit (`Q2011`).
    pub fn check_list(&self, len: usize, path: &Path) -> Result<()> {
        if len > self.options.max_list {
            return Err(path
                .error(codes::TOO_LARGE, format!("{len} conditions in one list; the limit is {}", self.options.max_list))
                .with_meta("limit", self.options.max_list));
        }
        Ok(())
    }
}

/// The object at `path`, or an error naming what was expected.
pub(crate) fn expect_object<'j>(v: &'j Json, path: &Path, what: &str) -> Result<&'j serde_json::Map<String, Json>> {
    v.as_object().ok_or_else(|| path.error(codes::INVALID_VALUE, format!("expected {what}, got {}", json_kind(v))))
}

/// A value's JSON kind for messages; never the value itself.
pub(crate) fn json_kind(v: &Json) -> &'static str {
    match v {
        Json::Null => "null",
        Json::Bool(_) => "a boolean",
        Json::Number(_) => "a number",
        Json::String(_) => "a string",
        Json::Array(_) => "a list",
        Json::Object(_) => "an object",
    }
}
