# One rule per figure, reading tables only, so a plotting change never retrains anything.


rule fig1_operator:
    input:
        f"{OUT}/tables/operator.csv",
    output:
        png=report(f"{OUT}/figures/fig1_operator.png", caption="../report/fig1_operator.rst", category="Figures"),
        pdf=f"{OUT}/figures/fig1_operator.pdf",
    params:
        plot="fig1_operator",
        protocol=config["run_protocols"][0],
    log:
        "logs/figures/fig1_operator.log",
    threads: 1
    resources:
        mem_mb=2000,
        runtime=5,
    conda:
        ENV
    script:
        "../scripts/plot.py"


rule fig2_linear:
    input:
        f"{OUT}/tables/runs.csv",
    output:
        png=report(f"{OUT}/figures/fig2_linear.png", caption="../report/fig2_linear.rst", category="Figures"),
        pdf=f"{OUT}/figures/fig2_linear.pdf",
    params:
        plot="fig2_linear",
        protocol=config["run_protocols"][0],
    log:
        "logs/figures/fig2_linear.log",
    threads: 1
    resources:
        mem_mb=2000,
        runtime=5,
    conda:
        ENV
    script:
        "../scripts/plot.py"


rule fig3_nonlinear:
    input:
        f"{OUT}/tables/runs.csv",
    output:
        png=report(f"{OUT}/figures/fig3_nonlinear.png", caption="../report/fig3_nonlinear.rst", category="Figures"),
        pdf=f"{OUT}/figures/fig3_nonlinear.pdf",
    params:
        plot="fig3_nonlinear",
        protocol=config["run_protocols"][0],
    log:
        "logs/figures/fig3_nonlinear.log",
    threads: 1
    resources:
        mem_mb=2000,
        runtime=5,
    conda:
        ENV
    script:
        "../scripts/plot.py"


rule fig4_weights:
    input:
        f"{OUT}/tables/weights_hist.csv",
    output:
        png=report(f"{OUT}/figures/fig4_weights.png", caption="../report/fig4_weights.rst", category="Figures"),
        pdf=f"{OUT}/figures/fig4_weights.pdf",
    params:
        plot="fig4_weights",
        protocol=config["run_protocols"][0],
    log:
        "logs/figures/fig4_weights.log",
    threads: 1
    resources:
        mem_mb=2000,
        runtime=5,
    conda:
        ENV
    script:
        "../scripts/plot.py"


rule fig5_spectrum:
    input:
        f"{OUT}/tables/eigenvalues.csv",
        f"{OUT}/tables/pruning.csv",
    output:
        png=report(f"{OUT}/figures/fig5_spectrum.png", caption="../report/fig5_spectrum.rst", category="Figures"),
        pdf=f"{OUT}/figures/fig5_spectrum.pdf",
    params:
        plot="fig5_spectrum",
        protocol=None,  # the eigenvalue panels take the main protocol's rows, the pruning panel the C5 networks'
        options={"c5_protocol": PRUNING["protocol"]},
    log:
        "logs/figures/fig5_spectrum.log",
    threads: 1
    resources:
        mem_mb=2000,
        runtime=5,
    conda:
        ENV
    script:
        "../scripts/plot.py"


rule figures_readme:
    output:
        f"{OUT}/figures/README.md",
    log:
        "logs/figures/readme.log",
    threads: 1
    resources:
        mem_mb=500,
        runtime=2,
    conda:
        ENV
    script:
        "../scripts/figures_readme.py"


rule fig_specification_curve:
    input:
        claims=f"{OUT}/claims.csv",
        grid=[f"{OUT}/tables/sensitivity.csv"] if SENSITIVITY["enabled"] else [],
    output:
        effects=f"{OUT}/tables/specification_effects.csv",
        png=report(f"{OUT}/figures/specification_curve.png", caption="../report/specification_curve.rst",
                   category="Figures"),
        pdf=f"{OUT}/figures/specification_curve.pdf",
    params:
        connectivity=PRUNING["connectivity"],
    log:
        "logs/figures/specification_curve.log",
    threads: 1
    resources:
        mem_mb=2000,
        runtime=5,
    conda:
        ENV
    script:
        "../scripts/specification_curve.py"
