# spectral-repro: the DAG that re-runs "Machine learning in spectral domain" (Giambagli et al., 2021).
from snakemake.utils import min_version

min_version("9.0")


configfile: "config/config.yaml"


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/tables.smk"
include: "workflow/rules/figures.smk"
include: "workflow/rules/sensitivity.smk"
include: "workflow/rules/tune.smk"


rule all:
    input:
        get_final_output(),


rule tables:
    input:
        get_tables(),


rule figures:
    input:
        get_figures(),


rule sensitivity:
    input:
        get_sensitivity_outputs(),


rule tune:
    input:
        expand(f"{OUT}/tune/{{protocol}}/{{file}}", protocol=config["tune"]["protocol"],
               file=["grid.csv", "lr.yaml", "curves.png", "curves.pdf"]),


rule tune_width:
    input:
        expand(f"{OUT}/tune/{{protocol}}/width/{{file}}", protocol=config["tune"]["protocol"],
               file=["grid.csv", "lr.yaml", "picks.png", "picks.pdf"]),
