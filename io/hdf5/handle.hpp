// Checked HDF5 C calls and RAII handles for HDF5 ids: every failure is one IoError naming file and object.
#pragma once

#include <hdf5.h>

#include <string>
#include <type_traits>

namespace pixab::hdf5 {

// Where an HDF5 call acts, so that an error can name it: the file on disk and the object's path inside it.
struct Site {
  std::string file;
  std::string object = "/";

  // The site of `name` below this object ("/" + "items" -> "/items").
  Site child(const std::string& name) const;
};

// HDF5 prints its whole error stack to stderr on every failed call, even an expected and handled one; pixab
// reports failures through IoError instead. Applies to the calling thread's default error stack.
void silence_error_printing();

// Throws IoError "HDF5 failed to <action> at '<object>' in '<file>': <HDF5's reason>", the reason taken from
// the current HDF5 error stack (the API call's message and, when different, the innermost cause).
[[noreturn]] void throw_hdf5_error(const Site& site, const std::string& action);

// Every HDF5 C call that can fail goes through here. Signed results (hid_t, herr_t, htri_t, the enums) signal
// failure by a negative value; the size_t ones (H5Tget_size) by zero.
template <typename Result>
Result check(Result result, const Site& site, const std::string& action) {
  bool failed = false;
  if constexpr (std::is_unsigned_v<Result>) {
    failed = result == 0;
  } else {
    failed = result < 0;
  }
  if (failed) throw_hdf5_error(site, action);
  return result;
}

// Owns one HDF5 id (file, group, dataset, dataspace, datatype, property list or attribute) and remembers its
// site. The destructor closes quietly because it may run while an exception unwinds; `close()` reports
// failure, for the file close whose success the atomic write depends on.
class Handle {
 public:
  Handle() = default;
  // Takes ownership of `id`, the result of a call that was to `action`; throws IoError when the call failed.
  Handle(hid_t id, Site site, const std::string& action);
  ~Handle();

  Handle(Handle&& other) noexcept;
  Handle& operator=(Handle&& other) noexcept;
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;

  hid_t id() const { return id_; }
  const Site& site() const { return site_; }

  // Closes now and throws IoError when HDF5 reports that the close failed (for a file: data not written out).
  void close();

 private:
  hid_t id_ = H5I_INVALID_HID;
  Site site_;
};

}  // namespace pixab::hdf5
