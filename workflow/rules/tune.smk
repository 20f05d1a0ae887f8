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
