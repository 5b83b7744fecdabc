#include "OutputPath.hpp"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <iostream>
#include <mutex>
#include <set>

#include "StopSignals.hpp"

namespace alignsim {

namespace fs = std::filesystem;

namespace {

constexpr const char* kMarker = ".tmp-alignsim-";

std::string quoted(const fs::path& p) { return "'" + p.string() + "'"; }

std::string os_error(int error) { return std::strerror(error); }

fs::path folder_of(const fs::path& p) { return p.has_parent_path() ? p.parent_path() : fs::path("."); }

const char* kind_of(mode_t mode) {
  if (S_ISDIR(mode)) return "a folder";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISFIFO(mode)) return "a named pipe";
  if (S_ISSOCK(mode)) return "a socket";
  return "not a regular file";
}

std::size_t name_max(const fs::path& folder) {
  const long n = ::pathconf(folder.c_str(), _PC_NAME_MAX);
  return n > 0 ? static_cast<std::size_t>(n) : 255;
}

/// The paths of the live outputs of this process: two outputs of one command may not be one file.
std::mutex g_live_mutex;
std::multiset<std::string> g_live_targets;

std::mutex g_warned_mutex;
std::set<std::string> g_warned_folders;

std::atomic<unsigned> g_sequence{0};

bool same_file(const struct stat& st, const std::vector<fs::path>& inputs) {
  for (const auto& input : inputs) {
    struct stat in {};
    if (::stat(input.c_str(), &in) == 0 && in.st_dev == st.st_dev && in.st_ino == st.st_ino) return true;
  }
  return false;
}

/// Absolute and lexically normal, with the folder's symbolic links resolved: one string per place.
std::string place_of(const fs::path& target) {
  std::error_code ec;
  const fs::path p = fs::weakly_canonical(fs::absolute(target, ec), ec);
  return (ec ? target : p).lexically_normal().string();
}

/// The checks of the rule that need the file as it is now; `target` receives where to write.
void check_now(const fs::path& path, const std::vector<fs::path>& inputs, bool overwrite, const std::string& option,
               fs::path& target, bool against_live = true) {
  const std::string shown = option + " " + quoted(path);
  if (path.empty()) throw OutputRefused(option + ": an empty path; expected a file name");
  const std::string name = path.filename().string();
  if (name.empty() || name == "." || name == "..") throw OutputRefused(shown + " names a folder; expected a file name");
  target = path;
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0 && S_ISLNK(st.st_mode)) {
    // A symbolic link: the file it names is what gets written (the link keeps pointing at it).
    std::error_code ec;
    target = fs::canonical(path, ec);
    if (ec) throw OutputRefused(shown + " is a symbolic link to a file that does not exist");
  }
  const fs::path folder = folder_of(target);
  const std::size_t longest = name_max(folder);
  if (target.filename().string().size() > longest) {
    throw OutputRefused(shown + ": the file name is " + std::to_string(target.filename().string().size()) +
                        " bytes long; this file system allows at most " + std::to_string(longest));
  }
  if (::stat(target.c_str(), &st) == 0) {
    if (!S_ISREG(st.st_mode)) {
      throw OutputRefused(shown + " is " + kind_of(st.st_mode) + "; alignsim writes only regular files");
    }
    if (same_file(st, inputs)) {
      throw OutputRefused(shown + " is an input of this command; alignsim never writes over its own inputs");
    }
    if (!overwrite) throw OutputRefused(shown + " exists; pass --overwrite to replace it");
    if ((st.st_mode & (S_IWUSR | S_IWGRP | S_IWOTH)) == 0) {
      throw OutputRefused(shown + " is read-only; alignsim does not replace a write-protected file, even with "
                                  "--overwrite (make it writable first)");
    }
  } else if (errno == ENOENT || errno == ENOTDIR) {
    struct stat dir {};
    if (::stat(folder.c_str(), &dir) != 0 || !S_ISDIR(dir.st_mode)) {
      throw OutputError("cannot write " + quoted(path) + ": folder " + quoted(folder) + " does not exist");
    }
  } else {
    throw OutputError("cannot write " + quoted(path) + ": " + os_error(errno));
  }
  if (!against_live) return;
  std::lock_guard lock(g_live_mutex);
  if (g_live_targets.count(place_of(target))) {
    throw OutputRefused(shown + " is also the path of another output of this command");
  }
}

/// ".NAME.tmp-alignsim-PID-N", NAME shortened (on a UTF-8 character boundary) so that the whole
/// stays within the file system's longest name.
fs::path temporary_name(const fs::path& target) {
  const fs::path folder = folder_of(target);
  const std::string suffix = kMarker + std::to_string(::getpid()) + "-" + std::to_string(g_sequence++);
  std::string name = target.filename().string();
  const std::size_t room = name_max(folder) - 1 - suffix.size();
  if (name.size() > room) {
    std::size_t cut = room;
    while (cut > 0 && (static_cast<unsigned char>(name[cut]) & 0xC0) == 0x80) --cut;
    name.resize(cut);
  }
  return folder / ("." + name + suffix);
}

/// The process id in a temporary name of alignsim (this version's, or the ".NAME.tmp-PID" of
/// earlier ones), or 0.
long owner_of(const std::string& name) {
  if (name.size() < 2 || name[0] != '.') return 0;
  std::size_t at = name.rfind(kMarker);
  std::string digits;
  if (at != std::string::npos) {
    digits = name.substr(at + std::strlen(kMarker));
    digits = digits.substr(0, digits.find('-'));
  } else if ((at = name.rfind(".tmp-")) != std::string::npos && at > 1) {
    digits = name.substr(at + 5);
  } else {
    return 0;
  }
  if (digits.empty() || digits.size() > 9 || digits.find_first_not_of("0123456789") != std::string::npos) return 0;
  return std::stol(digits);
}

void warn_about_stale(const fs::path& folder) {
  {
    std::lock_guard lock(g_warned_mutex);
    if (!g_warned_folders.insert(place_of(folder)).second) return;
  }
  for (const auto& stale : OutputPath::stale_temporaries(folder)) {
    std::cerr << "alignsim: warning: " << quoted(stale)
              << " is a temporary file left by an alignsim process that no longer runs (killed, or the machine "
                 "stopped); it is not a result: remove it\n";
  }
}

/// Flushes a file or folder to disk; 0, or the error (file systems that cannot sync count as done).
int fsync_path(const fs::path& p, int flags) {
  const int fd = ::open(p.c_str(), flags | O_CLOEXEC);
  if (fd < 0) return errno;
  const int rc = ::fsync(fd);
  const int error = errno;
  ::close(fd);
  return rc == 0 || error == EINVAL || error == EROFS ? 0 : error;
}

}  // namespace

void OutputPath::check(const fs::path& path, const std::vector<fs::path>& inputs, bool overwrite,
                       const std::string& option) {
  fs::path target;
  check_now(path, inputs, overwrite, option, target);
}

OutputPath::OutputPath(const fs::path& path, const std::vector<fs::path>& inputs, bool overwrite, std::string option)
    : shown_(path), overwrite_(overwrite), inputs_(inputs), option_(std::move(option)) {
  check_now(shown_, inputs_, overwrite_, option_, target_);
  const fs::path folder = folder_of(target_);
  warn_about_stale(folder);
  detail::install_signal_handlers();
  struct stat existing {};
  const bool replacing = ::stat(target_.c_str(), &existing) == 0;
  for (int attempt = 0;; ++attempt) {
    temp_ = temporary_name(target_);
    // Registered before it exists, so that no signal can leave it behind.
    slot_ = detail::register_temporary(temp_.c_str());
    const int fd = ::open(temp_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd >= 0) {
      if (replacing) (void)::fchmod(fd, existing.st_mode & 07777);  // the replaced file's permissions
      ::close(fd);
      break;
    }
    const int error = errno;
    detail::unregister_temporary(slot_);
    slot_ = -1;
    if (error == EEXIST && attempt < 100) continue;
    throw OutputError("cannot write " + quoted(shown_) + ": cannot create a file in folder " + quoted(folder) + " (" +
                      os_error(error) + ")");
  }
  std::lock_guard lock(g_live_mutex);
  g_live_targets.insert(place_of(target_));
}

OutputPath::~OutputPath() {
  if (!committed_) discard();
  std::lock_guard lock(g_live_mutex);
  const auto it = g_live_targets.find(place_of(target_));
  if (it != g_live_targets.end()) g_live_targets.erase(it);
}

void OutputPath::discard() {
  if (!temp_.empty() && !committed_) ::unlink(temp_.c_str());
  detail::unregister_temporary(slot_);
  slot_ = -1;
}

void OutputPath::commit() {
  if (committed_) return;
  try {
    if (const int error = fsync_path(temp_, O_RDONLY)) {
      throw OutputError("cannot write " + quoted(shown_) + ": " +
                        (error == ENOSPC ? std::string("no space left on device") : os_error(error)));
    }
    // Whatever appeared at the final path meanwhile is judged by the same rule.
    fs::path now;
    check_now(shown_, inputs_, overwrite_, option_, now, false);
  } catch (...) {
    discard();
    throw;
  }
  int rc = 0;
  if (overwrite_) {
    rc = ::rename(temp_.c_str(), target_.c_str());
  } else {
    rc = ::renameat2(AT_FDCWD, temp_.c_str(), AT_FDCWD, target_.c_str(), RENAME_NOREPLACE);
    if (rc != 0 && (errno == EINVAL || errno == ENOSYS)) {
      // A file system without RENAME_NOREPLACE: a hard link fails too if the name is taken.
      rc = ::link(temp_.c_str(), target_.c_str());
      if (rc == 0) {
        ::unlink(temp_.c_str());
      } else if (errno == EPERM || errno == EOPNOTSUPP) {
        struct stat st {};
        rc = ::lstat(target_.c_str(), &st) == 0 ? (errno = EEXIST, -1) : ::rename(temp_.c_str(), target_.c_str());
      }
    }
  }
  if (rc != 0) {
    const int error = errno;
    discard();
    if (error == EEXIST) throw OutputError("cannot write " + quoted(shown_) + ": a file appeared there while alignsim worked; "
                                           "it was left as it is (pass --overwrite to replace it)");
    throw OutputError("cannot write " + quoted(shown_) + ": cannot rename the finished file into place (" +
                      os_error(error) + ")");
  }
  committed_ = true;
  detail::unregister_temporary(slot_);
  slot_ = -1;
  (void)fsync_path(folder_of(target_), O_RDONLY | O_DIRECTORY);  // the rename itself, made durable
}

std::vector<fs::path> OutputPath::stale_temporaries(const fs::path& folder) {
  std::vector<fs::path> out;
  std::error_code ec;
  for (fs::directory_iterator it(folder, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    const long pid = owner_of(name);
    if (pid <= 0 || pid == ::getpid() || !it->is_regular_file(ec)) continue;
    if (::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH) out.push_back(it->path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

void OutputPath::write(const std::string& text) {
  const int fd = ::open(temp_.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC);
  int error = fd < 0 ? errno : 0;
  for (std::size_t done = 0; fd >= 0 && !error && done < text.size();) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) error = errno;
    else done += static_cast<std::size_t>(n);
  }
  if (fd >= 0 && ::close(fd) != 0 && !error) error = errno;
  if (error) {
    discard();
    throw OutputError("cannot write " + quoted(shown_) + ": " +
                      (error == ENOSPC ? std::string("no space left on device") : os_error(error)));
  }
}

std::string shown_path(const std::string& argument) {
  std::error_code ec;
  if (argument.empty() || argument.front() == '-') return argument;
  const fs::path given(argument);
  // A path: one with a folder, an existing file, or a name with the extension of a file alignsim
  // reads or writes (not a number such as 0.5).
  static const std::set<std::string> kExtensions = {".toml", ".h5", ".nc", ".csv", ".json", ".md", ".png"};
  const bool path_like = argument.find('/') != std::string::npos || fs::is_regular_file(given, ec) ||
                         kExtensions.count(given.extension().string()) > 0;
  if (!path_like) return argument;
  const fs::path full = fs::weakly_canonical(fs::absolute(given, ec), ec);
  if (ec || !fs::is_directory(full.parent_path(), ec)) return argument;
  for (fs::path dir = full.parent_path(); !dir.empty(); dir = dir.parent_path()) {
    if (fs::exists(dir / ".git", ec)) return full.lexically_relative(dir).generic_string();
    if (dir == dir.root_path()) break;
  }
  return full.filename().string();
}

void write_text_output(OutputPath& out, const std::string& text) {
  out.write(text);
  out.commit();
}

}  // namespace alignsim
