"""WeCom's side of the callback crypto, written from the protocol description (PLATFORMS.md),
independently of the app's wechatpy-based code, so that each checks the other."""
from __future__ import annotations

import base64
import hashlib
import os
import struct

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

BLOCK = 32


def _key(encoding_aes_key: str) -> bytes:
    key = base64.b64decode(encoding_aes_key + "=")
    assert len(key) == 32
    return key


def sign(token: str, timestamp: str, nonce: str, encrypt: str) -> str:
    return hashlib.sha1("".join(sorted([token, timestamp, nonce, encrypt])).encode()).hexdigest()


def encrypt(encoding_aes_key: str, plaintext: str, receive_id: str, random16: bytes | None = None) -> str:
    key = _key(encoding_aes_key)
    body = plaintext.encode()
    raw = (random16 or os.urandom(16)) + struct.pack(">I", len(body)) + body + receive_id.encode()
    pad = BLOCK - len(raw) % BLOCK
    raw += bytes([pad]) * pad
    enc = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
    return base64.b64encode(enc.update(raw) + enc.finalize()).decode()


def decrypt(encoding_aes_key: str, ciphertext: str, receive_id: str) -> str:
    key = _key(encoding_aes_key)
    dec = Cipher(algorithms.AES(key), modes.CBC(key[:16])).decryptor()
    raw = dec.update(base64.b64decode(ciphertext)) + dec.finalize()
    pad = raw[-1]
    if not 1 <= pad <= BLOCK:
        raise ValueError("bad padding")
    raw = raw[:-pad]
    (length,) = struct.unpack(">I", raw[16:20])
    if raw[20 + length:].decode() != receive_id:
        raise ValueError("wrong receive id")
    return raw[20:20 + length].decode()


def encrypt_file(data: bytes, encoding_aes_key: str | None = None) -> tuple[bytes, str]:
    """A file as the AI bot hands it over: (ciphertext, its key as an aeskey). AES-256-CBC, IV
    the key's first 16 bytes, PKCS#7 to 32 (the message scheme without the framing); the key is
    the callback's EncodingAESKey when given (the HTTP callback), else a fresh one (the long
    connection gives each file its own)."""
    key = _key(encoding_aes_key) if encoding_aes_key else os.urandom(32)
    pad = BLOCK - len(data) % BLOCK
    enc = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
    return enc.update(data + bytes([pad]) * pad) + enc.finalize(), base64.b64encode(key).decode().rstrip("=")
