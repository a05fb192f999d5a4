"""Copy the browser tests' screenshots (test-output/) here, scaled down for the README:
`.venv/bin/python -m pytest tests/test_browser.py && .venv/bin/python docs/screens/shrink.py`."""
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parents[2]
# name: (width in the README, the top part kept in px of the screenshot, None: all of it)
SCREENS = {"board-tv.png": (960, None), "board-phone.png": (390, 1700), "order-phone.png": (390, 1500),
           "order-tv.png": (960, None), "digest-managers-wecom.png": (640, None),
           "digest-chart-wecom.png": (640, None), "digest-workshop-wecom.png": (640, None),
           "digest-managers-dingtalk.png": (640, None), "digest-chart-dingtalk.png": (640, None),
           "warning-wecom.png": (640, None)}


def main() -> None:
    for name, (width, top) in SCREENS.items():
        image = Image.open(ROOT / "test-output" / name).convert("RGB")
        if top is not None:
            image = image.crop((0, 0, image.width, min(top, image.height)))
        if image.width > width:
            image = image.resize((width, round(image.height * width / image.width)), Image.Resampling.LANCZOS)
        image.quantize(colors=128, method=Image.Quantize.MEDIANCUT).save(Path(__file__).with_name(name), optimize=True)


if __name__ == "__main__":
    main()
