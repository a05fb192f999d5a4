"""WeCom callback crypto: signature check in constant time, AES through wechatpy's WeChatCrypto.

The same scheme serves the self-built app (receive id = CorpID) and the AI bot (receive id "").
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import struct

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from wechatpy.enterprise.crypto import PrpCrypto, WeChatCrypto
from wechatpy.enterprise.exceptions import InvalidCorpIdException
from wechatpy.exceptions import InvalidSignatureException


class CryptoError(ValueError):
    """The message is not WeCom's: bad signature, wrong key or receive id, broken ciphertext."""


def signature(token: str, timestamp: str, nonce: str, encrypt: str) -> str:
    return hashlib.sha1("".join(sorted([token, timestamp, nonce, encrypt])).encode()).hexdigest()


class WeComCrypto:
    def __init__(self, token: str, encoding_aes_key: str, receive_id: str):
        self.token = token
        self.receive_id = receive_id
        self._crypto = WeChatCrypto(token, encoding_aes_key, receive_id)

    def verify(self, msg_signature: str, timestamp: str, nonce: str, encrypt: str) -> None:
        expected = signature(self.token, timestamp, nonce, encrypt)
        if not hmac.compare_digest(expected.encode(), (msg_signature or "").encode()):
            raise CryptoError("bad signature")

    def decrypt(self, msg_signature: str, timestamp: str, nonce: str, encrypt: str) -> str:
        """Verify, then decrypt; any failure is a CryptoError."""
        self.verify(msg_signature, timestamp, nonce, encrypt)
        self._check_padding(encrypt)
        try:
            return self._crypto.decrypt_message({"Encrypt": encrypt}, msg_signature, timestamp, nonce)
        except (InvalidSignatureException, InvalidCorpIdException) as exc:
            raise CryptoError(type(exc).__name__) from exc
        except (binascii.Error, ValueError, UnicodeDecodeError, struct.error, IndexError, TypeError) as exc:
            raise CryptoError(f"cannot decrypt: {type(exc).__name__}") from exc

    def _check_padding(self, encrypt: str) -> None:
        """WeCom pads with PKCS#7 to 32 bytes. wechatpy trusts the last byte blindly, so a
        ciphertext with a block added could decrypt "fine" for the AI bot's empty receive id;
        check the length and the padding bytes (decrypting only the last block) first."""
        try:
            raw = base64.b64decode(encrypt, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise CryptoError("ciphertext is not base64") from exc
        if not raw or len(raw) % 32:
            raise CryptoError("ciphertext length is not a multiple of 32")
        previous = raw[-32:-16]
        block = Cipher(algorithms.AES(self._crypto.key), modes.ECB()).decryptor().update(raw[-16:])
        last = bytes(a ^ b for a, b in zip(block, previous, strict=True))
        pad = last[-1]
        if not 1 <= pad <= 32 or any(b != pad for b in last[-min(pad, 16):]):
            raise CryptoError("bad padding")

    def encrypt(self, plaintext: str, timestamp: str, nonce: str) -> tuple[str, str]:
        """(encrypt, msg_signature) for a passive reply."""
        encrypt = PrpCrypto(self._crypto.key).encrypt(plaintext, self.receive_id)
        encrypt = encrypt.decode() if isinstance(encrypt, bytes) else encrypt
        return encrypt, signature(self.token, timestamp, nonce, encrypt)
