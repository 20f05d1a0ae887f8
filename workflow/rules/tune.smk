# Opt-in learning-rate tuning on a validation split (never the test split): `snakemake tune --cores N`.


rule tune_protocol:
    input:
        get_test_data_inputs(config["tune"]["datasets"]),
    output:
        grid=f"{OUT}/tune/{{protocol}}/grid.csv",
        lrs=f"{OUT}/tune/{{protocol}}/lr.yaml",
    params:
        protocol=lambda wildcards: config["protocols"][wildcards.protocol],
        schemes=config["schemes"],
        settings={k: v for k, v in config["tune"].items() if k != "protocol"},
        data=config["data"],
        device=config["device"],
    log:
        "logs/tune/{protocol}.log",
    benchmark:
        f"{OUT}/benchmarks/tune/{{protocol}}.tsv"
    threads: config["threads"]
    resources:
        mem_mb=4000,
        runtime=600,
    conda:
        ENV
    script:
        "../scripts/tune.py"


rule tune_curves:
    input:
        f"{OUT}/tune/{{protocol}}/grid.csv",
    output:
        png=report(f"{OUT}/tune/{{protocol}}/curves.png", caption="../report/tune.rst", category="Tuning"),
        pdf=f"{OUT}/tune/{{protocol}}/curves.pdf",
    params:
        plot="fig_tuning",
        protocol=None,
    log:
        "logs/tune/{protocol}_curves.log",
    threads: 1
    resources:
        mem_mb=2000,
        runtime=5,
    conda:
        ENV
    script:
        "../scripts/plot.py"


# The per-width search (`snakemake tune_width`): one job per scheme x family x dataset x N2, starting from the
# protocol's N2 = tune.n2 pick; the widest cells first (they cost most and are where the verdicts fail).
for _n2 in TUNE_WIDTH["n2"]:

    rule:
        name:
            f"tune_width_n{_n2}"
        input:
            lambda wildcards: f"resources/data/{wildcards.dataset}/sources.json",
        output:
            f"{OUT}/tune/{{protocol}}/width/{{dataset}}/{{family}}/{{scheme}}/n{_n2}.csv",
        params:
            protocol=lambda wildcards: config["protocols"][wildcards.protocol],
            n2=_n2,
            settings=get_tune_width_settings(),
            data=config["data"],
            device=config["device"],
        log:
            f"logs/tune/{{protocol}}/width/{{dataset}}/{{family}}/{{scheme}}/n{_n2}.log",
        benchmark:
            f"{OUT}/benchmarks/tune/{{protocol}}/width/{{dataset}}/{{family}}/{{scheme}}/n{_n2}.tsv"
        priority: _n2
        threads: config["threads"]
        resources:
            mem_mb=4000,
            runtime=120,
        conda:
            ENV
        script:
            "../scripts/tune_width.py"


rule tune_width_grid:
    input:
        get_tune_width_points,
    output:
        grid=f"{OUT}/tune/{{protocol}}/width/grid.csv",
        lrs=f"{OUT}/tune/{{protocol}}/width/lr.yaml",
        table=f"{OUT}/tune/{{protocol}}/width/picks.md",
    log:
        "logs/tune/{protocol}/width/grid.log",
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        ENV
    script:
        "../scripts/tune_width_grid.py"


rule tune_width_picks:
    input:
        f"{OUT}/tune/{{protocol}}/width/grid.csv",
    output:
        png=report(f"{OUT}/tune/{{protocol}}/width/picks.png", caption="../report/tune_width.rst", category="Tuning"),
        pdf=f"{OUT}/tune/{{protocol}}/width/picks.pdf",
    params:
        plot="fig_width_picks",
        protocol=None,
    log:
        "logs/tune/{protocol}/width/picks.log",
    threads: 1
    resources:
        mem_mb=2000,
        runtime=5,
    conda:
        ENV
    script:
        "../scripts/plot.py"
