//! The two pieces of cryptography Web Push asks of a sender: the payload encrypted
//! for one subscription (RFC 8291, with RFC 8188's `aes128gcm` coding), and the
//! VAPID token that says which server sends it (RFC 8292). RustCrypto does the
//! primitives (P-256, HKDF-SHA-256, AES-128-GCM, ECDSA); this is only how RFC 8291
//! and RFC 8292 put them together, which no well-kept crate offers without OpenSSL.

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes128Gcm, Nonce};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hkdf::Hkdf;
use p256::ecdsa::signature::Signer;
use p256::ecdsa::{Signature, SigningKey};
use p256::elliptic_curve::sec1::ToEncodedPoint;
use p256::{PublicKey, SecretKey};
use sha2::Sha256;

/// The record size written in the header: one record holds any payload Hearth sends.
const RECORD_SIZE: u32 = 4096;

/// Why a subscription's keys cannot be used.
#[derive(Debug, PartialEq, Eq)]
pub struct BadKeys;

/// A subscription's keys, as the browser gave them (`p256dh`, `auth`).
#[derive(Clone)]
pub struct Receiver {
    public: PublicKey,
    auth: [u8; 16],
}

impl Receiver {
    pub fn parse(p256dh: &str, auth: &str) -> Result<Receiver, BadKeys> {
        let point = URL_SAFE_NO_PAD.decode(p256dh.trim_end_matches('=')).map_err(|_| BadKeys)?;
        let public = PublicKey::from_sec1_bytes(&point).map_err(|_| BadKeys)?;
        let auth = URL_SAFE_NO_PAD.decode(auth.trim_end_matches('=')).map_err(|_| BadKeys)?;
        let auth: [u8; 16] = auth.try_into().map_err(|_| BadKeys)?;
        Ok(Receiver { public, auth })
    }
}

/// `plaintext` encrypted for `to`: the body of the push request, to be sent with
/// `Content-Encoding: aes128gcm`.
pub fn encrypt(to: &Receiver, plaintext: &[u8]) -> anyhow::Result<Vec<u8>> {
    anyhow::ensure!(plaintext.len() + 17 <= RECORD_SIZE as usize, "too long for one record");
    let mut rng = rand::rngs::OsRng;
    let ours = SecretKey::random(&mut rng);
    let our_public = ours.public_key().to_encoded_point(false);
    let their_public = to.public.to_encoded_point(false);
    let shared = p256::ecdh::diffie_hellman(ours.to_nonzero_scalar(), to.public.as_affine());

    // RFC 8291 3.3/3.4: the input keying material, from the shared secret and the
    // subscription's auth secret, bound to both public keys.
    let mut info = b"WebPush: info\0".to_vec();
    info.extend_from_slice(their_public.as_bytes());
    info.extend_from_slice(our_public.as_bytes());
    let mut ikm = [0u8; 32];
    Hkdf::<Sha256>::new(Some(&to.auth), shared.raw_secret_bytes())
        .expand(&info, &mut ikm)
        .map_err(|_| anyhow::anyhow!("hkdf"))?;

    // RFC 8188 2.2/2.3: the content key and nonce, from a fresh salt.
    let salt: [u8; 16] = rand::random();
    let prk = Hkdf::<Sha256>::new(Some(&salt), &ikm);
    let (mut key, mut nonce) = ([0u8; 16], [0u8; 12]);
    prk.expand(b"Content-Encoding: aes128gcm\0", &mut key).map_err(|_| anyhow::anyhow!("hkdf"))?;
    prk.expand(b"Content-Encoding: nonce\0", &mut nonce).map_err(|_| anyhow::anyhow!("hkdf"))?;

    // One record: the payload and the delimiter of the last record (2), no padding.
    let mut record = plaintext.to_vec();
    record.push(2);
    let sealed = Aes128Gcm::new_from_slice(&key)
        .map_err(|_| anyhow::anyhow!("key length"))?
        .encrypt(Nonce::from_slice(&nonce), record.as_slice())
        .map_err(|_| anyhow::anyhow!("aes-gcm"))?;

    // The header: salt, record size, and our public key as the key id.
    let mut body = Vec::with_capacity(16 + 4 + 1 + 65 + sealed.len());
    body.extend_from_slice(&salt);
    body.extend_from_slice(&RECORD_SIZE.to_be_bytes());
    body.push(our_public.as_bytes().len() as u8);
    body.extend_from_slice(our_public.as_bytes());
    body.extend_from_slice(&sealed);
    Ok(body)
}

/// The server's VAPID key pair.
pub struct Vapid {
    key: SigningKey,
    /// Who to contact about this server's pushes (`sub`): its public URL.
    contact: String,
}

impl Vapid {
    /// From the private key's 32 bytes, base64url.
    pub fn from_private(encoded: &str, contact: &str) -> anyhow::Result<Vapid> {
        let bytes = URL_SAFE_NO_PAD.decode(encoded.trim().trim_end_matches('='))?;
        let key = SigningKey::from_slice(&bytes)?;
        Ok(Vapid { key, contact: contact.to_owned() })
    }

    /// A new private key, base64url.
    pub fn new_private() -> String {
        URL_SAFE_NO_PAD.encode(SigningKey::random(&mut rand::rngs::OsRng).to_bytes())
    }

    /// The public key, base64url of its uncompressed point: what the browser's
    /// `applicationServerKey` is, and the `k` of the header.
    pub fn public(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.key.verifying_key().to_encoded_point(false).as_bytes())
    }

    /// `Authorization` for a push to `endpoint`'s origin, valid for 12 hours.
    pub fn authorization(&self, endpoint: &url::Url, now: i64) -> String {
        let header = URL_SAFE_NO_PAD.encode(br#"{"typ":"JWT","alg":"ES256"}"#);
        let claims = serde_json::json!({
            "aud": endpoint.origin().ascii_serialization(),
            "exp": now + 12 * 60 * 60,
            "sub": self.contact,
        });
        let claims = URL_SAFE_NO_PAD.encode(claims.to_string());
        let signed = format!("{header}.{claims}");
        let signature: Signature = self.key.sign(signed.as_bytes());
        let token = format!("{signed}.{}", URL_SAFE_NO_PAD.encode(signature.to_bytes()));
        format!("vapid t={token}, k={}", self.public())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_that_are_not_a_point_and_sixteen_bytes_are_refused() {
        let point = URL_SAFE_NO_PAD.encode(
            SecretKey::random(&mut rand::rngs::OsRng)
                .public_key()
                .to_encoded_point(false)
                .as_bytes(),
        );
        let auth = URL_SAFE_NO_PAD.encode([7u8; 16]);
        assert!(Receiver::parse(&point, &auth).is_ok());
        assert!(Receiver::parse(&point, "c2hvcnQ").is_err());
        assert!(Receiver::parse(&URL_SAFE_NO_PAD.encode([4u8; 65]), &auth).is_err());
        assert!(Receiver::parse("not base64!", &auth).is_err());
    }

    #[test]
    fn the_body_is_salt_size_key_and_one_sealed_record() {
        let ua = SecretKey::random(&mut rand::rngs::OsRng);
        let point = URL_SAFE_NO_PAD.encode(ua.public_key().to_encoded_point(false).as_bytes());
        let to = Receiver::parse(&point, &URL_SAFE_NO_PAD.encode([1u8; 16])).unwrap();
        let body = encrypt(&to, b"hello").unwrap();
        assert_eq!(&body[16..20], &4096u32.to_be_bytes());
        assert_eq!(body[20], 65);
        // 16-byte tag over the payload and its delimiter.
        assert_eq!(body.len(), 16 + 4 + 1 + 65 + 5 + 1 + 16);
    }
}
