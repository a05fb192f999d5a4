"""WeCom callback crypto: the public wechatpy vector, and the app and the twin agreeing."""
import base64

import pytest

from bot.twins import wecom_crypto as twin_crypto
from bot.wecom.crypto import CryptoError, WeComCrypto

# wechatpy tests/test_crypto.py, quoted in PLATFORMS.md
VECTOR = dict(token="123456", key="kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR", corp_id="wx49f0ab532d5d035a",
              signature="dd6b9c95b495b3f7e2901bfbc76c664930ffdb96", timestamp="1411443780", nonce="437374425",
              echostr="4ByGGj+sVCYcvGeQYhaKIk1o0pQRNbRjxybjTGblXrBaXlTXeOo1+bXFXDQQb1o6co6Yh9Bv41n7hOchLF6p+Q==",
              plain="5927782489442352469")


def test_app_crypto_passes_public_vector():
    v = VECTOR
    crypto = WeComCrypto(v["token"], v["key"], v["corp_id"])
    assert crypto.decrypt(v["signature"], v["timestamp"], v["nonce"], v["echostr"]) == v["plain"]


def test_twin_crypto_passes_public_vector():
    v = VECTOR
    assert twin_crypto.sign(v["token"], v["timestamp"], v["nonce"], v["echostr"]) == v["signature"]
    assert twin_crypto.decrypt(v["key"], v["echostr"], v["corp_id"]) == v["plain"]


def test_vector_with_one_changed_signature_character_is_refused():
    v = VECTOR
    crypto = WeComCrypto(v["token"], v["key"], v["corp_id"])
    with pytest.raises(CryptoError):
        crypto.decrypt(v["signature"][:-1] + "0", v["timestamp"], v["nonce"], v["echostr"])


@pytest.mark.parametrize("receive_id", ["", "ww0000000000demo"])
def test_app_and_twin_understand_each_other(receive_id):
    key = VECTOR["key"]
    app = WeComCrypto("tok", key, receive_id)
    text = '{"msgtype":"text","text":{"content":"报工 SO-1001 120"}}'
    encrypt = twin_crypto.encrypt(key, text, receive_id)
    sig = twin_crypto.sign("tok", "1700000000", "n1", encrypt)
    assert app.decrypt(sig, "1700000000", "n1", encrypt) == text
    back, back_sig = app.encrypt("回复", "1700000001", "n2")
    assert back_sig == twin_crypto.sign("tok", "1700000001", "n2", back)
    assert twin_crypto.decrypt(key, back, receive_id) == "回复"


def test_wrong_receive_id_is_refused():
    key = VECTOR["key"]
    encrypt = twin_crypto.encrypt(key, "hello", "someone-else")
    app = WeComCrypto("tok", key, "ww0000000000demo")
    with pytest.raises(CryptoError):
        app.decrypt(twin_crypto.sign("tok", "1", "n", encrypt), "1", "n", encrypt)


@pytest.mark.parametrize("mangle", [
    lambda e: e[:-8],                                            # truncated base64
    lambda e: base64.b64encode(base64.b64decode(e)[:-16]).decode(),  # one block short
    lambda e: base64.b64encode(base64.b64decode(e) + b"\0" * 16).decode(),  # padded with a block
    lambda e: base64.b64encode(base64.b64decode(e) + bytes(range(32))).decode(),  # two blocks added
    lambda e: "!!!not-base64!!!",
])
@pytest.mark.parametrize("attempt", range(20))  # random IVs: the padding check must hold for all
def test_damaged_ciphertext_is_refused(mangle, attempt):
    key = VECTOR["key"]
    encrypt = mangle(twin_crypto.encrypt(key, "hello world", ""))
    app = WeComCrypto("tok", key, "")
    with pytest.raises(CryptoError):
        app.decrypt(twin_crypto.sign("tok", "1", "n", encrypt), "1", "n", encrypt)
