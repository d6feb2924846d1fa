//! Schema text -> syntax tree. A hand-written lexer and recursive-descent parser for the Prisma
//! schema language: `datasource`, `generator`, `model`, `enum` (and `view` / `type` blocks, read
//! so that the resolver refuses them at their line), fields with `?` / `[]`, `@attributes` and
//! `@@block attributes` with positional and named arguments, function calls and lists, and `//` /
//! `///` comments (`///` becomes the documentation of what follows). Errors carry the line and
//! column and say what was expected.

use crate::error::{Error, Result, codes};

pub mod ast {
    /// 1-based position in the schema text.
    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
    pub struct Span {
        pub line: u32,
        pub column: u32,
    }

    #[derive(Clone, Debug, Default)]
    pub struct SchemaAst {
        pub blocks: Vec<Block>,
    }

    #[derive(Clone, Debug)]
    pub enum Block {
        Datasource(ConfigBlock),
        Generator(ConfigBlock),
        /// `model`, and `view` (read like a model).
        Model(ModelAst),
        Enum(EnumAst),
        /// `type` (composite types, MongoDB only): parsed and ignored.
        CompositeType(ModelAst),
    }

    #[derive(Clone, Debug)]
    pub struct ConfigBlock {
        pub name: String,
        pub properties: Vec<(String, Expr, Span)>,
        pub span: Span,
    }

    #[derive(Clone, Debug)]
    pub struct ModelAst {
        pub name: String,
        pub is_view: bool,
        pub fields: Vec<FieldAst>,
        pub attributes: Vec<Attribute>,
        pub documentation: Option<String>,
        pub span: Span,
    }

    #[derive(Clone, Debug)]
    pub struct FieldAst {
        pub name: String,
        /// The type name (`String`, `User`, `Unsupported`).
        pub ty: String,
        /// Arguments of `Unsupported("...")`.
        pub ty_args: Vec<Expr>,
        pub optional: bool,
        pub list: bool,
        pub attributes: Vec<Attribute>,
        pub documentation: Option<String>,
        pub span: Span,
        pub ty_span: Span,
    }

    #[derive(Clone, Debug)]
    pub struct EnumAst {
        pub name: String,
        pub values: Vec<EnumValueAst>,
        pub attributes: Vec<Attribute>,
        pub documentation: Option<String>,
        pub span: Span,
    }

    #[derive(Clone, Debug)]
    pub struct EnumValueAst {
        pub name: String,
        pub attributes: Vec<Attribute>,
        pub span: Span,
    }

    /// `@name(args)` or `@@name(args)`; `name` includes dots (`db.VarChar`).
    #[derive(Clone, Debug)]
    pub struct Attribute {
        pub name: String,
        pub args: Vec<Arg>,
        pub span: Span,
    }

    #[derive(Clone, Debug, PartialEq)]
    pub struct Arg {
        pub name: Option<String>,
        pub value: Expr,
        pub span: Span,
    }

    #[derive(Clone, Debug, PartialEq)]
    pub enum Expr {
        String(String),
        Number(String),
        /// An identifier, possibly dotted (`Desc`, `true`, `Cascade`).
        Ident(String),
        Array(Vec<Expr>),
        /// `name(args)`: a function (`env("X")`, `now()`) or a field with arguments in an index
        /// list (`createdAt(sort: Desc)`).
        Call { name: String, args: Vec<Arg> },
    }
}

use ast::*;

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Ident(String),
    Str(String),
    Num(String),
    Doc(String),
    Punct(char),
    /// `@@`
    AtAt,
    Eof,
}

impl Tok {
    fn describe(&self) -> String {
        match self {
            Tok::Ident(s) => format!("\"{s}\""),
            Tok::Str(_) => "a string".into(),
            Tok::Num(n) => format!("number {n}"),
            Tok::Doc(_) => "a /// comment".into(),
            Tok::Punct(c) => format!("\"{c}\""),
            Tok::AtAt => "\"@@\"".into(),
            Tok::Eof => "the end of the schema".into(),
        }
    }
}

fn syntax(span: Span, message: impl Into<String>) -> Error {
    let message = message.into();
    Error::new(codes::SCHEMA_SYNTAX, format!("line {}, column {}: {message}", span.line, span.column))
        .with_meta("line", span.line)
        .with_meta("column", span.column)
}

fn lex(text: &str) -> Result<Vec<(Tok, Span)>> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let (mut i, mut line, mut col) = (0usize, 1u32, 1u32);
    let advance = |i: &mut usize, line: &mut u32, col: &mut u32, c: char| {
        *i += 1;
        if c == '\n' {
            *line += 1;
            *col = 1;
        } else {
            *col += 1;
        }
    };
    while i < chars.len() {
        let c = chars[i];
        let span = Span { line, column: col };
        if c.is_whitespace() {
            advance(&mut i, &mut line, &mut col, c);
            continue;
        }
        if c == '/' && chars.get(i + 1) == Some(&'/') {
            let doc = chars.get(i + 2) == Some(&'/');
            let start = i + if doc { 3 } else { 2 };
            let mut j = start;
            while j < chars.len() && chars[j] != '\n' {
                j += 1;
            }
            if doc {
                let s: String = chars[start..j].iter().collect();
                out.push((Tok::Doc(s.trim().to_owned()), span));
            }
            col += (j - i) as u32;
            i = j;
            continue;
        }
        if c == '"' {
            let mut s = String::new();
            advance(&mut i, &mut line, &mut col, c);
            loop {
                let Some(&d) = chars.get(i) else { return Err(syntax(span, "unterminated string")) };
                if d == '\n' {
                    return Err(syntax(span, "unterminated string (strings cannot span lines)"));
                }
                advance(&mut i, &mut line, &mut col, d);
                match d {
                    '"' => break,
                    '\\' => {
                        let Some(&e) = chars.get(i) else { return Err(syntax(span, "unterminated string")) };
                        advance(&mut i, &mut line, &mut col, e);
                        s.push(match e {
                            'n' => '\n',
                            't' => '\t',
                            'r' => '\r',
                            other => other,
                        });
                    }
                    _ => s.push(d),
                }
            }
            out.push((Tok::Str(s), span));
            continue;
        }
        if c.is_ascii_digit() || (c == '-' && chars.get(i + 1).is_some_and(|d| d.is_ascii_digit())) {
            let mut s = String::new();
            s.push(c);
            advance(&mut i, &mut line, &mut col, c);
            while let Some(&d) = chars.get(i) {
                if d.is_ascii_digit() || d == '.' || d == 'e' || d == 'E' || ((d == '-' || d == '+') && s.ends_with(['e', 'E'])) {
                    s.push(d);
                    advance(&mut i, &mut line, &mut col, d);
                } else {
                    break;
                }
            }
            out.push((Tok::Num(s), span));
            continue;
        }
        if c.is_alphabetic() || c == '_' {
            let mut s = String::new();
            while let Some(&d) = chars.get(i) {
                if d.is_alphanumeric() || d == '_' {
                    s.push(d);
                    advance(&mut i, &mut line, &mut col, d);
                } else {
                    break;
                }
            }
            out.push((Tok::Ident(s), span));
            continue;
        }
        if c == '@' && chars.get(i + 1) == Some(&'@') {
            advance(&mut i, &mut line, &mut col, c);
            advance(&mut i, &mut line, &mut col, '@');
            out.push((Tok::AtAt, span));
            continue;
        }
        if "{}()[],:=?@.".contains(c) {
            advance(&mut i, &mut line, &mut col, c);
            out.push((Tok::Punct(c), span));
            continue;
        }
        return Err(syntax(span, format!("unexpected character \"{c}\"")));
    }
    out.push((Tok::Eof, Span { line, column: col }));
    Ok(out)
}

struct Parser {
    toks: Vec<(Tok, Span)>,
    pos: usize,
    /// `///` lines waiting for the next declaration.
    doc: Vec<String>,
}

/// Nesting limit for lists and calls, so hostile input cannot exhaust the stack.
const MAX_NESTING: usize = 64;

pub fn parse_ast(text: &str) -> Result<SchemaAst> {
    let toks = lex(text)?;
    let mut p = Parser { toks, pos: 0, doc: Vec::new() };
    let mut blocks = Vec::new();
    loop {
        p.collect_docs();
        let (tok, span) = p.peek();
        match tok {
            Tok::Eof => break,
            Tok::Ident(kw) => {
                let kw = kw.clone();
                p.bump();
                let block = match kw.as_str() {
                    "datasource" => Block::Datasource(p.config_block(span)?),
                    "generator" => Block::Generator(p.config_block(span)?),
                    "model" => Block::Model(p.model(span, false)?),
                    "view" => Block::Model(p.model(span, true)?),
                    "type" => Block::CompositeType(p.model(span, false)?),
                    "enum" => Block::Enum(p.enum_block(span)?),
                    other => {
                        return Err(syntax(span, format!("expected model, enum, datasource, generator, view or type, found \"{other}\"")));
                    }
                };
                blocks.push(block);
            }
            other => {
                return Err(syntax(span, format!("expected model, enum, datasource, generator, view or type, found {}", other.describe())));
            }
        }
    }
    Ok(SchemaAst { blocks })
}

impl Parser {
    fn peek(&self) -> (Tok, Span) {
        self.toks.get(self.pos).cloned().unwrap_or((Tok::Eof, Span::default()))
    }

    fn peek_at(&self, offset: usize) -> Tok {
        self.toks.get(self.pos + offset).map(|t| t.0.clone()).unwrap_or(Tok::Eof)
    }

    fn bump(&mut self) {
        if self.pos < self.toks.len() {
            self.pos += 1;
        }
    }

    fn collect_docs(&mut self) {
        while let (Tok::Doc(d), _) = self.peek() {
            self.doc.push(d);
            self.bump();
        }
    }

    fn take_doc(&mut self) -> Option<String> {
        if self.doc.is_empty() {
            None
        } else {
            Some(std::mem::take(&mut self.doc).join("\n"))
        }
    }

    fn expect_punct(&mut self, c: char, what: &str) -> Result<Span> {
        let (tok, span) = self.peek();
        if tok == Tok::Punct(c) {
            self.bump();
            Ok(span)
        } else {
            Err(syntax(span, format!("expected \"{c}\" {what}, found {}", tok.describe())))
        }
    }

    fn ident(&mut self, what: &str) -> Result<(String, Span)> {
        let (tok, span) = self.peek();
        match tok {
            Tok::Ident(s) => {
                self.bump();
                Ok((s, span))
            }
            other => Err(syntax(span, format!("expected {what}, found {}", other.describe()))),
        }
    }

    fn config_block(&mut self, span: Span) -> Result<ConfigBlock> {
        let (name, _) = self.ident("a block name")?;
        self.doc.clear();
        self.expect_punct('{', "to open the block")?;
        let mut properties = Vec::new();
        loop {
            self.collect_docs();
            self.doc.clear();
            let (tok, kspan) = self.peek();
            match tok {
                Tok::Punct('}') => {
                    self.bump();
                    break;
                }
                Tok::Ident(key) => {
                    self.bump();
                    self.expect_punct('=', &format!("after \"{key}\""))?;
                    let value = self.expr(0)?;
                    properties.push((key, value, kspan));
                }
                other => return Err(syntax(kspan, format!("expected a key = value line or \"}}\", found {}", other.describe()))),
            }
        }
        Ok(ConfigBlock { name, properties, span })
    }

    fn model(&mut self, span: Span, is_view: bool) -> Result<ModelAst> {
        let documentation = self.take_doc();
        let (name, _) = self.ident("a model name")?;
        self.expect_punct('{', "to open the model")?;
        let mut fields = Vec::new();
        let mut attributes = Vec::new();
        loop {
            self.collect_docs();
            let (tok, fspan) = self.peek();
            match tok {
                Tok::Punct('}') => {
                    self.bump();
                    break;
                }
                Tok::AtAt => {
                    self.bump();
                    self.doc.clear();
                    attributes.push(self.attribute(fspan)?);
                }
                Tok::Ident(_) => fields.push(self.field()?),
                other => return Err(syntax(fspan, format!("expected a field, a @@attribute or \"}}\", found {}", other.describe()))),
            }
        }
        Ok(ModelAst { name, is_view, fields, attributes, documentation, span })
    }

    fn field(&mut self) -> Result<FieldAst> {
        let documentation = self.take_doc();
        let (name, span) = self.ident("a field name")?;
        let (tok, ty_span) = self.peek();
        let ty = match tok {
            Tok::Ident(t) => {
                self.bump();
                t
            }
            other => return Err(syntax(ty_span, format!("expected a field type after \"{name}\", found {}", other.describe()))),
        };
        let mut ty_args = Vec::new();
        if self.peek().0 == Tok::Punct('(') {
            self.bump();
            while self.peek().0 != Tok::Punct(')') {
                ty_args.push(self.expr(0)?);
                if self.peek().0 == Tok::Punct(',') {
                    self.bump();
                } else {
                    break;
                }
            }
            self.expect_punct(')', "to close the type arguments")?;
        }
        let (mut optional, mut list) = (false, false);
        match self.peek().0 {
            Tok::Punct('?') => {
                self.bump();
                optional = true;
            }
            Tok::Punct('[') => {
                self.bump();
                self.expect_punct(']', "to close \"[]\"")?;
                list = true;
                if self.peek().0 == Tok::Punct('?') {
                    let (_, s) = self.peek();
                    return Err(syntax(s, "a list field cannot also be optional"));
                }
            }
            _ => {}
        }
        let mut attributes = Vec::new();
        while let (Tok::Punct('@'), aspan) = self.peek() {
            self.bump();
            attributes.push(self.attribute(aspan)?);
        }
        Ok(FieldAst { name, ty, ty_args, optional, list, attributes, documentation, span, ty_span })
    }

    fn attribute(&mut self, span: Span) -> Result<Attribute> {
        let (mut name, _) = self.ident("an attribute name")?;
        while self.peek().0 == Tok::Punct('.') {
            self.bump();
            let (part, _) = self.ident("an attribute name after \".\"")?;
            name.push('.');
            name.push_str(&part);
        }
        let mut args = Vec::new();
        if self.peek().0 == Tok::Punct('(') {
            self.bump();
            args = self.args(0)?;
            self.expect_punct(')', &format!("to close the arguments of @{name}"))?;
        }
        Ok(Attribute { name, args, span })
    }

    /// Arguments up to (not including) `)`: `value` or `name: value`, comma separated.
    fn args(&mut self, depth: usize) -> Result<Vec<Arg>> {
        let mut args = Vec::new();
        loop {
            let (tok, span) = self.peek();
            if tok == Tok::Punct(')') {
                break;
            }
            let named = matches!(tok, Tok::Ident(_)) && self.peek_at(1) == Tok::Punct(':');
            let name = if named {
                let (n, _) = self.ident("an argument name")?;
                self.bump();
                Some(n)
            } else {
                None
            };
            let value = self.expr(depth + 1)?;
            args.push(Arg { name, value, span });
            match self.peek().0 {
                Tok::Punct(',') => self.bump(),
                Tok::Punct(')') => break,
                other => {
                    let (_, s) = self.peek();
                    return Err(syntax(s, format!("expected \",\" or \")\" in the argument list, found {}", other.describe())));
                }
            }
        }
        Ok(args)
    }

    fn expr(&mut self, depth: usize) -> Result<Expr> {
        let (tok, span) = self.peek();
        if depth > MAX_NESTING {
            return Err(syntax(span, "nesting too deep"));
        }
        match tok {
            Tok::Str(s) => {
                self.bump();
                Ok(Expr::String(s))
            }
            Tok::Num(n) => {
                self.bump();
                Ok(Expr::Number(n))
            }
            Tok::Ident(mut name) => {
                self.bump();
                while self.peek().0 == Tok::Punct('.') {
                    self.bump();
                    let (part, _) = self.ident("a name after \".\"")?;
                    name.push('.');
                    name.push_str(&part);
                }
                if self.peek().0 == Tok::Punct('(') {
                    self.bump();
                    let args = self.args(depth + 1)?;
                    self.expect_punct(')', &format!("to close {name}(...)"))?;
                    return Ok(Expr::Call { name, args });
                }
                Ok(Expr::Ident(name))
            }
            Tok::Punct('[') => {
                self.bump();
                let mut items = Vec::new();
                loop {
                    if self.peek().0 == Tok::Punct(']') {
                        self.bump();
                        break;
                    }
                    items.push(self.expr(depth + 1)?);
                    match self.peek().0 {
                        Tok::Punct(',') => self.bump(),
                        Tok::Punct(']') => {
                            self.bump();
                            break;
                        }
                        other => {
                            let (_, s) = self.peek();
                            return Err(syntax(s, format!("expected \",\" or \"]\" in the list, found {}", other.describe())));
                        }
                    }
                }
                Ok(Expr::Array(items))
            }
            other => Err(syntax(span, format!("expected a value, found {}", other.describe()))),
        }
    }

    fn enum_block(&mut self, span: Span) -> Result<EnumAst> {
        let documentation = self.take_doc();
        let (name, _) = self.ident("an enum name")?;
        self.expect_punct('{', "to open the enum")?;
        let mut values = Vec::new();
        let mut attributes = Vec::new();
        loop {
            self.collect_docs();
            self.doc.clear();
            let (tok, vspan) = self.peek();
            match tok {
                Tok::Punct('}') => {
                    self.bump();
                    break;
                }
                Tok::AtAt => {
                    self.bump();
                    attributes.push(self.attribute(vspan)?);
                }
                Tok::Ident(v) => {
                    self.bump();
                    let mut attrs = Vec::new();
                    while let (Tok::Punct('@'), aspan) = self.peek() {
                        self.bump();
                        attrs.push(self.attribute(aspan)?);
                    }
                    values.push(EnumValueAst { name: v, attributes: attrs, span: vspan });
                }
                other => return Err(syntax(vspan, format!("expected an enum value or \"}}\", found {}", other.describe()))),
            }
        }
        Ok(EnumAst { name, values, attributes, documentation, span })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_blocks_fields_and_attributes() {
        let ast = parse_ast(
            r#"
            datasource db {
              provider = "postgresql"
              url      = env("DATABASE_URL")
            }
            /// A user.
            model User {
              id    Int     @id @default(autoincrement())
              /// Their email.
              email String  @unique @db.VarChar(255)
              tags  String[]
              posts Post[]
              @@index([email(sort: Desc)], type: BTree)
              @@map("users")
            }
            enum Role { ADMIN USER @map("user") }
            "#,
        )
        .unwrap();
        assert_eq!(ast.blocks.len(), 3);
        let Block::Model(m) = &ast.blocks[1] else { panic!() };
        assert_eq!(m.documentation.as_deref(), Some("A user."));
        assert_eq!(m.fields[1].documentation.as_deref(), Some("Their email."));
        assert_eq!(m.fields[1].attributes[1].name, "db.VarChar");
        assert!(m.fields[2].list);
        assert_eq!(m.attributes.len(), 2);
    }

    #[test]
    fn errors_carry_positions() {
        let e = parse_ast("model User {\n  id Int @id\n  name @unique\n}").unwrap_err();
        assert_eq!(e.code(), codes::SCHEMA_SYNTAX);
        assert!(e.message().starts_with("line 3, column 8"), "{}", e.message());
        assert!(e.message().contains("field type"), "{}", e.message());
        let e = parse_ast("model A {\n id String @default(\"x)\n}").unwrap_err();
        assert!(e.message().contains("unterminated"), "{}", e.message());
    }
}
