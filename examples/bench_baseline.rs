//! The bare baseline `just bench` compares Hearth's chat with: one poem WebSocket
//! endpoint that broadcasts every message it is sent to every open socket. No
//! sessions, no accounts, no storage, no presence; the same JSON frames in and the
//! same kind of numbered HTML fragment out, so the load generator cannot tell the two
//! apart. Whatever Hearth costs above this is the price of what it does.
//!
//! Not for anything but the benchmark: `bench_baseline 127.0.0.1:PORT`.

use std::sync::{Arc, Mutex};

use futures_util::{SinkExt, StreamExt};
use poem::listener::TcpListener;
use poem::web::Data;
use poem::web::websocket::{Message, WebSocket, WebSocketConfig};
use poem::{EndpointExt, IntoResponse, Route, Server, get, handler};
use serde::Deserialize;
use tokio::sync::broadcast;

struct Room {
    /// The next message number, taken under the lock that also broadcasts, so numbers
    /// go out in order.
    seq: Mutex<u64>,
    tx: broadcast::Sender<Arc<str>>,
}

#[derive(Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
enum Incoming {
    Resume {},
    Send {
        body: String,
    },
    #[serde(other)]
    Other,
}

#[handler]
fn health() -> &'static str {
    "ok\n"
}

#[handler]
fn socket(ws: WebSocket, Data(room): Data<&Arc<Room>>) -> impl IntoResponse {
    let room = room.clone();
    // The one setting a minimal server should still get right: tungstenite zero-fills
    // its whole read buffer before every read attempt, and the socket is polled for
    // reading every time it wakes to write. At the default 128 KiB that is most of
    // the CPU per delivery, and 128 KiB resident per socket.
    // 1 KiB, as Hearth: the comparison is of what is on top of the transport.
    let config = WebSocketConfig::default().read_buffer_size(1024);
    ws.config(config).on_upgrade(move |stream| async move {
        let mut rx = room.tx.subscribe();
        let (mut sink, mut incoming) = stream.split();
        loop {
            let frame = tokio::select! {
                frame = incoming.next() => match frame {
                    Some(Ok(Message::Text(text))) => match serde_json::from_str(&text) {
                        Ok(Incoming::Resume {}) => Message::Text(
                            r#"<p id="connection-status" hx-swap-oob="true"></p>"#.into(),
                        ),
                        Ok(Incoming::Send { body }) => {
                            let mut seq = room.seq.lock().unwrap_or_else(|p| p.into_inner());
                            *seq += 1;
                            let html = maud::html! {
                                article data-seq=(*seq) { p { (body.trim()) } }
                            };
                            let _ = room.tx.send(html.into_string().into());
                            continue;
                        }
                        Ok(Incoming::Other) | Err(_) => continue,
                    },
                    Some(Ok(Message::Close(_))) | Some(Err(_)) | None => break,
                    Some(Ok(_)) => continue,
                },
                out = rx.recv() => match out {
                    Ok(html) => Message::Text(html.to_string()),
                    // Fell behind the broadcast buffer: a bare server just drops it.
                    Err(broadcast::error::RecvError::Lagged(_)) => break,
                    Err(broadcast::error::RecvError::Closed) => break,
                },
            };
            if sink.send(frame).await.is_err() {
                break;
            }
        }
    })
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let bind = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:3001".into());
    let (tx, _) = broadcast::channel(4096);
    let room = Arc::new(Room { seq: Mutex::new(0), tx });
    let app = Route::new().at("/healthz", get(health)).at("/ws", get(socket)).data(room);
    Server::new(TcpListener::bind(bind)).run(app).await
}
