// TempDir: a fresh directory under the system temp directory, removed with
// everything in it when the object goes. For the storage tests.
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <stdexcept>
#include <string>

namespace furrsight::workers::testing {

class TempDir {
 public:
  explicit TempDir(const std::string& label) {
    std::string tmpl = (std::filesystem::temp_directory_path() / ("furrsight-" + label + "-XXXXXX")).string();
    if (mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed for " + tmpl);
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

}  // namespace furrsight::workers::testing
