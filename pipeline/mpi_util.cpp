// MPI helpers for the run (see mpi_util.hpp).
#include "pipeline/mpi_util.hpp"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include "io/error.hpp"

namespace pixab::mpi {

namespace {

std::string thread_level_name(int level) {
  switch (level) {
    case MPI_THREAD_SINGLE:
      return "MPI_THREAD_SINGLE";
    case MPI_THREAD_FUNNELED:
      return "MPI_THREAD_FUNNELED";
    case MPI_THREAD_SERIALIZED:
      return "MPI_THREAD_SERIALIZED";
    case MPI_THREAD_MULTIPLE:
      return "MPI_THREAD_MULTIPLE";
    default:
      return "thread level " + std::to_string(level);
  }
}

}  // namespace

void require_thread_level(int provided) {
  if (provided >= kRequiredThreadLevel) return;
  throw ConfigError("the MPI library provides " + thread_level_name(provided) + ", pixab needs " +
                    thread_level_name(kRequiredThreadLevel) +
                    " (MPI calls from the main thread while LibTorch runs threads of its own); use an MPI "
                    "built with thread support");
}

int rank(MPI_Comm comm) {
  int r = 0;
  MPI_Comm_rank(comm, &r);
  return r;
}

int size(MPI_Comm comm) {
  int s = 1;
  MPI_Comm_size(comm, &s);
  return s;
}

NodePlace node_place(MPI_Comm comm) {
  MPI_Comm node;
  MPI_Comm_split_type(comm, MPI_COMM_TYPE_SHARED, rank(comm), MPI_INFO_NULL, &node);
  NodePlace place{rank(node), size(node)};
  MPI_Comm_free(&node);
  return place;
}

int node_ranks_with_same(const std::string& value, MPI_Comm comm) {
  MPI_Comm node;
  MPI_Comm_split_type(comm, MPI_COMM_TYPE_SHARED, rank(comm), MPI_INFO_NULL, &node);
  const int mine = static_cast<int>(value.size());
  std::vector<int> lengths(static_cast<std::size_t>(size(node)));
  MPI_Allgather(&mine, 1, MPI_INT, lengths.data(), 1, MPI_INT, node);
  std::vector<int> offsets(lengths.size(), 0);
  for (std::size_t r = 1; r < lengths.size(); ++r) offsets[r] = offsets[r - 1] + lengths[r - 1];
  std::string all(static_cast<std::size_t>(offsets.back() + lengths.back()), '\0');
  MPI_Allgatherv(value.data(), mine, MPI_CHAR, all.data(), lengths.data(), offsets.data(), MPI_CHAR, node);
  MPI_Comm_free(&node);
  int same = 0;
  for (std::size_t r = 0; r < lengths.size(); ++r)
    same +=
        all.compare(static_cast<std::size_t>(offsets[r]), static_cast<std::size_t>(lengths[r]), value) == 0;
  return same;
}

std::vector<std::string> all_hostnames(MPI_Comm comm) {
  char name[MPI_MAX_PROCESSOR_NAME] = {};
  gethostname(name, sizeof name - 1);
  std::vector<char> all(static_cast<std::size_t>(size(comm)) * MPI_MAX_PROCESSOR_NAME);
  MPI_Allgather(name, MPI_MAX_PROCESSOR_NAME, MPI_CHAR, all.data(), MPI_MAX_PROCESSOR_NAME, MPI_CHAR, comm);
  std::vector<std::string> names;
  for (std::size_t r = 0; r < all.size() / MPI_MAX_PROCESSOR_NAME; ++r)
    names.emplace_back(all.data() + r * MPI_MAX_PROCESSOR_NAME);
  return names;
}

std::string broadcast(const std::string& text, int root, MPI_Comm comm) {
  const auto length = static_cast<std::size_t>(broadcast(static_cast<std::int64_t>(text.size()), root, comm));
  std::string out = rank(comm) == root ? text : std::string(length, '\0');
  // MPI counts are ints: a text over 2 GiB (e.g. a large COCO annotation file) goes in pieces.
  constexpr std::size_t kPiece = std::size_t{1} << 30;
  for (std::size_t at = 0; at < length; at += kPiece) {
    MPI_Bcast(out.data() + at, static_cast<int>(std::min(kPiece, length - at)), MPI_CHAR, root, comm);
  }
  return out;
}

std::int64_t broadcast(std::int64_t value, int root, MPI_Comm comm) {
  MPI_Bcast(&value, 1, MPI_INT64_T, root, comm);
  return value;
}

bool any(bool value, MPI_Comm comm) {
  int local = value ? 1 : 0, global = 0;
  MPI_Allreduce(&local, &global, 1, MPI_INT, MPI_LOR, comm);
  return global != 0;
}

void poke_progress(MPI_Comm comm) {
  int flag = 0;
  MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, comm, &flag, MPI_STATUS_IGNORE);
}

}  // namespace pixab::mpi
