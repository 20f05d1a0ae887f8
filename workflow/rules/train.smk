# Training cells: one job trains every seed of (protocol, dataset, experiment, scheme, N2), per-seed records.


rule train_cell:
    input:
        "resources/data/{dataset}/sources.json",
    output:
        records=get_cell_records("json"),
        arrays=get_cell_records("npz"),
    params:
        settings=get_train_settings,
        seeds=config["seeds"],
        strategy=config["ensemble"]["strategy"],
    log:
        "logs/train/{protocol}/{dataset}/{experiment}/{scheme}/n{n2}.log",
    benchmark:
        f"{OUT}/benchmarks/jobs/{{protocol}}/{{dataset}}/{{experiment}}/{{scheme}}/n{{n2}}.tsv"
    threads: config["threads"]
    resources:
        mem_mb=get_train_mem,
        runtime=get_train_runtime,
    conda:
        ENV
    script:
        "../scripts/train_cell.py"
