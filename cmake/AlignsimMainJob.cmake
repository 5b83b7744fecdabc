# `cmake --build build --target main_job`: the ensembles and figures the README promises.
set(ALIGNSIM_MAIN_RUNS 10000 CACHE STRING "Runs of each ensemble in the main job")
set(ALIGNSIM_MAIN_SEED 1947 CACHE STRING "Seed of the main job")
find_program(ALIGNSIM_PYTHON NAMES python3 PATHS /usr/bin NO_DEFAULT_PATH REQUIRED)
set(runs_dir ${PROJECT_SOURCE_DIR}/results/runs)
set(figures_dir ${PROJECT_SOURCE_DIR}/results/figures)
add_custom_target(main_job
  COMMAND ${CMAKE_COMMAND} -E make_directory ${runs_dir} ${figures_dir}
  COMMAND $<TARGET_FILE:alignsim> ensemble scenarios/baseline/scenario.toml --runs ${ALIGNSIM_MAIN_RUNS}
          --seed ${ALIGNSIM_MAIN_SEED} --out ${runs_dir}/baseline.h5
  COMMAND ${ALIGNSIM_PYTHON} analysis/plot_ensemble.py ${runs_dir}/baseline.h5 --out ${figures_dir}/baseline
  WORKING_DIRECTORY ${PROJECT_SOURCE_DIR}
  DEPENDS alignsim
  USES_TERMINAL
  COMMENT "Main job: the baseline ensemble and its figures")
