"""WeCom callback crypto: signature check in constant time, AES through wechatpy's WeChatCrypto.

The same scheme serves the self-built app (receive id = CorpID) and the AI bot (receive id "").
"""
from __future__ import annotations

import binascii
import hashlib
import hmac
import struct

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
        try:
            return self._crypto.decrypt_message({"Encrypt": encrypt}, msg_signature, timestamp, nonce)
        except (InvalidSignatureException, InvalidCorpIdException) as exc:
            raise CryptoError(type(exc).__name__) from exc
        except (binascii.Error, ValueError, UnicodeDecodeError, struct.error, IndexError, TypeError) as exc:
            raise CryptoError(f"cannot decrypt: {type(exc).__name__}") from exc

    def encrypt(self, plaintext: str, timestamp: str, nonce: str) -> tuple[str, str]:
        """(encrypt, msg_signature) for a passive reply."""
        encrypt = PrpCrypto(self._crypto.key).encrypt(plaintext, self.receive_id)
        encrypt = encrypt.decode() if isinstance(encrypt, bytes) else encrypt
        return encrypt, signature(self.token, timestamp, nonce, encrypt)
