//! JSON-RPC 1.0 / 2.0 envelopes: request bodies (single or batch) in, response bodies out.
//!
//! btcd's rules: a body starting with `[` is a batch; a request without an `id` (or with a null
//! id) is a notification and gets no reply; an empty batch is an invalid request; a batch entry
//! that is not a request object gets an invalid-request reply in its place.

use super::error::RpcError;
use serde_json::{json, Map, Value};

/// Which JSON-RPC dialect a request used; the reply uses the same.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Version {
    /// JSON-RPC 1.0 (also when `jsonrpc` is absent): replies carry `result`, `error` and `id`.
    V1,
    /// JSON-RPC 2.0: replies carry `jsonrpc`, `id` and either `result` or `error`.
    V2,
}

/// One parsed request.
#[derive(Clone, Debug, PartialEq)]
pub struct Request {
    /// Dialect.
    pub version: Version,
    /// The caller's id; `None` for notifications, which get no reply.
    pub id: Option<Value>,
    /// Method name.
    pub method: String,
    /// Positional parameters (`null` or absent parameters become an empty list).
    pub params: Vec<Value>,
}

/// What a request body held.
#[derive(Debug, PartialEq)]
pub enum Body {
    /// A single request, or the error reply for a body that was not one.
    Single(Result<Request, RpcError>),
    /// A batch: one entry per element, in order.
    Batch(Vec<Result<Request, (Option<Value>, RpcError)>>),
}

/// Most calls in one batch: a client wanting more sends more requests, so one body never
/// holds the node (and every other client) for long.
pub const MAX_BATCH: usize = 1000;

/// Parses a request body.
pub fn parse_body(body: &[u8]) -> Body {
    let trimmed = body
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .map_or(&[][..], |i| &body[i..]);
    let value: Value = match serde_json::from_slice(body) {
        Ok(v) => v,
        Err(e) if trimmed.first() == Some(&b'[') => {
            return Body::Batch(vec![Err((None, RpcError::parse(e)))])
        }
        Err(e) => return Body::Single(Err(RpcError::parse(e))),
    };
    match value {
        Value::Array(items) if items.is_empty() => {
            Body::Batch(vec![Err((None, RpcError::invalid_request("empty batch")))])
        }
        Value::Array(items) if items.len() > MAX_BATCH => Body::Batch(vec![Err((
            None,
            RpcError::invalid_request(&format!(
                "batch of {} calls: at most {MAX_BATCH} are taken at once",
                items.len()
            )),
        ))]),
        Value::Array(items) => Body::Batch(
            items
                .into_iter()
                .map(|v| {
                    let id = v.get("id").cloned();
                    parse_request(v).map_err(|e| (id, e))
                })
                .collect(),
        ),
        other => Body::Single(parse_request(other)),
    }
}

/// Interprets one JSON value as a request.
pub fn parse_request(v: Value) -> Result<Request, RpcError> {
    let Value::Object(mut obj) = v else {
        return Err(RpcError::invalid_request("malformed"));
    };
    let version = match obj.get("jsonrpc") {
        Some(Value::String(s)) if s == "2.0" => Version::V2,
        _ => Version::V1,
    };
    let method = match obj.remove("method") {
        Some(Value::String(m)) if !m.is_empty() => m,
        _ => return Err(RpcError::invalid_request("malformed")),
    };
    let params = match obj.remove("params") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(p)) => p,
        Some(_) => return Err(RpcError::invalid_request("params must be an array")),
    };
    let id = obj.remove("id").filter(|id| !id.is_null());
    Ok(Request {
        version,
        id,
        method,
        params,
    })
}

/// The reply object for a request with `id`.
pub fn response(version: Version, id: Option<Value>, outcome: Result<Value, RpcError>) -> Value {
    let id = id.unwrap_or(Value::Null);
    match (version, outcome) {
        (Version::V1, Ok(result)) => json!({ "result": result, "error": null, "id": id }),
        (Version::V1, Err(e)) => json!({ "result": null, "error": e.to_json(), "id": id }),
        (Version::V2, outcome) => {
            let mut m = Map::new();
            m.insert("jsonrpc".into(), "2.0".into());
            match outcome {
                Ok(result) => m.insert("result".into(), result),
                Err(e) => m.insert("error".into(), e.to_json()),
            };
            m.insert("id".into(), id);
            Value::Object(m)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rpc::error::code;

    #[test]
    fn single_requests_parse_in_both_dialects() {
        let Body::Single(Ok(r)) =
            parse_body(br#"{"jsonrpc":"1.0","id":7,"method":"getblockcount","params":[]}"#)
        else {
            panic!("expected a single request")
        };
        assert_eq!(
            (r.version, r.id, r.method.as_str()),
            (Version::V1, Some(json!(7)), "getblockcount")
        );
        let Body::Single(Ok(r)) = parse_body(br#"{"jsonrpc":"2.0","id":"a","method":"x"}"#) else {
            panic!("expected a single request")
        };
        assert_eq!((r.version, r.params.len()), (Version::V2, 0));
    }

    #[test]
    fn malformed_bodies_get_btcd_codes() {
        assert!(matches!(parse_body(b"{nope"), Body::Single(Err(e)) if e.code == code::PARSE));
        assert!(
            matches!(parse_body(br#"{"id":1}"#), Body::Single(Err(e)) if e.code == code::INVALID_REQUEST)
        );
        assert!(
            matches!(parse_body(b"[]"), Body::Batch(v) if matches!(&v[0], Err((None, e)) if e.code == code::INVALID_REQUEST))
        );
        assert!(
            matches!(parse_body(b"[1,"), Body::Batch(v) if matches!(&v[0], Err((None, e)) if e.code == code::PARSE))
        );
    }

    #[test]
    fn batch_entries_are_independent() {
        let Body::Batch(v) = parse_body(br#"[{"id":1,"method":"a"}, 5, {"id":2,"method":"b"}]"#)
        else {
            panic!("expected a batch")
        };
        assert!(v[0].is_ok() && v[2].is_ok());
        assert!(matches!(&v[1], Err((None, e)) if e.code == code::INVALID_REQUEST));
    }

    #[test]
    fn replies_follow_the_request_dialect() {
        let ok = response(Version::V1, Some(json!(1)), Ok(json!(5)));
        assert_eq!(ok, json!({"result": 5, "error": null, "id": 1}));
        let err = response(
            Version::V2,
            Some(json!(1)),
            Err(RpcError::method_not_found()),
        );
        assert_eq!(err["error"]["code"], json!(-32601));
        assert!(err.get("result").is_none());
        assert_eq!(err["jsonrpc"], json!("2.0"));
    }
}
