// Dynamic claiming of chunks over MPI one-sided operations: counters in a window on rank 0 that every rank
// updates atomically (MPI_Fetch_and_op), so that a slow rank or a heavy image never holds the others back.
#pragma once

#include <mpi.h>

#include <cstdint>

namespace pixab {

class ChunkClaims {
 public:
  // Collective. `pending`: the length of the list of chunks to compute, the same on every rank.
  ChunkClaims(std::int64_t pending, MPI_Comm comm);
  // Collective; must be called on every rank at the same point. (The destructor does not free the window: on
  // an error path a collective could hang, and the process is aborted anyway.)
  void close();

  // The next position in the pending list for this rank, or -1 when every chunk is claimed or a stop was
  // requested by any rank.
  std::int64_t claim();

  // Asks every rank to stop claiming (a signal reached this rank).
  void request_stop();
  bool stop_requested();

  // Items committed, job-wide (for progress on rank 0).
  void add_done_items(std::int64_t items);
  std::int64_t done_items();

 private:
  std::int64_t fetch_and_op(std::int64_t value, int slot, MPI_Op op);

  MPI_Comm comm_;
  MPI_Win window_ = MPI_WIN_NULL;
  std::int64_t* counters_ = nullptr;  // on rank 0: next, stop, done
  std::int64_t pending_ = 0;
};

}  // namespace pixab
