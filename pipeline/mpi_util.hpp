// Small free functions over a plain MPI_Comm: who and where this rank is, and the few collectives the run needs.
// All MPI code of pixab lives in pipeline/.
#pragma once

#include <mpi.h>

#include <cstdint>
#include <string>
#include <vector>

namespace pixab::mpi {

// The thread support pixab needs from MPI_Init_thread: it calls MPI from the main thread only (the run's
// loop, its collectives and one-sided claims), while LibTorch and OpenCV run threads of their own that never
// call MPI.
inline constexpr int kRequiredThreadLevel = MPI_THREAD_FUNNELED;

// ConfigError naming both levels when the MPI library `provided` less than kRequiredThreadLevel.
void require_thread_level(int provided);

int rank(MPI_Comm comm = MPI_COMM_WORLD);
int size(MPI_Comm comm = MPI_COMM_WORLD);

// This rank's index among the ranks on its node, and their count (MPI_Comm_split_type SHARED).
struct NodePlace {
  int local_rank = 0;
  int local_size = 1;
};
NodePlace node_place(MPI_Comm comm = MPI_COMM_WORLD);

// How many ranks of this node (this one included) hold the same `value` (collective): e.g. ranks that share one
// CPU affinity share its cores.
int node_ranks_with_same(const std::string& value, MPI_Comm comm = MPI_COMM_WORLD);

// Every rank's host name, in rank order (collective).
std::vector<std::string> all_hostnames(MPI_Comm comm = MPI_COMM_WORLD);

// `text` of `root` on every rank (collective).
std::string broadcast(const std::string& text, int root = 0, MPI_Comm comm = MPI_COMM_WORLD);
std::int64_t broadcast(std::int64_t value, int root = 0, MPI_Comm comm = MPI_COMM_WORLD);

// True on every rank when it is true on any (collective).
bool any(bool value, MPI_Comm comm = MPI_COMM_WORLD);

// Drives MPI's progress engine once, so that one-sided requests aimed at this rank are served while it is busy
// with other work (needed where the transport has no hardware progress, e.g. TCP between nodes).
void poke_progress(MPI_Comm comm = MPI_COMM_WORLD);

// A barrier that keeps `while_waiting` running (e.g. serving claims, logging progress) until every rank has
// arrived: a rank that is done early must not stop serving the others.
template <typename Work>
void barrier_serving(Work&& while_waiting, MPI_Comm comm = MPI_COMM_WORLD) {
  MPI_Request request;
  MPI_Ibarrier(comm, &request);
  int done = 0;
  MPI_Test(&request, &done, MPI_STATUS_IGNORE);
  while (!done) {
    while_waiting();
    MPI_Test(&request, &done, MPI_STATUS_IGNORE);
  }
}

}  // namespace pixab::mpi
