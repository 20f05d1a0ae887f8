# Sensitivity: every claim cell re-run under every shipped protocol on a smaller grid (`snakemake sensitivity`).


rule sensitivity_runs:
    input:
        get_run_records(cells=get_sensitivity_cells()),
    output:
        runs=f"{OUT}/sensitivity/runs.csv",
        summary=f"{OUT}/sensitivity/summary.csv",
    log:
        "logs/sensitivity/runs.log",
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    conda:
        ENV
    script:
        "../scripts/gather_runs.py"


rule sensitivity_weights:
    input:
        get_run_records("npz", ["perceptron"], E4_SCHEMES, get_sensitivity_cells()),
    output:
        distance=f"{OUT}/sensitivity/weights_distance.csv",
        hist=f"{OUT}/sensitivity/weights_hist.csv",
    params:
        run_keys=get_npz_keys("perceptron", E4_SCHEMES, get_sensitivity_cells()),
    log:
        "logs/sensitivity/weights.log",
    threads: 1
    resources:
        mem_mb=4000,
        runtime=20,
    conda:
        ENV
    script:
        "../scripts/weight_tables.py"


rule sensitivity_claims:
    input:
        unpack(get_sensitivity_claims_inputs),
    output:
        cells=f"{OUT}/tables/sensitivity.csv",
        verdicts=f"{OUT}/tables/sensitivity_verdicts.csv",
    params:
        protocols=SENSITIVITY["protocols"],
        grid=SENSITIVITY,
        claims=config["claims"],
    log:
        "logs/sensitivity/claims.log",
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        ENV
    script:
        "../scripts/sensitivity.py"


rule fig_sensitivity:
    input:
        f"{OUT}/tables/sensitivity.csv",
    output:
        png=report(f"{OUT}/figures/sensitivity.png", caption="../report/sensitivity.rst", category="Figures"),
        pdf=f"{OUT}/figures/sensitivity.pdf",
    params:
        plot="fig_sensitivity",
        protocol=None,
    log:
        "logs/figures/sensitivity.log",
    threads: 1
    resources:
        mem_mb=2000,
        runtime=5,
    conda:
        ENV
    script:
        "../scripts/plot.py"
