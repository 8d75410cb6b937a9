//! Real API answers checked against the OpenAPI document Hearth serves. Only the part
//! of JSON Schema the document uses is understood; any other keyword fails the check,
//! so a constraint added to the document is never silently ignored here.

use serde_json::Value;

/// Keywords that describe a schema without constraining it.
const ANNOTATIONS: &[&str] = &["description", "example", "examples", "default", "title"];

pub struct OpenApi {
    doc: Value,
}

impl OpenApi {
    pub fn new(doc: Value) -> Self {
        OpenApi { doc }
    }

    /// The document as `base` serves it.
    pub async fn served(base: &str) -> Self {
        let resp = reqwest::get(format!("{base}/api/openapi.json")).await.expect("document");
        OpenApi::new(resp.json().await.expect("the document is JSON"))
    }

    /// Checks the answer `status`/`content_type`/`body` to `method path` (a real path,
    /// query and all). Returns whether a schema applied: the documented one, or for an
    /// error documented without one, `Error`, since the document says every error is
    /// `{"error": code, "detail": sentence}`.
    pub fn check(
        &self,
        method: &str,
        path: &str,
        status: u16,
        content_type: Option<&str>,
        body: &Value,
    ) -> Result<bool, String> {
        let template = self.template(path)?;
        let operation = &self.doc["paths"][template.as_str()][method.to_lowercase()];
        if !operation.is_object() {
            return Err(format!("{method} {template} is not in the document"));
        }
        let response = operation["responses"]
            .get(status.to_string())
            .ok_or_else(|| format!("{method} {template} does not document {status}"))?;
        let response = self.resolve(response)?;
        let schema = match response["content"].get("application/json") {
            Some(json) => Some(&json["schema"]),
            None if status >= 400 => Some(&self.doc["components"]["schemas"]["Error"]),
            None => None,
        };
        let Some(schema) = schema else { return Ok(false) };
        if !content_type.is_some_and(|t| t.starts_with("application/json")) {
            return Err(format!("{status} should be application/json, is {content_type:?}"));
        }
        self.validate(schema, body, "body")?;
        Ok(true)
    }

    /// The document's path (`/api/rooms/{room}/messages`) that `path` is an instance of.
    fn template(&self, path: &str) -> Result<String, String> {
        let path = path.split('?').next().unwrap_or_default();
        let parts: Vec<&str> = path.split('/').collect();
        let paths = self.doc["paths"].as_object().ok_or("the document has no paths")?;
        paths
            .keys()
            .find(|template| {
                let pattern: Vec<&str> = template.split('/').collect();
                pattern.len() == parts.len()
                    && pattern.iter().zip(&parts).all(|(p, part)| p.starts_with('{') || p == part)
            })
            .cloned()
            .ok_or_else(|| format!("{path} is not in the document"))
    }

    /// Follows a `$ref` within the document, if `node` is one.
    fn resolve<'a>(&'a self, node: &'a Value) -> Result<&'a Value, String> {
        let Some(reference) = node.get("$ref") else { return Ok(node) };
        let reference = reference.as_str().ok_or("$ref is not a string")?;
        let pointer =
            reference.strip_prefix('#').ok_or_else(|| format!("{reference} is not local"))?;
        self.doc.pointer(pointer).ok_or_else(|| format!("{reference} is not in the document"))
    }

    /// Checks `value` (found at `at`) against `schema`.
    pub fn validate(&self, schema: &Value, value: &Value, at: &str) -> Result<(), String> {
        let schema = self.resolve(schema)?;
        let keywords =
            schema.as_object().ok_or_else(|| format!("{at}: schema is not an object"))?;
        for (keyword, rule) in keywords {
            match keyword.as_str() {
                "$ref" => {}
                "type" => {
                    let allowed: Vec<&str> = match rule {
                        Value::String(one) => vec![one],
                        Value::Array(many) => many.iter().filter_map(Value::as_str).collect(),
                        _ => return Err(format!("{at}: bad type {rule}")),
                    };
                    if !allowed.iter().any(|t| is_type(value, t)) {
                        return Err(format!("{at}: {value} is not {}", allowed.join(" or ")));
                    }
                }
                "enum" => {
                    let options = rule.as_array().ok_or_else(|| format!("{at}: bad enum"))?;
                    if !options.contains(value) {
                        return Err(format!("{at}: {value} is not one of {rule}"));
                    }
                }
                "required" => {
                    for name in rule.as_array().into_iter().flatten().filter_map(Value::as_str) {
                        if value.is_object() && value.get(name).is_none() {
                            return Err(format!("{at}: {name} is missing"));
                        }
                    }
                }
                "properties" => {
                    let properties =
                        rule.as_object().ok_or_else(|| format!("{at}: bad properties"))?;
                    for (name, property) in properties {
                        if let Some(field) = value.get(name).filter(|_| value.is_object()) {
                            self.validate(property, field, &format!("{at}.{name}"))?;
                        }
                    }
                }
                "additionalProperties" => {
                    let (Some(object), Some(known)) =
                        (value.as_object(), keywords.get("properties"))
                    else {
                        continue;
                    };
                    for (name, field) in object.iter().filter(|(n, _)| known.get(n).is_none()) {
                        match rule {
                            Value::Bool(false) => {
                                return Err(format!("{at}: {name} is not allowed"));
                            }
                            Value::Bool(true) => {}
                            extra => self.validate(extra, field, &format!("{at}.{name}"))?,
                        }
                    }
                }
                "items" => {
                    for (i, item) in value.as_array().into_iter().flatten().enumerate() {
                        self.validate(rule, item, &format!("{at}[{i}]"))?;
                    }
                }
                "minLength" | "maxLength" => {
                    let (Some(text), Some(bound)) = (value.as_str(), rule.as_u64()) else {
                        continue;
                    };
                    let length = text.chars().count() as u64;
                    if (keyword == "minLength" && length < bound)
                        || (keyword == "maxLength" && length > bound)
                    {
                        return Err(format!("{at}: {length} characters breaks {keyword} {bound}"));
                    }
                }
                "minimum" | "maximum" => {
                    let (Some(number), Some(bound)) = (value.as_f64(), rule.as_f64()) else {
                        continue;
                    };
                    if (keyword == "minimum" && number < bound)
                        || (keyword == "maximum" && number > bound)
                    {
                        return Err(format!("{at}: {number} breaks {keyword} {bound}"));
                    }
                }
                "nullable" if rule == &Value::Bool(true) && value.is_null() => return Ok(()),
                "nullable" => {}
                annotation if ANNOTATIONS.contains(&annotation) => {}
                unknown => return Err(format!("{at}: the checker does not know {unknown:?}")),
            }
        }
        Ok(())
    }
}

fn is_type(value: &Value, name: &str) -> bool {
    match name {
        "object" => value.is_object(),
        "array" => value.is_array(),
        "string" => value.is_string(),
        "boolean" => value.is_boolean(),
        "null" => value.is_null(),
        "number" => value.is_number(),
        "integer" => value.is_i64() || value.is_u64(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::OpenApi;

    fn document() -> OpenApi {
        let text = include_str!("../../../src/api/openapi.json");
        OpenApi::new(serde_json::from_str(text).unwrap())
    }

    const JSON: Option<&str> = Some("application/json");

    fn me() -> Value {
        json!({"id": 1, "name": "Ada", "email": "ada@example.org", "avatar_url": null})
    }

    #[test]
    fn the_right_shape_passes() {
        let doc = document();
        assert_eq!(doc.check("GET", "/api/me", 200, JSON, &me()), Ok(true));
        let message = json!({"id": 7, "seq": 1, "author": {"id": 1, "name": "Ada"},
                             "body": "hi", "created_at": 1_700_000_000, "edited_at": null,
                             "reactions": [{"emoji": "👍", "count": 2, "mine": true}], "mentions": [2],
                             "attachments": [{"id": 3, "name": "a.png", "content_type": "image/png",
                                              "size": 10, "url": "/files/3/a.png",
                                              "thumbnail_url": "/previews/3"}]});
        let history = json!([message]);
        let path = "/api/rooms/general/messages?limit=10";
        assert_eq!(doc.check("GET", path, 200, JSON, &history), Ok(true));
        let error = json!({"error": "rate_limited", "detail": "Slow down."});
        assert_eq!(doc.check("POST", path, 429, JSON, &error), Ok(true));
        assert_eq!(doc.check("GET", "/api/openapi.json", 200, JSON, &json!({})), Ok(false));
    }

    #[test]
    fn a_wrong_shape_is_refused() {
        let doc = document();
        let refused = |method, path, status, body: Value| {
            let checked = doc.check(method, path, status, JSON, &body);
            assert!(checked.is_err(), "{method} {path} {status} {body} passed");
            checked.unwrap_err()
        };
        let mut me = me();
        me["id"] = json!("1");
        assert_eq!(refused("GET", "/api/me", 200, me.clone()), r#"body.id: "1" is not integer"#);
        me["id"] = json!(1.5);
        refused("GET", "/api/me", 200, me.clone());
        me["id"] = json!(1);
        me.as_object_mut().unwrap().remove("avatar_url");
        assert_eq!(refused("GET", "/api/me", 200, me), "body: avatar_url is missing");
        let room = json!({"slug": "general", "title": "General", "kind": "secret", "unread": 0});
        refused("GET", "/api/rooms", 200, json!([room]));
        refused("GET", "/api/rooms", 200, json!({"rooms": []}));
        let nameless = json!({"id": 7, "seq": 1, "author": {"id": 1},
                              "body": "hi", "created_at": 1});
        let at = refused("POST", "/api/rooms/general/messages", 201, nameless);
        assert_eq!(at, "body.author: name is missing");
        refused("GET", "/api/me", 401, json!({"error": "unauthorized"}));
        refused("POST", "/api/rooms/general/messages", 418, json!({}));
        refused("DELETE", "/api/me", 200, json!({}));
        refused("GET", "/api/nowhere", 200, json!({}));
        let html = doc.check("GET", "/api/me", 401, Some("text/html"), &Value::Null);
        assert!(html.is_err(), "an error page instead of JSON passed");
    }

    #[test]
    fn a_keyword_the_checker_does_not_know_is_refused() {
        let doc = document();
        let schema = json!({"type": "string", "pattern": "^a"});
        assert!(doc.validate(&schema, &json!("b"), "body").is_err());
        let closed = json!({"type": "object", "properties": {"a": {}},
                            "additionalProperties": false});
        assert!(doc.validate(&closed, &json!({"a": 1, "b": 2}), "body").is_err());
        assert!(doc.validate(&closed, &json!({"a": 1}), "body").is_ok());
        let short = json!({"$ref": "#/components/schemas/NewMessage"});
        assert!(doc.validate(&short, &json!({"body": ""}), "body").is_err());
    }
}
