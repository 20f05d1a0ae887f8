"""Learning-rate choice per scheme on a held-out validation split (never the test split).

For each scheme and learning rate in the grid: train the perceptron (identity) and one ReLU network with
`hidden` nodes for `epochs` epochs on (1 - validation_fraction) of the training split; the chosen rate
maximises the mean of the two final validation accuracies. The output overlay keeps every other setting.
"""
from __future__ import annotations

import pandas as pd

from . import data as data_mod
from .ensemble import train_cell
from .train import TrainConfig


def tune_learning_rates(dataset, schemes, training, lrs, epochs, validation_fraction, hidden, seed, device="auto"):
    """(grid DataFrame, {'training': {scheme: {..., 'lr': best}}})."""
    n_in, n_out = data_mod.NUM_FEATURES[dataset], data_mod.NUM_CLASSES[dataset]
    rows = []
    for scheme in schemes:
        hp = training[scheme]
        for sizes, activation in (([n_in, n_out], "identity"), ([n_in, hidden, n_out], "relu")):
            for lr in lrs:
                cfg = TrainConfig(dataset=dataset, sizes=sizes, scheme=scheme, activation=activation, epochs=epochs,
                                  batch_size=hp["batch_size"], optimizer=hp["optimizer"], lr=lr,
                                  validation_fraction=validation_fraction, device=device)
                record = train_cell(cfg, [seed], quiet=True)[0][0]
                rows.append({"scheme": scheme, "sizes": "-".join(map(str, sizes)), "lr": lr,
                             "val_accuracy": record["final_val_accuracy"]})
    grid = pd.DataFrame(rows)
    best = grid.groupby(["scheme", "lr"])["val_accuracy"].mean().reset_index()
    best = best.loc[best.groupby("scheme")["val_accuracy"].idxmax()]
    overlay = {"training": {r.scheme: {**training[r.scheme], "lr": float(r.lr)} for r in best.itertuples()}}
    return grid, overlay
