"""Files the AI bot receives (image, file, video): a URL valid five minutes and a per-file
`aeskey`; the content is AES-256-CBC with that key (base64, as EncodingAESKey), the IV its
first 16 bytes, PKCS#7 padding to 32, as WeCom's message encryption (path/100719)."""
from __future__ import annotations

import base64
import binascii

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from bot.downloads import read_capped


def media_key(aeskey: str) -> bytes:
    key = base64.b64decode(aeskey + "=" * (-len(aeskey) % 4))
    if len(key) != 32:
        raise ValueError("aeskey is not 32 bytes")
    return key


def decrypt(data: bytes, aeskey: str) -> bytes:
    """The file's bytes; ValueError when they are not what the key encrypted."""
    try:
        key = media_key(aeskey)
    except binascii.Error as exc:
        raise ValueError("aeskey is not base64") from exc
    if not data or len(data) % 16:
        raise ValueError("ciphertext length is not a multiple of 16")
    plain = Cipher(algorithms.AES(key), modes.CBC(key[:16])).decryptor()
    out = plain.update(data) + plain.finalize()
    pad = out[-1]
    if not 1 <= pad <= 32 or out[-pad:] != bytes([pad]) * pad:
        raise ValueError("bad padding")
    return out[:-pad]


def download(url: str, aeskey: str, max_bytes: int) -> bytes:
    """Fetch and decrypt; never more than `max_bytes` (+ padding) is read."""
    return decrypt(read_capped(url, max_bytes + 32), aeskey)
