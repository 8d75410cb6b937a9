//! The chat socket's wire protocol: the limits a client's frames are read with, and
//! what a frame means. Everything a client can put on the socket passes through
//! [`read`] (and so [`Incoming::parse`]) before the connection acts on it.

use poem::web::websocket::{CloseCode, Message as Frame, WebSocketConfig};
use serde::Deserialize;

/// Largest frame a client may send; a composer message is at most 4,000 characters.
pub const MAX_FRAME: usize = 16 * 1024;
/// What the WebSocket layer reads at most before giving up on a frame. Frames between
/// the two limits are read whole and refused with 1009 cleanly; a bigger one breaks
/// the connection off mid-frame.
const HARD_FRAME_LIMIT: usize = 256 * 1024;

/// The WebSocket limits chat sockets are served with (also what `just fuzz` feeds).
pub fn websocket_config() -> WebSocketConfig {
    WebSocketConfig::default()
        .max_message_size(Some(HARD_FRAME_LIMIT))
        .max_frame_size(Some(HARD_FRAME_LIMIT))
        // tungstenite's default 128 KiB read buffer is zero-filled before every read
        // and stays resident per socket; composer frames are small (the buffer still
        // grows for a large one). Measured in docs/benchmarks.md: 128 → 4 KiB made
        // CPU per delivery about a third lower and memory per socket 145 → 19 KiB;
        // 4 → 1 KiB saves another 3 KiB per idle socket.
        .read_buffer_size(1024)
        // Frames written together (a catch-up, a queue drained in one go) reach the
        // kernel in pieces of about this size rather than being gathered whole: the
        // buffer keeps the capacity it grew to for as long as the socket is open.
        .write_buffer_size(4096)
}

/// What a client may send, parsed once at the edge by [`Incoming::parse`].
#[derive(Debug, PartialEq, Eq)]
pub enum Incoming {
    /// Send every change after this room event number, then go live.
    Resume {
        after: i64,
    },
    Send {
        body: String,
    },
    Typing,
}

/// The frame as htmx sends it: the form's fields, all strings, plus its headers.
#[derive(Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
enum Wire {
    Resume { after: String },
    Send { body: String },
    Typing {},
}

impl Incoming {
    /// A text frame's content, or why it breaks the protocol.
    pub fn parse(text: &str) -> Result<Self, &'static str> {
        match serde_json::from_str::<Wire>(text).map_err(|_| "malformed frame")? {
            Wire::Resume { after } => match after.trim().parse::<i64>() {
                Ok(after) if after >= 0 => Ok(Self::Resume { after }),
                _ => Err("malformed resume position"),
            },
            Wire::Send { body } => Ok(Self::Send { body }),
            Wire::Typing {} => Ok(Self::Typing),
        }
    }
}

/// What one read from the client amounts to.
pub enum Received {
    Incoming(Incoming),
    /// A ping or a pong, which the WebSocket layer answers itself.
    Nothing,
    /// The client closed the connection, or it broke.
    Gone,
    /// The client broke the protocol: close with this code and reason.
    Broken(CloseCode, &'static str),
}

/// Reads one frame (or the end of the stream) from the client.
pub fn read(frame: Option<std::io::Result<Frame>>) -> Received {
    let text = match frame {
        None | Some(Ok(Frame::Close(_))) => return Received::Gone,
        Some(Ok(Frame::Text(text))) if text.len() > MAX_FRAME => {
            return Received::Broken(CloseCode::Size, "frame too large");
        }
        Some(Ok(Frame::Text(text))) => text,
        Some(Ok(Frame::Binary(_))) => {
            return Received::Broken(CloseCode::Unsupported, "binary frames are not accepted");
        }
        Some(Ok(Frame::Ping(_) | Frame::Pong(_))) => return Received::Nothing,
        Some(Err(err)) => return transport_error(&err),
    };
    match Incoming::parse(&text) {
        Ok(incoming) => Received::Incoming(incoming),
        Err(why) => Received::Broken(CloseCode::Policy, why),
    }
}

/// poem reports tungstenite's protocol errors as text; these are the ones a client
/// can cause on purpose.
fn transport_error(err: &std::io::Error) -> Received {
    let text = err.to_string();
    if err.kind() != std::io::ErrorKind::Other {
        Received::Gone
    } else if text.contains("too long") || text.contains("Space limit") {
        Received::Broken(CloseCode::Size, "frame too large")
    } else if text.to_lowercase().contains("utf-8") {
        Received::Broken(CloseCode::Invalid, "invalid UTF-8")
    } else {
        Received::Broken(CloseCode::Protocol, "protocol error")
    }
}

#[cfg(test)]
mod tests {
    use super::Incoming;

    #[test]
    fn frames_as_htmx_sends_them_are_understood() {
        let resume = r#"{"kind":"resume","after":" 42 ","HEADERS":{"HX-Request":"true"}}"#;
        assert_eq!(Incoming::parse(resume), Ok(Incoming::Resume { after: 42 }));
        let send = r#"{"kind":"send","body":"hi <b>","HEADERS":{}}"#;
        assert_eq!(Incoming::parse(send), Ok(Incoming::Send { body: "hi <b>".into() }));
        assert_eq!(Incoming::parse(r#"{"kind":"typing","body":"h"}"#), Ok(Incoming::Typing));
    }

    #[test]
    fn anything_else_is_refused_with_a_reason() {
        for frame in ["", "null", "[]", r#"{"kind":"explode"}"#, r#"{"body":"no kind"}"#] {
            assert_eq!(Incoming::parse(frame), Err("malformed frame"), "{frame}");
        }
        for after in ["-1", "x", "", "9223372036854775808"] {
            let frame = format!(r#"{{"kind":"resume","after":"{after}"}}"#);
            assert_eq!(Incoming::parse(&frame), Err("malformed resume position"), "{frame}");
        }
    }
}
