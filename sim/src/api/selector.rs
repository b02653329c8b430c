//! Label selectors (k8s.io/apimachinery `pkg/labels/selector.go` grammar) and the field
//! selectors every type supports (`metadata.name`, `metadata.namespace`).

use kubesim_model::{ApiError, ObjectKey};
use serde_json::Value;

/// What one label requirement asks.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Op {
    /// `key`.
    Exists,
    /// `!key`.
    DoesNotExist,
    /// `key=v`, `key==v`, `key in (a,b)`.
    In(Vec<String>),
    /// `key!=v`, `key notin (a,b)`.
    NotIn(Vec<String>),
    /// `key>n`.
    Gt(i64),
    /// `key<n`.
    Lt(i64),
}

/// A parsed label selector; the empty selector matches everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct LabelSelector {
    requirements: Vec<(String, Op)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Ident(String),
    Not,
    Eq,
    DoubleEq,
    NotEq,
    Gt,
    Lt,
    Open,
    Close,
    Comma,
}

impl Token {
    fn text(&self) -> String {
        match self {
            Self::Ident(s) => s.clone(),
            Self::Not => "!".into(),
            Self::Eq => "=".into(),
            Self::DoubleEq => "==".into(),
            Self::NotEq => "!=".into(),
            Self::Gt => ">".into(),
            Self::Lt => "<".into(),
            Self::Open => "(".into(),
            Self::Close => ")".into(),
            Self::Comma => ",".into(),
        }
    }
}

fn is_special(c: char) -> bool {
    matches!(c, '!' | '=' | '(' | ')' | ',' | '>' | '<')
}

fn lex(input: &str) -> Vec<Token> {
    let chars: Vec<char> = input.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        let (token, len) = match (c, next) {
            ('!', Some('=')) => (Token::NotEq, 2),
            ('=', Some('=')) => (Token::DoubleEq, 2),
            ('!', _) => (Token::Not, 1),
            ('=', _) => (Token::Eq, 1),
            ('(', _) => (Token::Open, 1),
            (')', _) => (Token::Close, 1),
            (',', _) => (Token::Comma, 1),
            ('>', _) => (Token::Gt, 1),
            ('<', _) => (Token::Lt, 1),
            _ => {
                let start = i;
                let mut j = i;
                while j < chars.len() && !chars[j].is_whitespace() && !is_special(chars[j]) {
                    j += 1;
                }
                let word: String = chars[start..j].iter().collect();
                (Token::Ident(word), j - start)
            }
        };
        tokens.push(token);
        i += len;
    }
    tokens
}

fn parse_error(input: &str, found: Option<&Token>, expected: &str) -> ApiError {
    let found = found.map(Token::text).unwrap_or_default();
    ApiError::bad_request(format!(
        "unable to parse requirement: found '{found}', expected: {expected} (in label selector {input:?})"
    ))
}

impl LabelSelector {
    /// Parses `a=b,c!=d,e in (f,g),h notin (i),!j,k,l>1`; a syntax error is 400 BadRequest.
    pub(crate) fn parse(input: &str) -> Result<Self, ApiError> {
        let tokens = lex(input);
        let mut reqs = Vec::new();
        let mut i = 0;
        if tokens.is_empty() {
            return Ok(Self::default());
        }
        loop {
            let (key, op) = match tokens.get(i) {
                Some(Token::Not) => match tokens.get(i + 1) {
                    Some(Token::Ident(k)) => {
                        i += 2;
                        (k.clone(), Op::DoesNotExist)
                    }
                    other => return Err(parse_error(input, other, "identifier")),
                },
                Some(Token::Ident(k)) => {
                    let key = k.clone();
                    i += 1;
                    let op = match tokens.get(i) {
                        None | Some(Token::Comma) => Op::Exists,
                        Some(Token::Eq | Token::DoubleEq | Token::NotEq) => {
                            let negate = tokens[i] == Token::NotEq;
                            i += 1;
                            let value = match tokens.get(i) {
                                Some(Token::Ident(v)) => {
                                    i += 1;
                                    v.clone()
                                }
                                None | Some(Token::Comma) => String::new(),
                                other => return Err(parse_error(input, other, "identifier")),
                            };
                            if negate {
                                Op::NotIn(vec![value])
                            } else {
                                Op::In(vec![value])
                            }
                        }
                        Some(Token::Gt | Token::Lt) => {
                            let greater = tokens[i] == Token::Gt;
                            i += 1;
                            let n = match tokens.get(i) {
                                Some(Token::Ident(v)) => v
                                    .parse::<i64>()
                                    .map_err(|_| parse_error(input, tokens.get(i), "an integer"))?,
                                other => return Err(parse_error(input, other, "an integer")),
                            };
                            i += 1;
                            if greater {
                                Op::Gt(n)
                            } else {
                                Op::Lt(n)
                            }
                        }
                        Some(Token::Ident(w)) if w == "in" || w == "notin" => {
                            let negate = w == "notin";
                            i += 1;
                            if tokens.get(i) != Some(&Token::Open) {
                                return Err(parse_error(input, tokens.get(i), "'('"));
                            }
                            i += 1;
                            let mut values = Vec::new();
                            loop {
                                match tokens.get(i) {
                                    Some(Token::Ident(v)) => {
                                        values.push(v.clone());
                                        i += 1;
                                    }
                                    Some(Token::Close) if values.is_empty() => {}
                                    other => return Err(parse_error(input, other, "identifier")),
                                }
                                match tokens.get(i) {
                                    Some(Token::Comma) => i += 1,
                                    Some(Token::Close) => {
                                        i += 1;
                                        break;
                                    }
                                    other => return Err(parse_error(input, other, "',' or ')'")),
                                }
                            }
                            if negate {
                                Op::NotIn(values)
                            } else {
                                Op::In(values)
                            }
                        }
                        other => {
                            return Err(parse_error(input, other, "'=', '!=', '==', 'in', 'notin'"))
                        }
                    };
                    (key, op)
                }
                other => return Err(parse_error(input, other, "!, identifier")),
            };
            reqs.push((key, op));
            match tokens.get(i) {
                None => break,
                Some(Token::Comma) => i += 1,
                other => return Err(parse_error(input, other, "','")),
            }
        }
        Ok(Self { requirements: reqs })
    }

    /// True when every requirement holds for `labels`.
    #[cfg(test)]
    pub(crate) fn matches(&self, labels: &[(&str, &str)]) -> bool {
        self.matches_with(|k| labels.iter().find(|(lk, _)| *lk == k).map(|(_, v)| *v))
    }

    /// The first requirement that asks for one value (`key=v`, `key==v`, `key in (v)`): every
    /// object the selector matches carries that label.
    pub(crate) fn equality(&self) -> Option<(&str, &str)> {
        self.requirements.iter().find_map(|(key, op)| match op {
            Op::In(vs) if vs.len() == 1 => Some((key.as_str(), vs[0].as_str())),
            _ => None,
        })
    }

    /// [`LabelSelector::matches`] over an object's `metadata.labels` map, read in place.
    pub(crate) fn matches_map(&self, labels: Option<&serde_json::Map<String, Value>>) -> bool {
        self.matches_with(|k| labels.and_then(|l| l.get(k)).and_then(Value::as_str))
    }

    /// Whether the labels that `get` looks up satisfy every requirement.
    fn matches_with<'a>(&self, get: impl Fn(&str) -> Option<&'a str>) -> bool {
        self.requirements.iter().all(|(key, op)| {
            let value = get(key);
            match op {
                Op::Exists => value.is_some(),
                Op::DoesNotExist => value.is_none(),
                Op::In(vs) => value.is_some_and(|v| vs.iter().any(|x| x == v)),
                Op::NotIn(vs) => value.is_none_or(|v| !vs.iter().any(|x| x == v)),
                Op::Gt(n) => value
                    .and_then(|v| v.parse::<i64>().ok())
                    .is_some_and(|v| v > *n),
                Op::Lt(n) => value
                    .and_then(|v| v.parse::<i64>().ok())
                    .is_some_and(|v| v < *n),
            }
        })
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.requirements.is_empty()
    }
}

/// The fields a field selector may name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Name,
    Namespace,
}

/// A parsed field selector: `metadata.name=x,metadata.namespace!=y`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct FieldSelector {
    terms: Vec<(Field, bool, String)>,
}

impl FieldSelector {
    /// Parses a field selector. An unknown field is 400 with the message custom resources give
    /// (`"x" is not a known field selector: only "metadata.name", "metadata.namespace"`); a term
    /// without an operator is 400 too.
    pub(crate) fn parse(input: &str) -> Result<Self, ApiError> {
        let mut terms = Vec::new();
        for term in input.split(',').filter(|t| !t.trim().is_empty()) {
            let (field, equal, value) = if let Some((f, v)) = term.split_once("!=") {
                (f, false, v)
            } else if let Some((f, v)) = term.split_once("==") {
                (f, true, v)
            } else if let Some((f, v)) = term.split_once('=') {
                (f, true, v)
            } else {
                return Err(ApiError::bad_request(format!(
                    "invalid selector: '{input}'; can't understand '{term}'"
                )));
            };
            let field = match field.trim() {
                "metadata.name" => Field::Name,
                "metadata.namespace" => Field::Namespace,
                other => {
                    return Err(ApiError::bad_request(format!(
                        "\"{other}\" is not a known field selector: only \"metadata.name\", \"metadata.namespace\""
                    )))
                }
            };
            terms.push((field, equal, value.trim().to_string()));
        }
        Ok(Self { terms })
    }

    /// True when every term holds for the object at `key`.
    pub(crate) fn matches(&self, key: &ObjectKey) -> bool {
        self.terms.iter().all(|(field, equal, value)| {
            let actual = match field {
                Field::Name => &key.name,
                Field::Namespace => &key.namespace,
            };
            (actual == value) == *equal
        })
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sel(s: &str) -> LabelSelector {
        LabelSelector::parse(s).expect("parses")
    }

    #[test]
    fn equality_and_inequality_requirements_match_as_the_api_server_does() {
        let l = [("app", "web"), ("tier", "1")];
        assert!(sel("app=web").matches(&l));
        assert!(sel("app==web,tier").matches(&l));
        assert!(!sel("app!=web").matches(&l));
        assert!(sel("missing!=x").matches(&l), "!= matches an absent label");
        assert!(sel("").matches(&l));
    }

    #[test]
    fn set_requirements_and_existence_match() {
        let l = [("env", "prod")];
        assert!(sel("env in (prod, dev)").matches(&l));
        assert!(!sel("env notin (prod)").matches(&l));
        assert!(sel("x notin (a)").matches(&l));
        assert!(sel("!x").matches(&l));
        assert!(!sel("!env").matches(&l));
        assert!(sel("env").matches(&l));
    }

    #[test]
    fn greater_and_less_than_compare_integers() {
        let l = [("n", "5")];
        assert!(sel("n>4").matches(&l) && sel("n<6").matches(&l) && !sel("n>5").matches(&l));
    }

    #[test]
    fn bad_label_selector_syntax_is_a_400() {
        for bad in ["a in b", "a in (b", "=x", "a b", "!", "a,", "a>b"] {
            let e = LabelSelector::parse(bad).expect_err(bad);
            assert_eq!(e.code(), 400, "{bad}");
            assert!(
                e.message.starts_with("unable to parse requirement"),
                "{}",
                e.message
            );
        }
    }

    #[test]
    fn an_unknown_field_selector_is_a_400() {
        let e = FieldSelector::parse("spec.x=1").expect_err("unknown");
        assert_eq!(
            (e.code(), e.message.as_str()),
            (
                400,
                "\"spec.x\" is not a known field selector: only \"metadata.name\", \"metadata.namespace\""
            )
        );
        assert_eq!(FieldSelector::parse("nonsense").expect_err("x").code(), 400);
    }

    #[test]
    fn field_selectors_match_name_and_namespace() {
        let k = ObjectKey::new("configmaps", "ns", "a");
        let f = FieldSelector::parse("metadata.name=a,metadata.namespace!=other").expect("ok");
        assert!(f.matches(&k));
        assert!(!FieldSelector::parse("metadata.name==b")
            .expect("ok")
            .matches(&k));
    }
}

#[cfg(test)]
mod property_tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn parsing_any_selector_string_never_panics(s in "[a-z!=(), <>in]{0,16}") {
            let _ = LabelSelector::parse(&s);
            let _ = FieldSelector::parse(&s);
        }
    }
}
