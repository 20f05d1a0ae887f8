# Opt-in learning-rate tuning on a validation split (never the test split): `snakemake tune --cores N`.


rule tune:
    input:
        expand("resources/data/{dataset}/sources.json", dataset=config["tune"]["dataset"]),
    output:
        grid="results/tune/grid.csv",
        lrs="results/tune/lr.yaml",
    params:
        dataset=config["tune"]["dataset"],
        schemes=config["schemes"],
        training=config["training"],
        lrs=config["tune"]["lrs"],
        epochs=config["tune"]["epochs"],
        validation_fraction=config["tune"]["validation_fraction"],
        hidden=config["tune"]["hidden"],
        seed=config["seeds"][0],
        device=config["device"],
    log:
        "logs/tune.log",
    threads: config["threads"]
    resources:
        mem_mb=4000,
        runtime=120,
    conda:
        ENV
    script:
        "../scripts/tune.py"
