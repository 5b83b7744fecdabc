#pragma once
/// The one rule every command that writes a file follows (docs/reliability.md):
///  - an existing file is refused unless the command was given `--overwrite`;
///  - a path that is an input of the same command is always refused (also with `--overwrite`);
///  - only regular files are written or replaced: never a folder, device, pipe or socket, and never
///    a read-only file;
///  - the file is written under a temporary name in its own folder (short enough for any valid
///    name) and renamed to its name only when complete;
///  - on failure, or when a signal ends the program, nothing is left under the final name and no
///    temporary file is left.
/// Free of HDF5: CSV, TOML, Markdown and HDF5 writers all go through it.

#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

namespace alignsim {

/// An error writing an output (a missing folder, a full disk): the message names the file. Exit 1.
class OutputError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// An output the rule refuses before any work is done (it exists, it is an input, it is not a
/// regular file, its name is too long): the message names the file and says why. Exit 2.
class OutputRefused : public OutputError {
 public:
  using OutputError::OutputError;
};

/// One output file of a command. Create it before the work starts: the constructor checks the rule
/// and creates an empty temporary file beside the final path. Write to temp_path(), then commit().
/// Destroyed uncommitted (an error), or ended by a signal, it removes its temporary file.
class OutputPath {
 public:
  /// `option` names the output in messages (e.g. "--out"); `inputs` are every file the command
  /// reads (a scenario's included and extended files too). Throws OutputRefused or OutputError.
  OutputPath(const std::filesystem::path& path, const std::vector<std::filesystem::path>& inputs, bool overwrite,
             std::string option = "output");
  ~OutputPath();
  OutputPath(const OutputPath&) = delete;
  OutputPath& operator=(const OutputPath&) = delete;

  /// The final path as the user gave it.
  const std::filesystem::path& path() const { return shown_; }
  /// Where the content goes until commit().
  const std::filesystem::path& temp_path() const { return temp_; }

  /// Writes `text` as the whole temporary file (CSV, TOML, Markdown, JSON); throws OutputError,
  /// having removed it. commit() then puts it in place.
  void write(const std::string& text);

  /// Flushes the temporary file to disk and renames it to the final path. Without `--overwrite`
  /// it never replaces a file that appeared there meanwhile. Throws OutputError.
  void commit();
  /// Removes the temporary file now; nothing is written.
  void discard();
  bool committed() const { return committed_; }

  /// Checks the rule without creating anything (the constructor checks it again).
  static void check(const std::filesystem::path& path, const std::vector<std::filesystem::path>& inputs,
                    bool overwrite, const std::string& option = "output");

  /// Temporary files in `folder` left by alignsim processes that no longer run (killed, or a
  /// crash of the machine): none of them is a result. The constructor warns about them on stderr.
  static std::vector<std::filesystem::path> stale_temporaries(const std::filesystem::path& folder);

 private:
  std::filesystem::path shown_;   ///< as given
  std::filesystem::path target_;  ///< where the file goes: the given path, or the file a symbolic link names
  std::filesystem::path temp_;
  bool overwrite_ = false;
  std::vector<std::filesystem::path> inputs_;
  std::string option_;
  int slot_ = -1;  ///< in the registry of temporary files removed on a signal
  bool committed_ = false;
};

/// How a path given on the command line is stored in an output (the history of a file, the files
/// a comparison names, a calibration's command): relative to the root of the git repository that
/// holds it, or its file name alone when no repository does, so that files and committed results
/// do not depend on where a clone lies. Arguments that are not paths are returned as they are.
std::string shown_path(const std::string& argument);

/// out.write(text), then out.commit(). Throws OutputError.
void write_text_output(OutputPath& out, const std::string& text);

}  // namespace alignsim
