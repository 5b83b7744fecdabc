# The R reader (analysis/R/alignsim.R) on files the real alignsim program writes at test time:
# the frames' shapes, their values against `alignsim export` (HDF5's C++ reader, independent of
# ncdf4) and against the stored runs, the fan chart, clear errors, and the merge of the baseline's
# dyad-years with the project's copy of ATOP on ccode1, ccode2 and year with merge().
# Run by CTest: Rscript tests/R/test_alignsim.R ALIGNSIM REPO
args <- commandArgs(trailingOnly = TRUE)
stopifnot(length(args) == 2)
alignsim <- args[1]
repo <- args[2]
source(file.path(repo, "analysis", "R", "alignsim.R"))
tmp <- tempfile("alignsim_r_")
dir.create(tmp)
failures <- 0

check <- function(name, code) {
  ok <- tryCatch({ force(code); TRUE }, error = function(e) { message("FAIL  ", name, ": ", conditionMessage(e)); FALSE })
  if (ok) message("ok    ", name) else failures <<- failures + 1
}

simulate <- function(file, scenario, ...) {
  path <- file.path(tmp, file)
  status <- system2(alignsim, c(..., shQuote(scenario), "--out", shQuote(path), "-q"))
  if (status != 0) stop("alignsim exited with ", status)
  path
}

export <- function(path, table) {
  text <- system2(alignsim, c("export", shQuote(path), "--table", table), stdout = TRUE)
  read.csv(text = text, comment.char = "#", stringsAsFactors = FALSE)
}

small <- simulate("small.h5", file.path(repo, "tests", "data", "small.toml"), "run", "--runs", "32", "--seed", "5")
nc <- alignsim_open(small)

check("dyad-month frame: one row per dyad and month, ordered by ccode1 < ccode2", {
  m <- alignsim_dyad_months(nc)
  stopifnot(nrow(m) == 3 * 24, all(c("ccode1", "ccode2", "agent1", "agent2", "dyad", "year", "month", "date",
                                     "mean", "sd", "q05", "q25", "q50", "q75", "q95", "runs") %in% names(m)))
  stopifnot(all(m$ccode1 < m$ccode2), identical(unique(m$dyad), c("AA-BB", "BB-CC", "AA-CC")))
  stopifnot(identical(unique(m$agent1), c("BB", "AA")), all(m$runs == 32))
})

check("dyad-month values equal alignsim export's, read through HDF5's own library", {
  m <- alignsim_dyad_months(nc)
  e <- export(small, "dyad-month")
  both <- merge(m, e, by = c("ccode1", "ccode2", "year", "month"), suffixes = c("", ".csv"))
  stopifnot(nrow(both) == nrow(m))
  for (col in c("mean", "sd", "q05", "q50", "q95")) {
    stopifnot(max(abs(both[[col]] - both[[paste0(col, ".csv")]])) < 1e-6)
  }
})

check("the stored runs: every run and month, and their mean is the file's mean over all runs", {
  r <- alignsim_runs(nc)
  stopifnot(nrow(r) == 32 * 24 * 3, all(sort(unique(r$run)) == 0:31))
  m <- alignsim_dyad_months(nc)
  x <- r[r$dyad == "AA-CC" & r$year == 1951 & r$month == 6, "alignment"]
  known <- m[m$dyad == "AA-CC" & m$year == 1951 & m$month == 6, "mean"]
  stopifnot(length(x) == 32, abs(mean(x) - known) < 1e-6)
})

check("events: one row per event, probabilities as exported", {
  ev <- alignsim_events(nc)
  e <- export(small, "events")
  stopifnot(nrow(ev) == 6, identical(ev$event, e$event), max(abs(ev$probability - e$probability)) < 1e-7)
  stopifnot(all(ev$probability >= 0 & ev$probability <= 1), any(ev$probability < 1))
})

check("the fan chart of one dyad draws to a PNG file", {
  p <- alignsim_fan_chart(nc, "CC", "AA")
  stopifnot(inherits(p, "ggplot"), nrow(p$data) == 24, all(p$data$dyad == "AA-CC"))
  png <- file.path(tmp, "fan.png")
  ggsave(png, p, width = 6, height = 3, dpi = 72)
  stopifnot(file.size(png) > 1000)
})

check("clear errors: an unknown agent, a file that is not an alignsim file", {
  msg <- tryCatch({ alignsim_fan_chart(nc, "AA", "ZZ"); "" }, error = conditionMessage)
  stopifnot(grepl("unknown agent ZZ; agents are AA, BB, CC", msg))
  bad <- file.path(tmp, "bad.h5")
  writeLines("not a file of alignsim", bad)
  msg <- tryCatch({ alignsim_open(bad); "" }, error = conditionMessage)
  stopifnot(grepl(bad, msg, fixed = TRUE), grepl("cannot be read", msg))
})
check("a posterior ensemble's stored runs carry their draw, as the export's runs table gives it", {
  data <- file.path(repo, "tests", "data")
  posterior <- file.path(tmp, "posterior.csv")
  status <- system2(alignsim, c("calibrate", shQuote(file.path(data, "small.toml")), "--targets",
                                shQuote(file.path(data, "small_targets.toml")), "--posterior", shQuote(posterior),
                                "--particles", "40", "--generations", "2", "--runs", "16", "--seed", "5", "-q"))
  stopifnot(status == 0)
  path <- simulate("posterior.h5", file.path(data, "small.toml"), "ensemble", "--posterior", shQuote(posterior),
                   "--runs", "64", "--seed", "3", "--store-runs", "10")
  pnc <- alignsim_open(path)
  r <- alignsim_runs(pnc)
  alignsim_close(pnc)
  stopifnot(identical(names(r)[9:11], c("run", "run_draw", "alignment")), nrow(r) == 10 * 24 * 3)
  e <- export(path, "runs")
  both <- unique(merge(unique(r[, c("run", "run_draw")]), unique(e[, c("run", "run_draw")]), by = "run"))
  stopifnot(nrow(both) == 10, all(both$run_draw.x == both$run_draw.y), length(unique(both$run_draw.x)) > 1)
  stopifnot(!("run_draw" %in% names(alignsim_runs(nc))))
})
alignsim_close(nc)

check("the baseline's dyad-years merge() with ATOP on ccode1, ccode2 and year, without renaming", {
  base <- simulate("baseline.h5", file.path(repo, "scenarios", "baseline", "calibrated.toml"), "ensemble",
                   "--runs", "200", "--seed", "1947", "--store-runs", "20")
  years <- export(base, "dyad-year")
  atop <- read.csv(file.path(repo, "scenarios", "data", "ir", "atop_alliance", "atop_alliance.csv"),
                   stringsAsFactors = FALSE)
  both <- merge(years, atop, by = c("ccode1", "ccode2", "year"))
  pk_us <- both[both$dyad.x == "PK-US" & both$year >= 1954 & both$year <= 1962, ]
  stopifnot(nrow(pk_us) == 9, all(pk_us$dyad.y == "PK-US"), all(pk_us$value == 3))
  stopifnot(nrow(both) == sum(atop$year >= 1947), all(both$dyad.x == both$dyad.y))
})

message(if (failures) paste(failures, "failed") else "all passed")
quit(status = if (failures) 1 else 0)
