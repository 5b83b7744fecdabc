# `cmake --build build --target main_job`: the README's main job. The baseline ensemble and the
# counterfactual in which Liaquat Ali Khan visits Moscow in 1950, with the same seed and runs; their
# paired comparison, printed and written as CSV; the figures of both and of the comparison; and the
# baseline beside the IR data sets (results/validation/ and the numbers of docs/validation.md). Then
# the same two over the baseline's posterior (each run with one of its parameter sets), their
# comparison with the Monte Carlo interval and the spread across parameter sets side by side, and
# the posterior's figures.
set(ALIGNSIM_MAIN_RUNS 10000 CACHE STRING "Runs of each ensemble in the main job")
set(ALIGNSIM_MAIN_SEED 1947 CACHE STRING "Seed of the main job")
set(ALIGNSIM_MAIN_BASELINE scenarios/baseline/calibrated.toml CACHE STRING "The baseline the main job runs")
# Over the posterior each parameter set takes about runs / 200 runs: enough that the spread of the
# sets' own means is mostly the parameters', not Monte Carlo noise (compare's "noise" column).
set(ALIGNSIM_MAIN_POSTERIOR_RUNS 100000 CACHE STRING "Runs of each posterior ensemble in the main job")
set(ALIGNSIM_MAIN_POSTERIOR scenarios/baseline/posterior.csv CACHE STRING "The posterior the main job's posterior ensembles draw from")
set(ALIGNSIM_MAIN_COUNTERFACTUAL scenarios/counterfactuals/liaquat_moscow_1950.toml CACHE STRING
    "The counterfactual the main job compares with the baseline")
find_program(ALIGNSIM_PYTHON NAMES python3 PATHS /usr/bin NO_DEFAULT_PATH REQUIRED)

set(runs_dir ${PROJECT_SOURCE_DIR}/results/runs)
set(figures_dir ${PROJECT_SOURCE_DIR}/results/figures)
set(compare_dir ${PROJECT_SOURCE_DIR}/results/compare)
get_filename_component(cf_name ${ALIGNSIM_MAIN_COUNTERFACTUAL} NAME_WE)
# The job refreshes its own results: --overwrite replaces them (never an input).
set(simulate $<TARGET_FILE:alignsim> ensemble --runs ${ALIGNSIM_MAIN_RUNS} --seed ${ALIGNSIM_MAIN_SEED} --store-runs 1000 --overwrite)
set(simulate_posterior $<TARGET_FILE:alignsim> ensemble --runs ${ALIGNSIM_MAIN_POSTERIOR_RUNS} --seed ${ALIGNSIM_MAIN_SEED}
    --store-runs 1000 --overwrite --posterior ${ALIGNSIM_MAIN_POSTERIOR})
add_custom_target(main_job
  COMMAND ${CMAKE_COMMAND} -E make_directory ${runs_dir} ${figures_dir} ${compare_dir}
  COMMAND ${simulate} ${ALIGNSIM_MAIN_BASELINE} --out ${runs_dir}/baseline.h5
  COMMAND ${simulate} ${ALIGNSIM_MAIN_COUNTERFACTUAL} --out ${runs_dir}/${cf_name}.h5
  COMMAND $<TARGET_FILE:alignsim> compare ${runs_dir}/baseline.h5 ${runs_dir}/${cf_name}.h5
          --csv ${compare_dir}/${cf_name}.csv --h5 ${runs_dir}/${cf_name}_compare.h5 --overwrite
  COMMAND ${ALIGNSIM_PYTHON} analysis/plot_ensemble.py ${runs_dir}/baseline.h5 --out ${figures_dir}/baseline
  COMMAND ${ALIGNSIM_PYTHON} analysis/plot_ensemble.py ${runs_dir}/${cf_name}.h5 --out ${figures_dir}/${cf_name}
  COMMAND ${ALIGNSIM_PYTHON} analysis/plot_compare.py ${runs_dir}/baseline.h5 ${runs_dir}/${cf_name}.h5
          --out ${figures_dir}/${cf_name}
  COMMAND ${ALIGNSIM_PYTHON} analysis/validate_ir.py ${runs_dir}/baseline.h5 --out results/validation --overwrite
          --doc docs/validation.md
  COMMAND ${simulate_posterior} ${ALIGNSIM_MAIN_BASELINE} --out ${runs_dir}/baseline_posterior.h5
  COMMAND ${simulate_posterior} ${ALIGNSIM_MAIN_COUNTERFACTUAL} --out ${runs_dir}/${cf_name}_posterior.h5
  COMMAND $<TARGET_FILE:alignsim> compare ${runs_dir}/baseline_posterior.h5 ${runs_dir}/${cf_name}_posterior.h5
          --csv ${compare_dir}/${cf_name}_posterior.csv --h5 ${runs_dir}/${cf_name}_posterior_compare.h5 --overwrite
  COMMAND ${ALIGNSIM_PYTHON} analysis/plot_posterior.py --posterior ${ALIGNSIM_MAIN_POSTERIOR}
          --compare ${runs_dir}/${cf_name}_posterior_compare.h5 --name ${cf_name} --out ${figures_dir}/posterior
  WORKING_DIRECTORY ${PROJECT_SOURCE_DIR}
  DEPENDS alignsim
  USES_TERMINAL
  COMMENT "Main job: the baseline, ${cf_name}, their comparison and figures")
