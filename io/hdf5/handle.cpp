// Checked HDF5 C calls and RAII handles for HDF5 ids: every failure is one IoError naming file and object.
#include "io/hdf5/handle.hpp"

#include <utility>
#include <vector>

#include "io/error.hpp"

namespace pixab::hdf5 {
namespace {

// HDF5 calls this from C code: nothing may escape it.
herr_t collect_error_description(unsigned /*depth*/, const H5E_error2_t* error, void* descriptions) noexcept {
  try {
    static_cast<std::vector<std::string>*>(descriptions)->emplace_back(error->desc ? error->desc : "");
    return 0;
  } catch (...) {
    return -1;
  }
}

// The failed API call's own message says what could not be done; the innermost entry usually says why
// (e.g. "unable to open file (file signature not found)").
std::string current_error_reason() {
  std::vector<std::string> descriptions;
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, collect_error_description, &descriptions);
  H5Eclear2(H5E_DEFAULT);
  if (descriptions.empty()) return "no reason given by HDF5";
  if (descriptions.size() == 1 || descriptions.front() == descriptions.back()) return descriptions.front();
  return descriptions.front() + " (" + descriptions.back() + ")";
}

// Each kind of id has its own close function, and H5Fclose is the one that writes a file's metadata out.
herr_t close_id(hid_t id) {
  switch (H5Iget_type(id)) {
    case H5I_FILE:
      return H5Fclose(id);
    case H5I_GROUP:
      return H5Gclose(id);
    case H5I_DATASET:
      return H5Dclose(id);
    case H5I_DATASPACE:
      return H5Sclose(id);
    case H5I_DATATYPE:
      return H5Tclose(id);
    case H5I_ATTR:
      return H5Aclose(id);
    case H5I_GENPROP_LST:
      return H5Pclose(id);
    default:
      return H5Idec_ref(id) < 0 ? -1 : 0;
  }
}

}  // namespace

Site Site::child(const std::string& name) const {
  if (object.empty() || object == "/") return Site{file, "/" + name};
  return Site{file, object + "/" + name};
}

void silence_error_printing() { H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr); }

void throw_hdf5_error(const Site& site, const std::string& action) {
  throw IoError("HDF5 failed to " + action + " at '" + site.object + "' in '" + site.file +
                "': " + current_error_reason());
}

Handle::Handle(hid_t id, Site site, const std::string& action) : site_(std::move(site)) {
  id_ = check(id, site_, action);
}

Handle::~Handle() {
  if (id_ >= 0) {
    close_id(id_);
    H5Eclear2(H5E_DEFAULT);
  }
}

Handle::Handle(Handle&& other) noexcept
    : id_(std::exchange(other.id_, H5I_INVALID_HID)), site_(std::move(other.site_)) {}

Handle& Handle::operator=(Handle&& other) noexcept {
  if (this != &other) {
    Handle doomed(std::move(*this));
    id_ = std::exchange(other.id_, H5I_INVALID_HID);
    site_ = std::move(other.site_);
  }
  return *this;
}

void Handle::close() {
  if (id_ < 0) return;
  const hid_t id = std::exchange(id_, H5I_INVALID_HID);
  check(close_id(id), site_, "close");
}

}  // namespace pixab::hdf5
