//! A small JSON client for API.md, shared by the demo and the contract suite:
//! every answer comes back with its status, its JSON body and how long it
//! took, whatever the status.

use std::time::{Duration, Instant};

use reqwest::header::HeaderMap;
use reqwest::Method;
use serde_json::Value;

#[derive(Clone)]
pub struct ShopClient {
    http: reqwest::Client,
    base_url: String,
}

/// One answer.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    /// The body as JSON (`Value::Null` if it was empty or not JSON).
    pub body: Value,
    pub elapsed: Duration,
}

impl Reply {
    /// The `code` of an API.md error body, if this is one.
    pub fn error_code(&self) -> Option<&str> {
        self.body.pointer("/error/code").and_then(Value::as_str)
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|value| value.to_str().ok())
    }
}

impl ShopClient {
    // A true invariant: this builder sets nothing that can fail.
    #[allow(clippy::expect_used)]
    pub fn new(base_url: &str) -> Self {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .expect("a client with only a timeout set always builds");
        Self {
            http,
            base_url: base_url.trim_end_matches('/').to_owned(),
        }
    }

    pub async fn get(&self, path: &str) -> anyhow::Result<Reply> {
        self.send(Method::GET, path, None, &[]).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> anyhow::Result<Reply> {
        self.send(Method::POST, path, Some(body), &[]).await
    }

    /// A JSON request with extra headers (`Idempotency-Key`, `X-Request-Id`).
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        headers: &[(&str, &str)],
    ) -> anyhow::Result<Reply> {
        let bytes = body.map(|body| body.to_string().into_bytes());
        let content_type = body.map(|_| "application/json");
        self.raw(method, path, content_type, bytes, headers).await
    }

    /// Any request at all: for malformed bodies, missing content types and
    /// other input a well-behaved client would not send.
    pub async fn raw(
        &self,
        method: Method,
        path: &str,
        content_type: Option<&str>,
        body: Option<Vec<u8>>,
        headers: &[(&str, &str)],
    ) -> anyhow::Result<Reply> {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.base_url));
        if let Some(content_type) = content_type {
            request = request.header("content-type", content_type);
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if let Some(body) = body {
            request = request.body(body);
        }
        let started = Instant::now();
        let response = request.send().await?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let bytes = response.bytes().await?;
        let elapsed = started.elapsed();
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Ok(Reply {
            status,
            headers,
            body,
            elapsed,
        })
    }
}
