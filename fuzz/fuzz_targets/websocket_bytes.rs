//! Raw bytes from a client, after the upgrade, into the WebSocket decoder with the
//! limits Hearth serves chat with; each text message then into the frame parser.
#![no_main]

use futures_util::StreamExt;
use hearth::chat::protocol::{Incoming, websocket_config};
use libfuzzer_sys::fuzz_target;
use tokio::io::AsyncWriteExt;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::Role;

fuzz_target!(|bytes: &[u8]| {
    let runtime =
        tokio::runtime::Builder::new_current_thread().build().expect("a runtime for one input");
    runtime.block_on(async {
        // Room for every reply (pongs, close) the server may write: nobody reads them.
        let (mut client, server) = tokio::io::duplex(1 << 20);
        let config = websocket_config();
        let limit = config.max_message_size.unwrap_or(usize::MAX);
        let mut socket = WebSocketStream::from_raw_socket(server, Role::Server, Some(config)).await;
        let send = async move {
            let _ = client.write_all(bytes).await;
            let _ = client.shutdown().await;
            client
        };
        let receive = async {
            while let Some(Ok(message)) = socket.next().await {
                if let Message::Text(text) = message {
                    assert!(text.len() <= limit);
                    let _ = Incoming::parse(&text);
                }
            }
        };
        let _ = tokio::join!(send, receive);
    });
});
