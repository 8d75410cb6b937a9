//! A passkey authenticator for the HTTP tests: it answers Hearth's WebAuthn
//! options as a device would (a P-256 key, "none" attestation, user verified),
//! so the ceremonies run on both databases without a browser. The browser suite
//! runs the same ceremonies with Chromium's virtual authenticator.
//!
//! It builds the CBOR and the signatures from the WebAuthn specification itself
//! and shares no code with Hearth's verifier (webauthn-rs).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use p256::ecdsa::signature::Signer;
use p256::ecdsa::{Signature, SigningKey};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

pub struct Authenticator {
    key: SigningKey,
    credential_id: Vec<u8>,
    /// The account handle Hearth gave when the key was made.
    user_handle: Vec<u8>,
    counter: u32,
    /// The page the browser says the ceremony ran on.
    pub origin: String,
}

impl Authenticator {
    /// A device with no key yet, used on pages of `origin` (`http://localhost:<port>`).
    pub fn new(origin: &str) -> Self {
        Authenticator {
            key: SigningKey::random(&mut rand::thread_rng()),
            credential_id: rand::random::<[u8; 16]>().to_vec(),
            user_handle: Vec::new(),
            counter: 0,
            origin: origin.to_owned(),
        }
    }

    /// The answer to `navigator.credentials.create(options)`, as Hearth's script
    /// sends it.
    pub fn create(&mut self, options: &Value) -> String {
        let key = &options["publicKey"];
        let rp_id = key["rp"]["id"].as_str().expect("rp.id");
        self.user_handle = B64.decode(key["user"]["id"].as_str().expect("user.id")).unwrap();
        let client_data = self.client_data("webauthn.create", key);
        self.counter += 1;

        let point = self.key.verifying_key().to_encoded_point(false);
        let mut cose = map(5);
        cose.extend([int(1), int(2)].concat()); // kty: EC2
        cose.extend([int(3), int(-7)].concat()); // alg: ES256
        cose.extend([int(-1), int(1)].concat()); // crv: P-256
        cose.extend([int(-2), bytes(point.x().unwrap())].concat());
        cose.extend([int(-3), bytes(point.y().unwrap())].concat());

        let mut auth_data = self.auth_data(rp_id, 0x01 | 0x04 | 0x40); // UP, UV, attested data
        auth_data.extend([0u8; 16]); // AAGUID
        auth_data.extend((self.credential_id.len() as u16).to_be_bytes());
        auth_data.extend(&self.credential_id);
        auth_data.extend(cose);

        let mut attestation = map(3);
        attestation.extend([text("fmt"), text("none")].concat());
        attestation.extend([text("attStmt"), map(0)].concat());
        attestation.extend([text("authData"), bytes(&auth_data)].concat());

        json!({
            "id": B64.encode(&self.credential_id),
            "rawId": B64.encode(&self.credential_id),
            "type": "public-key",
            "response": {
                "attestationObject": B64.encode(attestation),
                "clientDataJSON": B64.encode(client_data),
            },
            "extensions": {},
        })
        .to_string()
    }

    /// The answer to `navigator.credentials.get(options)`: the key signs the
    /// challenge, its counter one higher than last time.
    pub fn get(&mut self, options: &Value) -> String {
        self.counter += 1;
        self.sign(options, self.counter)
    }

    /// An answer whose counter did not move on, as a copied key's would.
    pub fn get_as_a_clone(&mut self, options: &Value) -> String {
        self.sign(options, self.counter)
    }

    fn sign(&self, options: &Value, counter: u32) -> String {
        let key = &options["publicKey"];
        let rp_id = key["rpId"].as_str().expect("rpId");
        let client_data = self.client_data("webauthn.get", key);
        let mut auth_data = Sha256::digest(rp_id.as_bytes()).to_vec();
        auth_data.push(0x01 | 0x04);
        auth_data.extend(counter.to_be_bytes());
        let mut signed = auth_data.clone();
        signed.extend(Sha256::digest(&client_data));
        let signature: Signature = self.key.sign(&signed);
        json!({
            "id": B64.encode(&self.credential_id),
            "rawId": B64.encode(&self.credential_id),
            "type": "public-key",
            "response": {
                "authenticatorData": B64.encode(&auth_data),
                "clientDataJSON": B64.encode(&client_data),
                "signature": B64.encode(signature.to_der().as_bytes()),
                "userHandle": B64.encode(&self.user_handle),
            },
            "extensions": {},
        })
        .to_string()
    }

    fn auth_data(&self, rp_id: &str, flags: u8) -> Vec<u8> {
        let mut data = Sha256::digest(rp_id.as_bytes()).to_vec();
        data.push(flags);
        data.extend(self.counter.to_be_bytes());
        data
    }

    fn client_data(&self, kind: &str, key: &Value) -> Vec<u8> {
        let challenge = key["challenge"].as_str().expect("challenge");
        json!({ "type": kind, "challenge": challenge, "origin": self.origin, "crossOrigin": false })
            .to_string()
            .into_bytes()
    }
}

// The little CBOR (RFC 8949) the answers need: maps, integers, byte and text strings.

fn head(major: u8, n: u64) -> Vec<u8> {
    let major = major << 5;
    match n {
        0..=23 => vec![major | n as u8],
        24..=0xff => vec![major | 24, n as u8],
        0x100..=0xffff => [vec![major | 25], (n as u16).to_be_bytes().to_vec()].concat(),
        _ => [vec![major | 26], (n as u32).to_be_bytes().to_vec()].concat(),
    }
}

fn int(n: i64) -> Vec<u8> {
    if n >= 0 { head(0, n as u64) } else { head(1, (-1 - n) as u64) }
}

fn bytes(b: &[u8]) -> Vec<u8> {
    [head(2, b.len() as u64), b.to_vec()].concat()
}

fn text(s: &str) -> Vec<u8> {
    [head(3, s.len() as u64), s.as_bytes().to_vec()].concat()
}

fn map(pairs: u64) -> Vec<u8> {
    head(5, pairs)
}
