# Tidy tables from the run records, the claim verdicts and the provenance of the whole run.


rule gather_runs:
    input:
        get_run_records(),
    output:
        runs=f"{OUT}/tables/runs.csv",
        summary=f"{OUT}/tables/summary.csv",
    log:
        "logs/tables/gather_runs.log",
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    conda:
        ENV
    script:
        "../scripts/gather_runs.py"


rule weight_tables:
    input:
        get_run_records("npz", ["perceptron"], E4_SCHEMES, get_main_protocol_cells()),
    output:
        distance=f"{OUT}/tables/weights_distance.csv",
        hist=f"{OUT}/tables/weights_hist.csv",
    params:
        run_keys=get_npz_keys("perceptron", E4_SCHEMES, get_main_protocol_cells()),
    log:
        "logs/tables/weight_tables.log",
    threads: 1
    resources:
        mem_mb=4000,
        runtime=20,
    conda:
        ENV
    script:
        "../scripts/weight_tables.py"


rule eigenvalue_table:
    input:
        get_run_records("npz", ["perceptron"], SPECTRAL_SCHEMES, get_main_protocol_cells()),
    output:
        f"{OUT}/tables/eigenvalues.csv",
    params:
        run_keys=get_npz_keys("perceptron", SPECTRAL_SCHEMES, get_main_protocol_cells()),
    log:
        "logs/tables/eigenvalue_table.log",
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    conda:
        ENV
    script:
        "../scripts/eigenvalue_table.py"


rule pruning_table:
    input:
        arrays=get_run_records("npz", cells=get_pruning_sources()),
        data=get_test_data_inputs(),
    output:
        f"{OUT}/tables/pruning.csv",
    params:
        run_keys=get_npz_keys("nonlinear", SPECTRAL_SCHEMES + [PRUNING["scheme"], PRUNING["baseline_scheme"]],
                              get_pruning_sources()),
        fractions=PRUNING["fractions"],
        random_repeats=PRUNING["random_repeats"],
        activations={p: config["protocols"][p]["nonlinear_activation"] for p in ALL_PROTOCOLS},
        test_subset=config["data"]["test_subset"],
        data_dir=config["data"]["dir"],
    log:
        "logs/tables/pruning_table.log",
    threads: config["threads"]
    resources:
        mem_mb=8000,  # the hidden activations of the test split at N2 = 2000 (10000 x 2000 floats) and copies
        runtime=60,
    conda:
        ENV
    script:
        "../scripts/pruning_table.py"


rule operator_table:
    output:
        f"{OUT}/tables/operator.csv",
    params:
        sizes=[4, 3],  # a tiny layer whose operator fits a readable heatmap
        seed=config["seeds"][0],
    log:
        "logs/tables/operator_table.log",
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        ENV
    script:
        "../scripts/operator_table.py"


rule claims:
    input:
        unpack(get_claims_inputs),
    output:
        csv=report(f"{OUT}/claims.csv", caption="../report/claims.rst", category="Claims"),
        md=f"{OUT}/claims.md",
        verdicts=report(f"{OUT}/claim_verdicts.csv", caption="../report/claim_verdicts.rst", category="Claims"),
    params:
        protocols=get_claim_protocols(),
        claims=config["claims"],
        pruning=PRUNING,
        grid=SENSITIVITY if SENSITIVITY["enabled"] else None,  # the protocols' shared cells (verdicts per choice)
    log:
        "logs/claims.log",
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        ENV
    script:
        "../scripts/claims.py"


rule verdict_table:
    input:
        verdicts=f"{OUT}/claim_verdicts.csv",
        claims=f"{OUT}/claims.csv",
        grid=[f"{OUT}/tables/sensitivity_verdicts.csv"] if SENSITIVITY["enabled"] else [],
    output:  # headline.LANDING_FILES
        answer=f"{OUT}/report/answer.csv",  # the papers' claims in one line each: the answer first
        paper=f"{OUT}/report/verdicts.csv",  # the papers' claims in detail
        ours=f"{OUT}/report/readings.csv",  # our readings, controls and secondary tests
    params:
        protocol=config["run_protocols"][0],
        datasets=config["datasets"],
        equivalence_margin=config["claims"]["equivalence_margin"],
        connectivity=PRUNING["connectivity"],
    log:
        "logs/verdict_table.log",
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        ENV
    script:
        "../scripts/verdict_table.py"


rule provenance:
    input:
        records=get_run_records(),
        sources=get_test_data_inputs(),
    output:
        f"{OUT}/provenance.json",
    params:
        config=config,
    log:
        "logs/provenance.log",
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        ENV
    script:
        "../scripts/provenance.py"
