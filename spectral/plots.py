"""Figures of the suite, drawn with seaborn from the tidy tables only (never from run files).

Implementation choices: headless Agg backend; one fixed colour and order per scheme across figures; every
figure saved as PNG (150 dpi) and PDF; CI bands are seaborn's 95 % bootstrap intervals over seeds.
"""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402

from .analysis import ORDERS  # noqa: E402
from .models import SCHEMES  # noqa: E402

PALETTE = dict(zip(SCHEMES, sns.color_palette("colorblind", len(SCHEMES))))
ACC = "test accuracy (%)"


def _save(fig, png, pdf) -> None:
    """PNG and PDF, byte-identical for the same figure (no creation date: a regenerated figure shows no git diff)."""
    fig.savefig(png, dpi=150, bbox_inches="tight")
    fig.savefig(pdf, bbox_inches="tight", metadata={"CreationDate": None})
    plt.close(fig)


def _log_n2_axis(ax, n2s) -> None:
    """Log-scaled N2 axis with a tick at every N2 of the sweep, labelled in plain numbers."""
    ax.set_xscale("log")
    ax.set_xticks(sorted(set(n2s)))
    ax.set_xticklabels([str(n) for n in sorted(set(n2s))])
    ax.minorticks_off()


def _order(df, column="scheme"):
    return [s for s in SCHEMES if s in set(df[column])]


def fig1_operator(op: pd.DataFrame, png, pdf) -> None:
    """Heatmaps of Phi, Lambda, Phi^-1 and A = Phi Lambda Phi^-1; the lower-left block of A is the layer's W."""
    names = ["Phi", "Lambda", "Phi^-1", "A"]
    titles = [r"$\Phi = I + \phi$", r"$\Lambda$", r"$\Phi^{-1} = 2I - \Phi$", r"$A = \Phi\Lambda\Phi^{-1}$"]
    fig, axes = plt.subplots(1, 4, figsize=(15, 4.2), layout="constrained")
    vmax = op["value"].abs().max()
    n_in = int(op["n_in"].iloc[0])
    for ax, name, title in zip(axes, names, titles):
        m = op[op["matrix"] == name].pivot(index="row", columns="col", values="value")
        sns.heatmap(m, ax=ax, cmap="vlag", center=0, vmin=-vmax, vmax=vmax, annot=True, fmt=".2f", cbar=False,
                    square=True, annot_kws={"size": 7})
        ax.axhline(n_in, color="k", lw=1.5)
        ax.axvline(n_in, color="k", lw=1.5)
        ax.set(title=title, xlabel="node (inputs | outputs)", ylabel="node (inputs | outputs)")
    fig.suptitle(f"Transfer operator of one {n_in}->{op['row'].max() + 1 - n_in} layer: the lower-left block of A is W")
    _save(fig, png, pdf)


def fig2_linear(runs: pd.DataFrame, png, pdf) -> None:
    """perceptron accuracy per scheme (seeds and mean with 95 % CI) and telescopic accuracy against N2, one row per dataset."""
    runs = runs.assign(**{ACC: 100 * runs["final_test_accuracy"]})
    datasets = sorted(runs["dataset"].unique())
    fig, axes = plt.subplots(len(datasets), 2, figsize=(13, 4.5 * len(datasets)), squeeze=False,
                             layout="constrained")
    for row, dataset in zip(axes, datasets):
        e1 = runs[(runs["dataset"] == dataset) & (runs["experiment"] == "perceptron")]
        e2 = runs[(runs["dataset"] == dataset) & (runs["experiment"] == "telescopic")]
        if len(e1):
            order = _order(e1)
            sns.stripplot(e1, x="scheme", y=ACC, hue="scheme", order=order, palette=PALETTE, ax=row[0], alpha=0.6)
            sns.pointplot(e1, x="scheme", y=ACC, order=order, color="k", errorbar=("ci", 95), linestyle="none",
                          marker="_", markersize=20, ax=row[0])
            row[0].tick_params(axis="x", rotation=20)
        row[0].set(title=f"{dataset}: perceptron 784->10 (seeds; mean, 95 % CI)", xlabel="")
        if len(e2):
            sns.lineplot(e2, x="n2", y=ACC, hue="scheme", hue_order=_order(e2), palette=PALETTE, marker="o",
                         errorbar=("ci", 95), ax=row[1])
            _log_n2_axis(row[1], e2["n2"])
        row[1].set(title=f"{dataset}: telescopic linear 784->N2->10", xlabel="hidden nodes N2 (log scale)")
    _save(fig, png, pdf)


def fig3_nonlinear(runs: pd.DataFrame, png, pdf) -> None:
    """nonlinear accuracy against N2, every scheme, one panel per dataset."""
    e3 = runs[runs["experiment"] == "nonlinear"].assign(**{ACC: 100 * runs["final_test_accuracy"]})
    datasets = sorted(e3["dataset"].unique())
    fig, axes = plt.subplots(1, len(datasets), figsize=(6.5 * len(datasets), 4.5), squeeze=False,
                             layout="constrained")
    for ax, dataset in zip(axes[0], datasets):
        d = e3[e3["dataset"] == dataset]
        sns.lineplot(d, x="n2", y=ACC, hue="scheme", hue_order=_order(d), palette=PALETTE, marker="o",
                     errorbar=("ci", 95), ax=ax)
        _log_n2_axis(ax, d["n2"])
        ax.set(title=f"{dataset}: nonlinear 784->N2->10, {d['activation'].iloc[0]}", xlabel="hidden nodes N2 (log scale)")
    _save(fig, png, pdf)


def fig4_weights(hist: pd.DataFrame, png, pdf) -> None:
    """Densities of trained perceptron weights per scheme, pooled over seeds, one panel per dataset."""
    datasets = sorted(hist["dataset"].unique())
    fig, axes = plt.subplots(1, len(datasets), figsize=(6.5 * len(datasets), 4.5), squeeze=False,
                             layout="constrained")
    for ax, dataset in zip(axes[0], datasets):
        d = hist[hist["dataset"] == dataset]
        sns.lineplot(d, x="weight", y="density", hue="scheme", hue_order=_order(d), palette=PALETTE, ax=ax)
        ax.set_yscale("log")
        ax.set(title=f"{dataset}: trained weights of 784->10", xlabel="weight w_ij (dimensionless)",
               ylabel="density (log scale)")
    _save(fig, png, pdf)


_CB = sns.color_palette("colorblind", 10)
ORDER_COLOURS = dict(zip(ORDERS, [_CB[0], _CB[3], _CB[2], _CB[4], _CB[7]]))  # one colour per pruning order, apart


def fig5_spectrum(eig: pd.DataFrame, prune: pd.DataFrame, png, pdf, *, c5_protocol: str) -> None:
    """Eigenvalues before/after training, |lambda_in| as an image, and the C5 networks' pruning curves (the widest
    N2; one colour per order: eigenvalue = |lambda|, l1, abs-sum, l2, random; one line style per network), one row
    per dataset."""
    datasets = sorted(set(eig["dataset"]) | set(prune["dataset"]))
    fig, axes = plt.subplots(len(datasets), 3, figsize=(17, 4.8 * len(datasets)), squeeze=False,
                             layout="constrained")
    for row, dataset in zip(axes, datasets):
        ev = eig[(eig["dataset"] == dataset) & (eig["scheme"] == "spectral-eigvals")]
        long = ev.melt(id_vars=["side", "node", "seed"], value_vars=["initial", "trained"], var_name="state",
                       value_name="eigenvalue")
        sns.histplot(long, x="eigenvalue", hue="state", element="step", stat="density", common_norm=False, ax=row[0])
        row[0].set(title=f"{dataset}: eigenvalues of spectral-eigvals 784->10", xlabel="eigenvalue lambda")
        side_in = ev[ev["side"] == "in"]
        if len(side_in) and side_in["node"].max() + 1 == 784:
            image = side_in.groupby("node")["trained"].apply(lambda v: np.abs(v).mean()).to_numpy().reshape(28, 28)
            sns.heatmap(image, ax=row[1], cmap="magma", square=True, xticklabels=False, yticklabels=False,
                        cbar_kws={"label": "mean |lambda_in| over seeds"})
        row[1].set(title=f"{dataset}: |lambda_in| of the 784 input pixels")
        pr = prune[(prune["dataset"] == dataset) & (prune["protocol"] == c5_protocol)]
        if len(pr):
            pr = pr[pr["n2"] == pr["n2"].max()]  # the widest C5 networks
            pr = pr.assign(**{ACC: 100 * pr["test_accuracy"], "network": pr["scheme"]})
            orders = [o for o in ORDERS if o in set(pr["order"])]
            sns.lineplot(pr, x="fraction_removed", y=ACC, hue="order", hue_order=orders, style="network",
                         style_order=_order(pr), marker="o", palette=ORDER_COLOURS, errorbar=("ci", 95), ax=row[2])
            row[2].set(title=f"{dataset}: C5 networks ({c5_protocol}, N2 = {pr['n2'].max()}) pruned in each order",
                       xlabel="share of hidden nodes removed")
            row[2].legend(fontsize=8, loc="lower left")
    _save(fig, png, pdf)


VERDICT_COLOURS = {"holds": "#1b9e77", "holds in part": "#7570b3", "at the threshold": "#e6ab02",
                   "superior": "#66a61e", "inconclusive": "#999999", "does not hold": "#d95f02"}


def _sensitivity_panel(row) -> str:
    """Panel of a sensitivity cell: its claim, with C4's trend, closing and gap apart (different statistics)."""
    if row["claim"].startswith("C4"):
        return f"{row['claim']} {row['statistic'].rsplit(',', 1)[-1].strip()}"
    return row["claim"]


def fig_sensitivity(cells: pd.DataFrame, png, pdf) -> None:
    """Claim x cell x protocol: each cell's effect with its primary 95 % CI, coloured by verdict, one panel per claim.

    C2 is drawn at its 1 pp margin only (the other margins move the threshold, not the effects); TOST, C5 (one
    protocol) and C6 (itself a comparison of protocols) are left out.
    """
    keep = ~cells["claim"].str.startswith(("C2", "C5", "C6")) | (cells["claim"] == "C2@1pp")
    cells = cells[keep].copy()
    cells["panel"] = cells.apply(_sensitivity_panel, axis=1)
    kind = cells["statistic"].str.extract(r"^(W1|KS)", expand=False).fillna("") + " " + \
        cells["statistic"].str.extract(r"(raw|standardised)", expand=False).fillna("")
    where = cells["n2"].map(lambda n: {0: "", -1: " (all N2)"}.get(n, f" N2={n}"))
    cells["label"] = (cells["dataset"] + " " + cells["experiment"] + where + " " + kind).str.strip()
    panels = list(dict.fromkeys(cells["panel"]))
    protocols = list(dict.fromkeys(cells["protocol"]))
    sizes = [cells.loc[cells["panel"] == p, "label"].nunique() for p in panels]
    ncols = 2  # two columns of panels: the figure fits a screen's height at half the length
    rows = [panels[i::ncols] for i in range(ncols)]  # column-major: each column's panels top to bottom
    heights = [sum(sizes[panels.index(p)] for p in col) for col in rows]
    fig = plt.figure(figsize=(15, 1.0 + 0.16 * len(protocols) * max(heights) + 0.9 * max(len(c) for c in rows)),
                     layout="constrained")
    columns = fig.subfigures(1, ncols)
    markers = dict(zip(protocols, "osD^vP"))
    for sub, col in zip(columns, rows):
        if not col:
            continue
        axes = sub.subplots(len(col), 1, squeeze=False, height_ratios=[max(sizes[panels.index(p)], 1) for p in col])
        for ax, panel in zip(axes[:, 0], col):
            g = cells[cells["panel"] == panel]
            rank = "trend" in panel or "closing" in panel  # C4's per-seed Spearman rho
            accuracy = not (panel.startswith("C3") or rank)  # in pp; C3's are distance differences
            scale = 100.0 if accuracy else 1.0
            labels = list(dict.fromkeys(g["label"]))
            for k, protocol in enumerate(protocols):
                offset = (k - (len(protocols) - 1) / 2) * 0.25
                for r in g[g["protocol"] == protocol].itertuples():
                    err = [[scale * (r.value - r.ci95_low)], [scale * (r.ci95_high - r.value)]] if r.n >= 2 else None
                    ax.errorbar(scale * r.value, labels.index(r.label) + offset, xerr=err, fmt=markers[protocol],
                                color=VERDICT_COLOURS[r.verdict], ms=5, capsize=2)
            ax.axvline(scale * g["threshold"].iloc[0], ls="--", color="black", lw=0.8)
            ax.set_yticks(range(len(labels)), labels, fontsize=7)
            ax.invert_yaxis()
            ax.set_xlabel("effect (pp of test accuracy)" if accuracy else "Spearman rho per seed" if rank else
                          "effect (distance difference)", fontsize=8)
            ax.set_title(f"{panel}: effect with its 95 % CI (dashed: threshold)", fontsize=9)
    handles = [plt.Line2D([], [], marker="o", ls="", color=c, label=v) for v, c in VERDICT_COLOURS.items()]
    handles += [plt.Line2D([], [], marker=m, ls="", color="black", label=p) for p, m in markers.items()]
    fig.legend(handles=handles, loc="outside upper center", ncols=5, title="verdict (Holm) and protocol", fontsize=8)
    _save(fig, png, pdf)


FIGURE_MAP = [
    ("fig1_operator", "our drawing of the abstract's operator (NC21's Fig. 1 could not be read)", "method: W = lower-left block of Phi Lambda Phi^-1"),
    ("fig2_linear", "our reading: linear perceptron and telescopic networks (NC21's Figs 2-3 could not be read)", "C1 (perceptron, telescopic), C2 (perceptron), C4"),
    ("fig3_nonlinear", "our reading: nonlinear 784-N2-10 networks (NC21's Figs 2-3 could not be read)", "C1 and C2 (nonlinear)"),
    ("fig4_weights", "NC21 Fig. 4 (distributions of trained perceptron weights; its caption was read)", "C3"),
    ("fig5_spectrum", "Follow-up spectral-pruning paper (Sci. Rep. 2022): eigenvalue portrait, node ranking",
     "C5 (pruning-2022 networks); the main protocol's curves are exploratory"),
    ("sensitivity", "Every claim cell's effect under each protocol of the sensitivity grid", "C1-C4 under paper, "
     "authors-2020 and per-layer"),
    ("specification_curve", "Specification curve: each choice's mean effect beyond the threshold, sorted",
     "C1, C2@1pp, C5 under every value of every choice varied"),
]


def figures_readme() -> str:
    lines = ["# Figures", "", "Each figure is a PNG and a PDF drawn from `../tables/` (see `workflow/report/` for "
             "captions). The claim verdicts are in `../claims.md`.", "",
             "| file | paper | claims |", "|---|---|---|"]
    lines += [f"| `{name}.png` / `.pdf` | {paper} | {claims} |" for name, paper, claims in FIGURE_MAP]
    return "\n".join(lines) + "\n"


def fig_tuning(grid: pd.DataFrame, png, pdf) -> None:
    """Validation accuracy against learning rate per scheme; one panel per (dataset, family); chosen rates circled."""
    panels = list(grid.groupby(["dataset", "family"], sort=True))
    fig, axes = plt.subplots(1, len(panels), figsize=(5 * len(panels), 4), squeeze=False, layout="constrained")
    for ax, ((dataset, family), g) in zip(axes[0], panels):
        g = g.assign(**{"validation accuracy (%)": 100 * g["val_accuracy"]})
        sns.lineplot(g, x="lr", y="validation accuracy (%)", hue="scheme", hue_order=_order(g), palette=PALETTE,
                     marker="o", ax=ax)
        chosen = g[g["chosen"]]
        ax.scatter(chosen["lr"], chosen["validation accuracy (%)"], s=140, facecolors="none", edgecolors="black")
        ax.set_xscale("log")
        ax.set(title=f"{dataset}, {family}", xlabel="learning rate")
    _save(fig, png, pdf)


def fig_width_picks(grid: pd.DataFrame, png, pdf) -> None:
    """The per-width picks: best learning rate against N2 per scheme, one panel per (dataset, family); a hollow
    marker is a pick at the edge of its grid, the dashed line each scheme's N2 = tune.n2 starting rate."""
    picks = grid[grid["chosen"].astype(str) == "True"]
    panels = list(picks.groupby(["dataset", "family"], sort=True))
    fig, axes = plt.subplots(1, len(panels), figsize=(5 * len(panels), 4), squeeze=False, layout="constrained",
                             sharey=True)
    for ax, ((dataset, family), g) in zip(axes[0], panels):
        for scheme in _order(g):
            s = g[g["scheme"] == scheme].sort_values("n2")
            ax.plot(s["n2"], s["lr"], marker="o", color=PALETTE[scheme], label=scheme)
            edge = s[s["status"] == "edge"]
            ax.scatter(edge["n2"], edge["lr"], s=140, facecolors="none", edgecolors="black")
            ax.axhline(s["start_lr"].iloc[0], color=PALETTE[scheme], ls="--", lw=0.8)
        _log_n2_axis(ax, g["n2"])
        ax.set_yscale("log")
        ax.set(title=f"{dataset}, {family}", xlabel="N2", ylabel="best learning rate")
    axes[0][-1].legend(fontsize=8)
    _save(fig, png, pdf)


def fig_specification_curve(effects: pd.DataFrame, png, pdf) -> None:
    """A specification curve (Simonsohn, Simmons & Nelson 2020) per headline claim: each specification's mean effect
    beyond the claim's threshold (pp, 95 % interval), sorted; under it, the choice value that made it (filled: the
    headline's value). Every other choice is at the headline's value."""
    from .choices import CURVE_CLAIMS
    from .claims import DATASET_NAMES
    claims = [c for c in CURVE_CLAIMS if c in set(effects["claim"])]
    if not claims:  # a config without these claims' cells (a smoke run): say so on the figure
        fig, ax = plt.subplots(figsize=(5, 1.5))
        ax.axis("off")
        ax.text(0.5, 0.5, f"no cells of {', '.join(CURVE_CLAIMS[:-1])} or {CURVE_CLAIMS[-1]} with a test", ha="center",
                va="center")
        return _save(fig, png, pdf)
    rows_of = {}
    for claim in claims:
        c = effects[effects["claim"] == claim][["choice", "value", "reference"]].drop_duplicates()
        c = c.sort_values(["choice", "reference", "value"], ascending=[True, False, True])
        rows_of[claim] = [f"{r.choice} = {r.value}" for r in c.itertuples()]
    most = max(len(v) for v in rows_of.values())
    fig, axes = plt.subplots(2, len(claims), figsize=(5.2 * len(claims), 3.4 + 0.3 * most), squeeze=False,
                             gridspec_kw={"height_ratios": [3, 0.3 * most + 0.2]}, sharex="col")
    colours = dict(zip(["mnist", "fashion-mnist", "cifar10"], sns.color_palette("colorblind", 3)))
    for j, claim in enumerate(claims):
        g = effects[effects["claim"] == claim].sort_values("effect").reset_index(drop=True)
        top, bottom, labels = axes[0, j], axes[1, j], rows_of[claim]
        for i, r in g.iterrows():
            top.errorbar(i, 100 * r.effect, yerr=[[100 * (r.effect - r.low)], [100 * (r.high - r.effect)]], fmt="o",
                         color=colours.get(r.dataset, "k"), capsize=2, label=DATASET_NAMES.get(r.dataset, r.dataset))
            bottom.plot(i, labels.index(f"{r.choice} = {r.value}"), "o", color="k", mfc="k" if r.reference else "w")
        top.axhline(0, color="grey", lw=0.8, ls="--")
        top.set_title(f"{claim}: mean effect beyond its threshold")
        top.set_ylabel("effect - threshold (pp)")
        handles, names = top.get_legend_handles_labels()
        seen = dict(sorted(zip(names, handles), key=lambda kv: kv[0] != "MNIST"))
        top.legend(seen.values(), seen.keys(), fontsize=8, loc="best")
        bottom.set_yticks(range(len(labels)))
        bottom.set_yticklabels(labels, fontsize=8)
        bottom.set_ylim(most - 0.5, -0.5)
        bottom.set_xticks(range(len(g)))
        bottom.set_xticklabels([])
        bottom.set_xlabel("specifications, sorted by effect (filled: the headline's value)")
        bottom.grid(axis="y", lw=0.3)
    fig.tight_layout()
    _save(fig, png, pdf)
