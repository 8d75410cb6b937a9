//! A chat socket's text frame: understood, or refused with a reason; never a panic.
#![no_main]

use hearth::chat::protocol::Incoming;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|frame: &str| {
    if let Ok(Incoming::Resume { after }) = Incoming::parse(frame) {
        assert!(after >= 0);
    }
});
