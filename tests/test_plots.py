"""spectral/plots.py: a figure saved twice is byte-identical, so regenerating a published figure shows no diff."""
import time

import matplotlib.pyplot as plt

from spectral.plots import _save


def test_the_same_figure_saves_to_the_same_bytes(tmp_path):
    """Saved a second apart (a PDF's creation date has one-second resolution), the PNGs and the PDFs are equal."""
    saved = []
    for k in range(2):
        fig, ax = plt.subplots()
        ax.plot([0, 1], [1, 0])
        png, pdf = tmp_path / f"f{k}.png", tmp_path / f"f{k}.pdf"
        _save(fig, png, pdf)
        saved.append((png.read_bytes(), pdf.read_bytes()))
        time.sleep(1.1)
    assert saved[0] == saved[1]
