# Read alignsim ensemble files in R, with ncdf4, and draw a dyad's fan chart with ggplot2.
#
# Debian's packages are enough: r-base-core, r-cran-ncdf4, r-cran-ggplot2 (.ci/install-deps).
# The output file is netCDF-4 (docs/output-format.md); these functions turn it into tidy data
# frames whose dyad columns match `alignsim export`: ccode1 < ccode2 (Correlates of War codes,
# peacesciencer's non-directed order), agent1, agent2 (the agents with those codes) and dyad
# (the two ids sorted alphabetically, as in scenarios/data/ir/).
#
#   source("analysis/R/alignsim.R")
#   nc <- alignsim_open("results/runs/baseline.h5")
#   months <- alignsim_dyad_months(nc)      # mean, sd and quantiles of M over all runs, per month
#   events <- alignsim_events(nc)           # each event's probability
#   runs <- alignsim_runs(nc, dyads = "PK-US")  # M of the stored runs, per month
#   alignsim_fan_chart(nc, "PK", "US")      # a ggplot: mean, quantile bands, a few stored runs
#   alignsim_close(nc)
#
# M = (W + W^T) / 2 is the dyad alignment in [-1, 1]; the file's summaries are of M over all runs.

suppressPackageStartupMessages({
  library(ncdf4)
  library(ggplot2)
})

# Reads an attribute without ncdf4's printed note on 64-bit integers (seed, runs): they come back
# as doubles, exact below 2^53.
.alignsim_att <- function(nc, name) {
  value <- NULL
  utils::capture.output(value <- ncatt_get(nc, 0, name))
  if (!isTRUE(value$hasatt)) return(NA)
  value$value
}

# Opens an alignsim ensemble file; stops with a message naming the file when it is not one.
alignsim_open <- function(path) {
  if (!file.exists(path)) stop(sprintf("%s: no such file", path), call. = FALSE)
  nc <- tryCatch(nc_open(path), error = function(e) {
    stop(sprintf("%s: cannot be read as netCDF-4/HDF5 (%s); is it an alignsim ensemble file?", path,
                 conditionMessage(e)), call. = FALSE)
  })
  if (!identical(.alignsim_att(nc, "format"), "alignsim-ensemble")) {
    nc_close(nc)
    stop(sprintf("%s: not an alignsim ensemble file (no format = \"alignsim-ensemble\")", path), call. = FALSE)
  }
  if (!identical(.alignsim_att(nc, "status"), "complete")) {
    warning(sprintf("%s: status is \"%s\": it holds only the runs finished", path, .alignsim_att(nc, "status")))
  }
  nc
}

alignsim_close <- function(nc) invisible(nc_close(nc))

# Title, seed and run counts of the file, as a list.
alignsim_describe <- function(nc) {
  list(title = .alignsim_att(nc, "title"), seed = .alignsim_att(nc, "seed"), runs = .alignsim_att(nc, "runs"),
       stored_runs = .alignsim_att(nc, "stored_runs"), status = .alignsim_att(nc, "status"),
       file = nc$filename)
}

# One row per dyad: indices a, b (1-based, into the agent axis) with ccode[a] < ccode[b], ordered
# by ccode1 then ccode2; dyads with an agent lacking a code follow, in agent order.
alignsim_dyads <- function(nc) {
  agents <- as.vector(ncvar_get(nc, "agent"))
  codes <- if ("agent_ccode" %in% names(nc$var)) as.vector(ncvar_get(nc, "agent_ccode")) else rep(NA, length(agents))
  pairs <- utils::combn(length(agents), 2)
  a <- pairs[1, ]
  b <- pairs[2, ]
  swap <- !is.na(codes[a]) & !is.na(codes[b]) & codes[b] < codes[a]
  first <- ifelse(swap, b, a)
  second <- ifelse(swap, a, b)
  d <- data.frame(a = first, b = second, ccode1 = codes[first], ccode2 = codes[second],
                  agent1 = agents[first], agent2 = agents[second],
                  dyad = paste(pmin(agents[first], agents[second]), pmax(agents[first], agents[second]), sep = "-"),
                  stringsAsFactors = FALSE)
  coded <- !is.na(d$ccode1) & !is.na(d$ccode2)
  d <- d[order(!coded, d$ccode1, d$ccode2, pmin(d$a, d$b), pmax(d$a, d$b)), ]
  rownames(d) <- NULL
  d
}

# Column names of quantile levels, as `alignsim export` writes them: 0.05 -> q05, 0.975 -> q97.5.
alignsim_quantile_names <- function(levels, prefix = "") {
  percent <- round(levels * 100, 4)
  paste0(prefix, "q", ifelse(percent < 10, "0", ""), format(percent, trim = TRUE, drop0trailing = TRUE))
}

.alignsim_time <- function(nc) {
  month <- as.vector(ncvar_get(nc, "month"))
  data.frame(year = as.integer(substr(month, 1, 4)), month = as.integer(substr(month, 6, 7)),
             date = as.Date(paste0(month, "-01")))
}

# The dyad-month summaries over all runs: one row per dyad and month, with the dyad columns, year,
# month, date (the month's first day), mean, sd and one column per stored quantile level of M, and runs.
alignsim_dyad_months <- function(nc) {
  time <- .alignsim_time(nc)
  dyads <- alignsim_dyads(nc)
  # ncdf4 gives the file's (time, agent, other) as [other, agent, time]; M is symmetric.
  mean <- ncvar_get(nc, "alignment_mean", collapse_degen = FALSE)
  sd <- ncvar_get(nc, "alignment_std", collapse_degen = FALSE)
  quantile <- ncvar_get(nc, "alignment_quantile", collapse_degen = FALSE)
  levels <- as.vector(ncvar_get(nc, "quantile"))
  runs <- .alignsim_att(nc, "runs")
  frames <- lapply(seq_len(nrow(dyads)), function(k) {
    a <- dyads$a[k]
    b <- dyads$b[k]
    f <- cbind(dyads[rep(k, nrow(time)), c("ccode1", "ccode2", "agent1", "agent2", "dyad")], time,
               mean = mean[b, a, ], sd = sd[b, a, ])
    for (q in seq_along(levels)) f[[alignsim_quantile_names(levels[q])]] <- quantile[b, a, , q]
    f$runs <- runs
    f
  })
  out <- do.call(rbind, frames)
  rownames(out) <- NULL
  out
}

# One row per event: id, scheduled date, kind, title and probability (share of all runs in which it happened).
alignsim_events <- function(nc) {
  data.frame(event = as.vector(ncvar_get(nc, "event")), date = as.vector(ncvar_get(nc, "event_date")),
             kind = as.vector(ncvar_get(nc, "event_kind")), title = as.vector(ncvar_get(nc, "event_title")),
             probability = as.vector(ncvar_get(nc, "event_probability")), stringsAsFactors = FALSE)
}

# The stored runs' M, long: one row per stored run, dyad and month (run is the run index).
# `dyads` picks dyads by their `dyad` id (e.g. "PK-US"); `max_runs` the first stored runs only.
# For a posterior ensemble (`alignsim ensemble --posterior`) a run_draw column follows run: the row
# of the posterior file (from 0) whose parameters the run used, as the file's run_draw holds it.
alignsim_runs <- function(nc, dyads = NULL, max_runs = Inf) {
  time <- .alignsim_time(nc)
  pairs <- alignsim_dyads(nc)
  if (!is.null(dyads)) {
    unknown <- setdiff(dyads, pairs$dyad)
    if (length(unknown)) stop(sprintf("unknown dyad %s; dyads are %s", unknown[1], paste(pairs$dyad, collapse = ", ")),
                              call. = FALSE)
    pairs <- pairs[pairs$dyad %in% dyads, ]
  }
  stored <- nc$dim$sample$len
  count <- min(stored, max_runs)
  if (count == 0) return(cbind(pairs[0, c("ccode1", "ccode2", "agent1", "agent2", "dyad")], time[0, ],
                               run = integer(0), alignment = numeric(0)))
  run <- as.vector(ncvar_get(nc, "sample_run"))[seq_len(count)]
  draw <- if ("run_draw" %in% names(nc$var)) as.vector(ncvar_get(nc, "run_draw"))[run + 1] else NULL
  n <- nc$dim$agent$len
  # The file's (sample, time, agent, other) comes as [other, agent, time, sample].
  w <- ncvar_get(nc, "alignment", start = c(1, 1, 1, 1), count = c(n, n, -1, count), collapse_degen = FALSE)
  per_dyad <- nrow(time) * count
  rows <- rep(seq_len(nrow(pairs)), each = per_dyad)
  steps <- rep(seq_len(nrow(time)), count * nrow(pairs))
  m <- unlist(lapply(seq_len(nrow(pairs)), function(k) {
    a <- pairs$a[k]
    b <- pairs$b[k]
    as.vector((w[b, a, , , drop = FALSE] + w[a, b, , , drop = FALSE]) / 2)  # time fastest, then run
  }))
  out <- data.frame(ccode1 = pairs$ccode1[rows], ccode2 = pairs$ccode2[rows], agent1 = pairs$agent1[rows],
                    agent2 = pairs$agent2[rows], dyad = pairs$dyad[rows], year = time$year[steps],
                    month = time$month[steps], date = time$date[steps],
                    run = rep(rep(run, each = nrow(time)), nrow(pairs)), alignment = m, stringsAsFactors = FALSE)
  if (!is.null(draw)) {
    out <- cbind(out[, c("ccode1", "ccode2", "agent1", "agent2", "dyad", "year", "month", "date", "run")],
                 run_draw = rep(rep(draw, each = nrow(time)), nrow(pairs)), alignment = out$alignment)
  }
  out
}

# The fan chart of one dyad: the mean of M over all runs, the quantile bands the file stores
# (each pair q, 1 - q, lighter outward) and the first `runs_shown` stored runs as thin lines.
alignsim_fan_chart <- function(nc, a, b, runs_shown = 5) {
  agents <- as.vector(ncvar_get(nc, "agent"))
  for (id in c(a, b)) {
    if (!id %in% agents) stop(sprintf("unknown agent %s; agents are %s", id, paste(agents, collapse = ", ")),
                              call. = FALSE)
  }
  dyad <- paste(sort(c(a, b)), collapse = "-")
  months <- alignsim_dyad_months(nc)
  d <- months[months$dyad == dyad, ]
  levels <- as.vector(ncvar_get(nc, "quantile"))
  lower <- sort(levels[levels < 0.5 & (1 - levels) %in% levels])
  info <- alignsim_describe(nc)
  p <- ggplot(d, aes(x = date))
  for (k in seq_along(lower)) {
    band <- data.frame(date = d$date, lo = d[[alignsim_quantile_names(lower[k])]],
                       hi = d[[alignsim_quantile_names(1 - lower[k])]])
    p <- p + geom_ribbon(data = band, aes(ymin = lo, ymax = hi), fill = "steelblue", alpha = 0.15 + 0.2 * (k - 1))
  }
  if (runs_shown > 0) {
    runs <- alignsim_runs(nc, dyads = dyad, max_runs = runs_shown)
    if (nrow(runs)) p <- p + geom_line(data = runs, aes(y = alignment, group = run), colour = "grey30", linewidth = 0.2)
  }
  bands <- if (length(lower)) paste0(", bands ", paste(sprintf("%g-%g%%", 100 * lower, 100 * (1 - lower)), collapse = " and "))
  p + geom_line(aes(y = mean), colour = "navy", linewidth = 0.8) +
    geom_hline(yintercept = 0, colour = "grey50", linewidth = 0.3) +
    coord_cartesian(ylim = c(-1, 1)) +
    labs(x = NULL, y = sprintf("alignment M[%s, %s]", a, b), title = sprintf("%s and %s", a, b),
         subtitle = sprintf("%s\nmean of %s runs (seed %s)%s; %d stored runs", info$title,
                            format(info$runs, big.mark = ","), format(info$seed, scientific = FALSE),
                            if (is.null(bands)) "" else bands, min(runs_shown, info$stored_runs))) +
    theme_minimal()
}
