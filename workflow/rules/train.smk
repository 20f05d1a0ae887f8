# Training cells: one job trains every seed of (protocol, dataset, experiment, scheme, N2), per-seed records. The
# wildcard `cell` is the cell's path (common.smk: cell_path). A rule's outputs are fixed by its wildcards, so each
# distinct seed list (one for a plain config, a few under a seed plan) has its own rule, constrained to its cells.

SEED_GROUPS = get_seed_groups()

for _seeds, _cells in SEED_GROUPS.items():

    rule:
        name:
            f"train_cell_{len(_seeds)}_seeds" if len(SEED_GROUPS) > 1 else "train_cell"
        input:
            lambda wildcards: f"resources/data/{parse_cell(wildcards.cell)[1]}/sources.json",
        output:
            records=[f"{OUT}/runs/{{cell}}/seed{k}.json" for k in _seeds],
            arrays=[f"{OUT}/runs/{{cell}}/seed{k}.npz" for k in _seeds],
        wildcard_constraints:
            cell="|".join(re.escape(c) for c in _cells),
        params:
            settings=get_train_settings,
            cell=lambda wildcards: parse_cell(wildcards.cell),
            seeds=list(_seeds),
            strategy=config["ensemble"]["strategy"],
        log:
            "logs/train/{cell}.log",
        benchmark:
            f"{OUT}/benchmarks/jobs/{{cell}}.tsv"
        threads: config["threads"]
        priority: get_train_priority  # widest first
        resources:
            mem_mb=get_train_mem,
            runtime=get_train_runtime,
        conda:
            ENV
        script:
            "../scripts/train_cell.py"
