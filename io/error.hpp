// The project's exception hierarchy: one base, one class per kind of failure, each mapped to an exit code by
// main.
#pragma once

#include <stdexcept>
#include <string>

namespace pixab {

// Base of every error pixab raises on purpose; anything else reaching main is an internal error.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Bad command line or configuration: exit code 1, before any work starts.
class ConfigError : public Error {
 public:
  using Error::Error;
};

// One input item (an image, an annotation) cannot be used: recorded in the item's status, the run goes on.
class InputError : public Error {
 public:
  using Error::Error;
};

// A model file breaks the model contract (docs/model-contract.md).
class ModelError : public Error {
 public:
  using Error::Error;
};

// A file could not be read or written (HDF5, results, datasets).
class IoError : public Error {
 public:
  using Error::Error;
};

}  // namespace pixab
